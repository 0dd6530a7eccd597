package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// groupDimensions are the values of group_by.
var groupDimensions = []string{"month", "region", "departement", "organisation", "subject"}

// statsQuery is a parsed stats request.
type statsQuery struct {
	from, to                     string
	groupBy                      []string
	region, departement, subject string
	organisation                 uuid.UUID
	zones                        []domain.Zone // animateur scope
}

func month(r *http.Request, name string) (string, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return "", nil
	}
	if _, err := time.Parse("2006-01", s); err != nil || len(s) != 7 {
		return "", invalidField(name, "a month YYYY-MM")
	}
	return s, nil
}

// parseStats reads the stats query and the caller's scope on it.
func (a *api) parseStats(w http.ResponseWriter, r *http.Request) (statsQuery, bool) {
	if !a.allow(w, r, app.ActionStats) {
		return statsQuery{}, false
	}
	var q statsQuery
	var err error
	fail := func(err error) (statsQuery, bool) { a.fail(w, r, err); return statsQuery{}, false }
	if q.from, err = month(r, "from"); err != nil {
		return fail(err)
	}
	if q.to, err = month(r, "to"); err != nil {
		return fail(err)
	}
	if q.from != "" && q.to != "" && q.from > q.to {
		return fail(invalidField("to", "must not be before from"))
	}
	if g := r.URL.Query().Get("group_by"); g != "" {
		seen := map[string]bool{}
		for _, d := range strings.Split(g, ",") {
			d = strings.TrimSpace(d)
			if !contains(groupDimensions, d) {
				return fail(invalidField("group_by", fmt.Sprintf("%q is not one of %s", d, strings.Join(groupDimensions, ", "))))
			}
			if seen[d] {
				return fail(invalidField("group_by", fmt.Sprintf("%q given twice", d)))
			}
			seen[d] = true
			q.groupBy = append(q.groupBy, d)
		}
	}
	v := r.URL.Query()
	q.region, q.departement, q.subject = v.Get("region"), v.Get("departement"), v.Get("subject")
	if q.subject != "" {
		if _, ok := domain.SubjectByCode(q.subject); !ok {
			return fail(invalidField("subject", "unknown subject"))
		}
	}
	if q.organisation, err = queryID(r, "organisation"); err != nil {
		return fail(err)
	}
	p := principalOf(r.Context())
	if p.Role == domain.RoleAnimateur {
		if len(p.Territories) == 0 {
			return fail(app.ErrForbidden)
		}
		q.zones = p.Territories
	}
	if err := a.waitMinPosition(r); err != nil {
		return fail(err)
	}
	return q, true
}

func (a *api) stats(w http.ResponseWriter, r *http.Request) {
	q, ok := a.parseStats(w, r)
	if !ok {
		return
	}
	rows, err := a.queryStats(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rows": rows})
}

// downloadName is the file name of a stats export.
func downloadName(q statsQuery, ext string) string {
	name := "reso-stats"
	if q.from != "" {
		name += "-" + q.from
	}
	if q.to != "" {
		name += "-" + q.to
	}
	return name + "." + ext
}

func (a *api) statsCSV(w http.ResponseWriter, r *http.Request) {
	a.statsDownload(w, r, "csv", "text/csv; charset=utf-8", table.csvBytes)
}

func (a *api) statsXLSX(w http.ResponseWriter, r *http.Request) {
	a.statsDownload(w, r, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", table.xlsxBytes)
}

func (a *api) statsDownload(w http.ResponseWriter, r *http.Request, ext, contentType string, render func(table) ([]byte, error)) {
	q, ok := a.parseStats(w, r)
	if !ok {
		return
	}
	rows, err := a.queryStats(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := statsTable(q.groupBy, rows)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	b, err := render(t)
	if err != nil {
		a.fail(w, r, fmt.Errorf("render stats %s: %w", ext, err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+downloadName(q, ext)+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
