package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

type needListData struct {
	Rows       []needLine
	Next       string // link to the next page, "" on the last
	Filters    bool   // the filters form shows (animateurs, admins, referents)
	Status     []option
	Basket     []option
	Subjects   []subjectGroup
	Orgs       []option
	Regions    []option
	Deps       []option
	EPCIs      []option
	Commune    string
	From, To   string
	Errors     formErrors
	ShowBasket bool
	// ShowSF: the caller may see Signaux Faibles alerts (animateurs,
	// admins): the filter shows, and the rows carry their badge.
	ShowSF     bool
	SFAlert    []option
	Query      string // the filters, for "page suivante"
	Mine       bool   // an advisor's own needs
	CanCapture bool
}

// needLine is a need of a list with its last step.
type needLine struct {
	app.NeedRow
	LastStep   string
	LastStepAt time.Time
}

// lastStep names the latest thing that happened to a need, from the
// instants its row keeps.
func lastStep(n app.NeedRow) (string, time.Time) {
	step, at := "Besoin saisi", n.CapturedAt
	for _, s := range []struct {
		label string
		t     *time.Time
	}{{"Mise en relation", n.ForwardedAt}, {"Prise en charge", n.FirstTakeChargeAt}, {"Relance", n.LastReminderAt},
		{"Clôture", n.ClosedAt}, {"Abandon", n.AbandonedAt}} {
		if s.t != nil && !s.t.Before(at) {
			step, at = s.label, *s.t
		}
	}
	return step, at
}

// subjectGroup is a theme and its subjects, for a select's optgroups.
type subjectGroup struct {
	Label    string
	Subjects []option
}

func subjectGroups(selected string) []subjectGroup {
	var out []subjectGroup
	idx := map[string]int{}
	for _, t := range domain.Themes() {
		idx[t.Code] = len(out)
		out = append(out, subjectGroup{Label: t.Label})
	}
	for _, s := range domain.Subjects() {
		i := idx[s.Theme]
		out[i].Subjects = append(out[i].Subjects, option{Value: s.Code, Label: s.Label, Selected: s.Code == selected})
	}
	return out
}

func options(values []string, label func(string) string, selected string) []option {
	out := make([]option, 0, len(values))
	for _, v := range values {
		out = append(out, option{Value: v, Label: label(v), Selected: v == selected})
	}
	return out
}

