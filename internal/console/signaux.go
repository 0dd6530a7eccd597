package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// Signaux Faibles in the console (issue 16): a badge on the needs of
// alerted companies and a filter on the needs list, and the companies to
// visit, for the roles the matrix lets see alerts (animateurs on their
// territories, admins). The service decides: a need of another role never
// carries the flag, and the filter is refused to it.

// sfAlertLabel names an alert level, and sfFilterLabel a value of the
// needs list's filter.
func sfAlertLabel(a string) string {
	switch a {
	case "F1":
		return "F1 (risque élevé)"
	case "F2":
		return "F2 (risque modéré)"
	}
	return a
}

func sfFilterLabel(v string) string {
	if v == "any" {
		return "Toute alerte (F1 ou F2)"
	}
	return sfAlertLabel(v)
}

// sfTone is a badge's colour family; the badge always says its level.
func sfTone(a domain.SFAlert) string {
	if a == "F1" {
		return "warning"
	}
	return "neutral"
}

// sfListName names a list as its label and month: "Mars 2026 (mars 2026)"
// when they differ, the label alone otherwise.
func sfListName(label, period string) string {
	m := frMonth(period)
	if label == "" {
		return m
	}
	if strings.EqualFold(label, m) || period == "" {
		return label
	}
	return label + " (" + m + ")"
}

type sfCompaniesData struct {
	List         *app.SFList
	ListName     string
	Rows         []app.SFCompanyRow
	Next         string
	Alert        []option
	WithoutSince string
	Errors       formErrors
	Territories  []string
	Filtered     bool
}

// sfCompanies lists the alerted companies of the caller's territories,
// from the list that applies: the companies to visit, with their commune
// and their last need in Réso.
func (c *console) sfCompanies(w http.ResponseWriter, r *http.Request, p app.Principal) {
	v := r.URL.Query()
	q := app.SFCompaniesQuery{Alert: v.Get("alerte"), Cursor: v.Get("page"), Limit: 50}
	if q.Alert != "F1" && q.Alert != "F2" {
		q.Alert = ""
	}
	d := sfCompaniesData{Alert: options([]string{"F1", "F2"}, sfAlertLabel, q.Alert),
		WithoutSince: strings.TrimSpace(v.Get("sans_besoin_depuis"))}
	if d.WithoutSince != "" {
		if t, ok := parseDay(d.WithoutSince); ok {
			q.WithoutNeedSince = t.Format(time.DateOnly)
		} else {
			d.Errors.add("sans_besoin_depuis", "Saisissez une date au format JJ/MM/AAAA.")
		}
	}
	d.Filtered = q.Alert != "" || d.WithoutSince != ""
	for _, z := range p.Territories {
		d.Territories = append(d.Territories, zoneName(z))
	}
	const title = "Entreprises à visiter"
	status := http.StatusOK
	if d.Errors.Any() {
		// The form shows again with its error, above no table: the list
		// is asked for its name only.
		status, q.WithoutNeedSince, q.Cursor, q.Limit = http.StatusUnprocessableEntity, "", "", 1
	}
	page, err := c.d.Service.SFCompanies(r.Context(), p, q)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	d.List = page.List
	if status != http.StatusOK {
		c.render(w, r, p, status, "sf_companies", title, d)
		return
	}
	d.Rows = page.Items
	if d.List != nil {
		d.ListName = sfListName(d.List.Label, d.List.Period)
	}
	if page.NextCursor != "" {
		d.Next = nextPage("/entreprises-a-visiter", v, page.NextCursor)
	}
	c.render(w, r, p, status, "sf_companies", title, d)
}

// sirenDisplay groups a SIREN's digits by three: "732 829 320".
func sirenDisplay(s string) string {
	if len(s) != 9 {
		return s
	}
	return s[:3] + "\u00a0" + s[3:6] + "\u00a0" + s[6:]
}
