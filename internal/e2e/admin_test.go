package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/reso-fr/reso/internal/httpapi"
)

// testExports downloads the statistics as CSV and XLSX.
func testExports(t *testing.T, e *env) {
	_, pos := e.mustCapture(t, lille)
	var js struct {
		Rows []map[string]any `json:"rows"`
	}
	q := "?group_by=departement,subject&min_position=" + pos
	e.funder.must(t, http.StatusOK, "GET", "/api/stats"+q, nil).json(t, &js)
	if len(js.Rows) == 0 {
		t.Fatal("no stats rows")
	}

	r := e.funder.must(t, http.StatusOK, "GET", "/api/stats.csv"+q, nil)
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type %q", ct)
	}
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(js.Rows)+1 || recs[0][0] != "departement" || recs[0][1] != "subject" || recs[0][2] != "needs" {
		t.Fatalf("csv %v for %d rows", recs, len(js.Rows))
	}
	csvNeeds := map[string]string{}
	for _, rec := range recs[1:] {
		csvNeeds[rec[0]+"/"+rec[1]] = rec[2]
	}
	for _, row := range js.Rows {
		k := fmt.Sprint(row["departement"], "/", row["subject"])
		if csvNeeds[k] != fmt.Sprint(row["needs"]) {
			t.Errorf("csv needs %s = %q, json %v", k, csvNeeds[k], row["needs"])
		}
	}

	x := e.funder.must(t, http.StatusOK, "GET", "/api/stats.xlsx"+q, nil)
	if cd := x.header.Get("Content-Disposition"); !strings.Contains(cd, ".xlsx") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("sheets %v", sheets)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(js.Rows)+1 || rows[0][2] != "needs" {
		t.Fatalf("xlsx rows %v", rows)
	}
	if typ, _ := f.GetCellType(sheets[0], "C2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Fatalf("needs stored as text")
	}
}

// testAdmin reads the raw log, the projections, rebuilds one, and scrapes
// metrics; it also checks the served OpenAPI document.
func testAdmin(t *testing.T, e *env) {
	var page struct {
		Events []struct {
			Position string `json:"position"`
			Type     string `json:"type"`
			StreamID string `json:"stream_id"`
		} `json:"events"`
		NextAfter string `json:"next_after"`
	}
	e.admin.must(t, http.StatusOK, "GET", "/api/events?limit=3", nil).json(t, &page)
	if len(page.Events) != 3 || page.NextAfter != page.Events[2].Position {
		t.Fatalf("first page %+v", page)
	}
	first := append(page.Events[:0:0], page.Events...)
	e.admin.must(t, http.StatusOK, "GET", "/api/events?limit=3&after="+page.NextAfter, nil).json(t, &page)
	if len(page.Events) != 3 || page.Events[0].Position <= first[2].Position {
		t.Fatalf("second page %+v after %+v", page.Events, first)
	}

	type projection struct {
		Name  string `json:"name"`
		State string `json:"state"`
	}
	var ps struct {
		Projections []projection `json:"projections"`
	}
	e.admin.must(t, http.StatusOK, "GET", "/api/projections", nil).json(t, &ps)
	if len(ps.Projections) < 3 {
		t.Fatalf("projections %+v", ps)
	}
	n, pos := e.mustCapture(t, lille)
	e.admin.must(t, http.StatusAccepted, "POST", "/api/projections/needs/rebuild", map[string]any{})
	eventually(t, "rebuild of needs finished", func() error {
		e.admin.must(t, http.StatusOK, "GET", "/api/projections", nil).json(t, &ps)
		for _, p := range ps.Projections {
			if p.State == "rebuilding" || p.State == "failed" {
				return fmt.Errorf("projection %s is %s", p.Name, p.State)
			}
		}
		return nil
	})
	var list pageBody
	e.advisor1.must(t, http.StatusOK, "GET", "/api/needs?limit=500&min_position="+pos, nil).json(t, &list)
	found := false
	for _, it := range list.Items {
		found = found || it.ID == n.ID
	}
	if !found {
		t.Fatalf("need %s missing after rebuild", n.ID)
	}

	m := e.anon.must(t, http.StatusOK, "GET", "/metrics", nil)
	for _, name := range []string{"reso_http_request_duration_seconds_bucket", `route="/api/needs/{id}"`, "reso_projection_lag_events", "reso_append_duration_seconds"} {
		if !strings.Contains(string(m.body), name) {
			t.Errorf("metrics lack %s", name)
		}
	}

	doc := e.anon.must(t, http.StatusOK, "GET", "/api/openapi.json", nil)
	var served, embedded any
	if err := json.Unmarshal(doc.body, &served); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(httpapi.OpenAPI(), &embedded); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(served) != fmt.Sprint(embedded) {
		t.Fatal("served OpenAPI document differs from the package's")
	}
	e.anon.must(t, http.StatusOK, "GET", "/readyz", nil)
}
