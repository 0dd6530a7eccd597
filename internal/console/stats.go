package console

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/tabular"
)

// colKind says how a statistics column shows on screen; the downloads hold
// the same values as numbers.
type colKind int

const (
	colText colKind = iota
	colCount
	colPercent
	colHours
)

// statsColumns are the statistics table's columns, in the field's words,
// and how each is laid out from a row.
var statsColumns = []struct {
	Title string
	Kind  colKind
	Value func(r app.StatsRow) any
}{
	{"Mois", colText, func(r app.StatsRow) any { return frMonth(r.Month) }},
	{"Besoins saisis", colCount, func(r app.StatsRow) any { return r.Needs }},
	{"Taux de positionnement (%)", colPercent, func(r app.StatsRow) any { return pct(r.PositioningRate) }},
	{"Taux de prise en charge (%)", colPercent, func(r app.StatsRow) any { return pct(r.TakingCareRate) }},
	{"Pris en charge en moins de 3 jours (%)", colPercent, func(r app.StatsRow) any { return pct(r.Within3DaysRate) }},
	{"Pris en charge en moins de 5 jours (%)", colPercent, func(r app.StatsRow) any { return pct(r.Within5DaysRate) }},
	{"Délai médian de prise en charge (heures)", colHours, func(r app.StatsRow) any { return hours(r.MedianHoursToTakeCharge) }},
	{"Délai p90 de prise en charge (heures)", colHours, func(r app.StatsRow) any { return hours(r.P90HoursToTakeCharge) }},
	{"Aide proposée", colCount, func(r app.StatsRow) any { return r.Done }},
	{"Pas d'aide disponible", colCount, func(r app.StatsRow) any { return r.DoneNoHelp }},
	{"Entreprise injoignable", colCount, func(r app.StatsRow) any { return r.DoneNotReachable }},
	{"Refusés", colCount, func(r app.StatsRow) any { return r.NotForMe }},
	{"Abandonnés", colCount, func(r app.StatsRow) any { return r.Abandoned }},
}

// pct is a rate as the table shows it: a whole percentage.
func pct(rate float64) float64 { return math.Round(rate * 100) }

// hours is a delay as the table shows it: hours with one decimal, nil
// when no need was taken in charge.
func hours(h *float64) any {
	if h == nil {
		return nil
	}
	return math.Round(*h*10) / 10
}

