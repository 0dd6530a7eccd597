package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/tabular"
)

// statsQuery decodes a statistics request's query; the service checks the
// values and applies the caller's scope.
func statsQuery(r *http.Request) (app.StatsQuery, error) {
	v := r.URL.Query()
	q := app.StatsQuery{From: v.Get("from"), To: v.Get("to"), Region: v.Get("region"),
		Departement: v.Get("departement"), Subject: v.Get("subject")}
	if g := v.Get("group_by"); g != "" {
		for _, d := range strings.Split(g, ",") {
			q.GroupBy = append(q.GroupBy, strings.TrimSpace(d))
		}
	}
	var err error
	if q.Organisation, err = queryID(r, "organisation"); err != nil {
		return q, err
	}
	if q.Opened, err = boolParam(r, "opened"); err != nil {
		return q, err
	}
	q.MinPosition, err = minPosition(r)
	return q, err
}

func (a *api) stats(w http.ResponseWriter, r *http.Request) {
	q, err := statsQuery(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rows, err := a.d.Service.Stats(r.Context(), principalOf(r.Context()), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.setLag(w, r)
	writeStatsJSON(w, http.StatusOK, rows)
}

// downloadName is the file name of a stats export.
func downloadName(q app.StatsQuery, ext string) string {
	name := "reso-stats"
	if q.From != "" {
		name += "-" + q.From
	}
	if q.To != "" {
		name += "-" + q.To
	}
	return name + "." + ext
}

func (a *api) statsCSV(w http.ResponseWriter, r *http.Request) {
	a.statsDownload(w, r, "csv", "text/csv; charset=utf-8", tabular.Table.CSV)
}

func (a *api) statsXLSX(w http.ResponseWriter, r *http.Request) {
	a.statsDownload(w, r, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		func(t tabular.Table) ([]byte, error) { return t.XLSX("stats") })
}

func (a *api) statsDownload(w http.ResponseWriter, r *http.Request, ext, contentType string, render func(tabular.Table) ([]byte, error)) {
	q, err := statsQuery(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.d.Service.StatsTable(r.Context(), principalOf(r.Context()), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	b, err := render(t)
	if err != nil {
		a.fail(w, r, fmt.Errorf("render stats %s: %w", ext, err))
		return
	}
	a.setLag(w, r)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+downloadName(q, ext)+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