// needList lists needs: an advisor's own, a referent's, an animateur's
// territory, everything for an admin; with filters.
func (c *console) needList(w http.ResponseWriter, r *http.Request, p app.Principal) {
	v := r.URL.Query()
	q := app.NeedQuery{Status: v.Get("statut"), Basket: v.Get("relance"), Subject: v.Get("sujet"),
		Region: v.Get("region"), Departement: v.Get("departement"), EPCI: v.Get("epci"), Cursor: v.Get("page"), Limit: 50}
	d := needListData{Mine: p.Role == domain.RoleAdvisor, CanCapture: app.Allowed(p.Role, app.ActionCaptureNeed),
		Filters: p.Role != domain.RoleAdvisor, ShowBasket: p.Role == domain.RoleAnimateur || p.Role == domain.RoleAdmin}
	if !slices.Contains(app.NeedStatuses(), q.Status) {
		q.Status = ""
	}
	d.ShowSF = app.Allowed(p.Role, app.ActionSFFlags)
	// A role that may not see alerts and asks for the filter anyway gets
	// the service's refusal, not a silently unfiltered list.
	q.SFAlert = v.Get("alerte")
	if d.ShowSF && !slices.Contains(app.SFAlertFilters(), q.SFAlert) {
		q.SFAlert = ""
	}
	if !slices.Contains(app.Baskets(), q.Basket) {
		q.Basket = ""
	}
	if _, ok := domain.SubjectByCode(q.Subject); !ok {
		q.Subject = ""
	}
	if o := v.Get("organisation"); o != "" {
		if id, err := uuid.Parse(o); err == nil {
			q.Organisation = id
		}
	}
	d.Commune = strings.TrimSpace(v.Get("commune"))
	if d.Commune != "" {
		cm, cands := c.geo.resolve(d.Commune)
		switch {
		case cm.Code != "":
			q.Commune, d.Commune = cm.Code, communeLabel(cm)
		case len(cands) == 0:
			d.Errors.add("commune", "Aucune commune ne correspond à « "+d.Commune+" ».")
		default:
			d.Errors.add("commune", "Plusieurs communes correspondent : précisez le code postal, par exemple « "+communeLabel(cands[0])+" ».")
		}
	}
	d.From, d.To = v.Get("du"), v.Get("au")
	if d.From != "" {
		if t, ok := parseDay(d.From); ok {
			q.CapturedFrom = t
		} else {
			d.Errors.add("du", "Saisissez une date au format JJ/MM/AAAA.")
		}
	}
	if d.To != "" {
		if t, ok := parseDay(d.To); ok {
			q.CapturedTo = t.AddDate(0, 0, 1) // the whole day
		} else {
			d.Errors.add("au", "Saisissez une date au format JJ/MM/AAAA.")
		}
	}
	if !q.CapturedFrom.IsZero() && !q.CapturedTo.IsZero() && !q.CapturedFrom.Before(q.CapturedTo) {
		d.Errors.add("au", "La date de fin doit suivre la date de début.")
	}
	if d.Filters {
		if err := c.fillFilters(r, p, &d, q); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	status := http.StatusOK
	if d.Errors.Any() {
		status = http.StatusUnprocessableEntity
	} else {
		page, err := c.d.Service.ListNeeds(r.Context(), p, q)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		for _, n := range page.Items {
			step, at := lastStep(n)
			d.Rows = append(d.Rows, needLine{NeedRow: n, LastStep: step, LastStepAt: at})
		}
		if page.NextCursor != "" {
			d.Next = nextPage("/besoins", v, page.NextCursor)
		}
	}
	title := "Besoins"
	if d.Mine {
		title = "Mes besoins"
	}
	c.render(w, r, p, status, "needs", title, d)
}

// fillFilters fills the filters' choices: statuses, baskets, subjects,
// organisations and the territories p may choose among.
func (c *console) fillFilters(r *http.Request, p app.Principal, d *needListData, q app.NeedQuery) error {
	d.Status = options(app.NeedStatuses(), needStatusLabel, q.Status)
	d.Basket = options(app.Baskets(), basketLabel, q.Basket)
	if d.ShowSF {
		d.SFAlert = options(app.SFAlertFilters(), sfFilterLabel, q.SFAlert)
	}
	d.Subjects = subjectGroups(q.Subject)
	orgs, err := c.d.Service.Organisations(r.Context(), p)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, option{Value: o.ID.String(), Label: o.Name, Selected: o.ID == q.Organisation})
	}
	geo := c.d.Service.Geography()
	scope := newScopeChoices(geo, p)
	for _, rg := range geo.Regions() {
		if scope.region(rg.Code) {
			d.Regions = append(d.Regions, option{Value: rg.Code, Label: rg.Name, Selected: rg.Code == q.Region})
		}
	}
	for _, dp := range geo.Departements() {
		if scope.dep(dp.Code) {
			d.Deps = append(d.Deps, option{Value: dp.Code, Label: dp.Code + " – " + dp.Name, Selected: dp.Code == q.Departement})
		}
	}
	// EPCIs are many: the choice is offered within a département (the one
	// chosen, or an animateur's own).
	var within []domain.Zone
	switch {
	case q.Departement != "":
		within = []domain.Zone{{Level: domain.LevelDepartement, Code: q.Departement}}
	case p.Role == domain.RoleAnimateur:
		within = p.Territories
	}
	seen := map[string]bool{}
	for _, z := range within {
		if z.Level == domain.LevelNational || z.Level == domain.LevelRegion {
			continue
		}
		for _, cm := range geo.CommunesIn(z) {
			if cm.EPCI == "" || seen[cm.EPCI] {
				continue
			}
			seen[cm.EPCI] = true
			d.EPCIs = append(d.EPCIs, option{Value: cm.EPCI, Label: cm.EPCIName, Selected: cm.EPCI == q.EPCI})
		}
	}
	slices.SortFunc(d.EPCIs, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return nil
}

// nextPage is the link to the page after this one: path with the same
// query, but its cursor.
func nextPage(path string, query url.Values, cursor string) string {
	nv := url.Values{}
	for k, vals := range query {
		if k != "page" {
			nv[k] = vals
		}
	}
	nv.Set("page", cursor)
	return path + "?" + nv.Encode()
}