// statsTable lays rows out as the page shows them; the CSV and XLSX
// downloads write this very table.
func statsTable(rows []app.StatsRow) tabular.Table {
	t := tabular.Table{}
	for _, c := range statsColumns {
		t.Columns = append(t.Columns, c.Title)
	}
	for _, r := range rows {
		cells := make([]any, len(statsColumns))
		for i, c := range statsColumns {
			cells[i] = c.Value(r)
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// cellText writes a cell of the table for the screen.
func cellText(v any, k colKind) string {
	switch x := v.(type) {
	case nil:
		return "–"
	case int64:
		return frInt(x)
	case float64:
		switch k {
		case colPercent:
			return frPercent(x)
		case colHours:
			return frDecimal(x, 1)
		}
		return frDecimal(x, 0)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

type statsData struct {
	From, To      string
	Regions, Deps []option
	Orgs          []option
	Subjects      []subjectGroup
	Errors        formErrors
	Headers       []string
	Rows          [][]string
	Charts        []chartBlock
	CSV, XLSX     template.URL // the downloads of this very table
	Scope         []string
}

// chartBlock is a chart and the table of its figures.
type chartBlock struct {
	Chart   chart
	Headers []string
	Rows    [][]string
}

// statsQuery reads the filters; it returns what the form shows again.
func (c *console) statsQuery(r *http.Request) (app.StatsQuery, statsData) {
	v := r.URL.Query()
	q := app.StatsQuery{GroupBy: []string{"month"}, Region: v.Get("region"), Departement: v.Get("departement"), Subject: v.Get("sujet")}
	d := statsData{From: v.Get("du"), To: v.Get("au")}
	month := func(field, s string) string {
		s = strings.TrimSpace(s)
		if s == "" {
			return ""
		}
		if _, err := time.Parse("2006-01", s); err != nil || len(s) != 7 {
			d.Errors.add(field, "Choisissez un mois, au format AAAA-MM (par exemple 2026-03).")
			return ""
		}
		return s
	}
	q.From, q.To = month("du", d.From), month("au", d.To)
	if q.From != "" && q.To != "" && q.From > q.To {
		d.Errors.add("au", "Le dernier mois doit suivre le premier.")
	}
	if _, ok := domain.SubjectByCode(q.Subject); !ok {
		q.Subject = ""
	}
	if o := v.Get("organisation"); o != "" {
		if id, err := uuid.Parse(o); err == nil {
			q.Organisation = id
		}
	}
	keep := url.Values{}
	for _, k := range []string{"du", "au", "region", "departement", "organisation", "sujet"} {
		if s := v.Get(k); s != "" {
			keep.Set(k, s)
		}
	}
	suffix := ""
	if len(keep) > 0 {
		suffix = "?" + keep.Encode()
	}
	// Built from encoded values: safe as they are.
	d.CSV, d.XLSX = template.URL("/statistiques.csv"+suffix), template.URL("/statistiques.xlsx"+suffix)
	return q, d
}

// stats is the funders' page: the key figures by month, as charts and as
// a table, with downloads of that table.
func (c *console) stats(w http.ResponseWriter, r *http.Request, p app.Principal) {
	q, d := c.statsQuery(r)
	geo := c.d.Service.Geography()
	for _, z := range p.Territories {
		d.Scope = append(d.Scope, zoneName(z))
	}
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
	orgs, err := c.d.Service.StatsOrganisations(r.Context(), p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, option{Value: o.ID.String(), Label: o.Name, Selected: o.ID == q.Organisation})
	}
	d.Subjects = subjectGroups(q.Subject)
	status := http.StatusOK
	if d.Errors.Any() {
		status = http.StatusUnprocessableEntity
	} else {
		rows, err := c.d.Service.Stats(r.Context(), p, q)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		t := statsTable(rows)
		d.Headers = t.Columns
		for _, row := range t.Rows {
			line := make([]string, len(row))
			for i, cell := range row {
				line[i] = cellText(cell, statsColumns[i].Kind)
			}
			d.Rows = append(d.Rows, line)
		}
		d.Charts = statsCharts(rows)
	}
	c.render(w, r, p, status, "stats", "Statistiques", d)
}

// statsCharts draws the figures of rows by month: needs, rates, delays.
func statsCharts(rows []app.StatsRow) []chartBlock {
	var labels []string
	needs := make([]float64, len(rows))
	var pos, care, within5, median []float64
	for i, r := range rows {
		labels = append(labels, shortMonth(r.Month))
		needs[i] = float64(r.Needs)
		pos = append(pos, pct(r.PositioningRate))
		care = append(care, pct(r.TakingCareRate))
		within5 = append(within5, pct(r.Within5DaysRate))
		if h, ok := hours(r.MedianHoursToTakeCharge).(float64); ok {
			median = append(median, h)
		} else {
			median = append(median, math.NaN())
		}
	}
	table := func(cols []string, series ...[]float64) ([]string, [][]string) {
		var out [][]string
		for i, r := range rows {
			line := []string{frMonth(r.Month)}
			for j, s := range series {
				v := s[i]
				switch {
				case math.IsNaN(v):
					line = append(line, "–")
				case strings.HasSuffix(cols[j+1], "(%)"):
					line = append(line, frPercent(v))
				default:
					line = append(line, frDecimal(v, 1-boolInt(v == math.Trunc(v))))
				}
			}
			out = append(out, line)
		}
		return cols, out
	}
	var blocks []chartBlock
	h, t := table([]string{"Mois", "Besoins saisis"}, needs)
	blocks = append(blocks, chartBlock{Chart: chart{ID: "chart-needs", Title: "Besoins saisis par mois", Desc: "Diagramme en barres du nombre de besoins saisis chaque mois ; les chiffres sont dans le tableau qui suit.",
		XLabel: "Mois de saisie", YLabel: "Besoins", Labels: labels, Bars: true, Series: []series{{Name: "Besoins saisis", Values: needs}}}, Headers: h, Rows: t})
	h, t = table([]string{"Mois", "Taux de positionnement (%)", "Taux de prise en charge (%)", "Pris en charge en moins de 5 jours (%)"}, pos, care, within5)
	blocks = append(blocks, chartBlock{Chart: chart{ID: "chart-rates", Title: "Taux par mois (%)", Desc: "Courbes des taux de positionnement, de prise en charge et de prise en charge en moins de 5 jours, par mois ; les chiffres sont dans le tableau qui suit.",
		XLabel: "Mois de saisie", YLabel: "Pourcentage", Labels: labels, Max: 100, Series: []series{
			{Name: "Positionnement", Values: pos, Color: blue, Marker: "circle"},
			{Name: "Prise en charge", Values: care, Color: green, Dash: "6 4", Marker: "square"},
			{Name: "En moins de 5 jours", Values: within5, Color: orange, Dash: "2 3", Marker: "diamond"},
		}}, Headers: h, Rows: t})
	h, t = table([]string{"Mois", "Délai médian de prise en charge (heures)"}, median)
	blocks = append(blocks, chartBlock{Chart: chart{ID: "chart-delay", Title: "Délai médian de prise en charge (heures)", Desc: "Diagramme en barres du délai médian de prise en charge, en heures, par mois ; les chiffres sont dans le tableau qui suit.",
		XLabel: "Mois de saisie", YLabel: "Heures", Labels: labels, Bars: true, Series: []series{{Name: "Délai médian", Values: median, Color: green}}}, Headers: h, Rows: t})
	return blocks
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shortMonths are the months' usual French abbreviations.
var shortMonths = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// shortMonth writes "2026-03" as "mars 26" for an axis.
func shortMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return fmt.Sprintf("%s %02d", shortMonths[t.Month()-1], t.Year()%100)
}

func (c *console) statsCSV(w http.ResponseWriter, r *http.Request, p app.Principal) {
	c.statsDownload(w, r, p, "csv", "text/csv; charset=utf-8", tabular.Table.CSV)
}

func (c *console) statsXLSX(w http.ResponseWriter, r *http.Request, p app.Principal) {
	c.statsDownload(w, r, p, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		func(t tabular.Table) ([]byte, error) { return t.XLSX("Statistiques") })
}

// statsDownload writes the table the page shows for the same filters.
func (c *console) statsDownload(w http.ResponseWriter, r *http.Request, p app.Principal, ext, contentType string, write func(tabular.Table) ([]byte, error)) {
	q, d := c.statsQuery(r)
	if d.Errors.Any() {
		c.renderError(w, r, p, http.StatusUnprocessableEntity, "Filtres invalides", d.Errors[0].Message)
		return
	}
	rows, err := c.d.Service.Stats(r.Context(), p, q)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	b, err := write(statsTable(rows))
	if err != nil {
		c.fail(w, r, p, fmt.Errorf("write statistics %s: %w", ext, err))
		return
	}
	name := "reso-statistiques"
	if q.From != "" {
		name += "-" + q.From
	}
	if q.To != "" {
		name += "-" + q.To
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"."+ext+`"`)
	_, _ = w.Write(b)
}
