package tabular

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/xuri/excelize/v2"
)

type fakeRow struct {
	Month     string   `json:"month"`
	Region    string   `json:"region"`
	Needs     int64    `json:"needs"`
	Rate      float64  `json:"positioning_rate"`
	Median    *float64 `json:"median_hours_to_take_charge"`
	NotForMe  int64    `json:"not_for_me"`
	Abandoned int64    `json:"abandoned"`
}

// columns puts the group keys first, a column no row has (matches) and the
// figures after, as the statistics do.
var columns = []string{"month", "region", "needs", "matches", "positioning_rate", "median_hours_to_take_charge", "not_for_me", "abandoned"}

func mustStatsTable(t *testing.T) Table {
	t.Helper()
	m := 12.5
	rows := []fakeRow{
		{Month: "2026-01", Region: "32", Needs: 10, Rate: 0.75, Median: &m, NotForMe: 1},
		{Month: "2026-02", Region: "Hauts-de-France, \"nord\"", Needs: 3, Rate: 0, Abandoned: 2},
	}
	tb, err := FromJSON(columns, rows)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestStatsCSV(t *testing.T) {
	t.Parallel()
	b, err := mustStatsTable(t).CSV()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Fatal("RFC 4180 wants CRLF line ends")
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want header + 2", len(recs))
	}
	want := columns
	for i, c := range want {
		if recs[0][i] != c {
			t.Fatalf("header %v, want %v", recs[0], want)
		}
	}
	col := func(name string) int {
		for i, c := range recs[0] {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	if got := recs[1][col("needs")]; got != "10" {
		t.Errorf("needs %q", got)
	}
	if got := recs[1][col("positioning_rate")]; got != "0.75" {
		t.Errorf("rate %q", got)
	}
	if got := recs[1][col("median_hours_to_take_charge")]; got != "12.5" {
		t.Errorf("median %q", got)
	}
	if got := recs[2][col("median_hours_to_take_charge")]; got != "" {
		t.Errorf("missing median %q, want empty", got)
	}
	if got := recs[2][col("region")]; got != "Hauts-de-France, \"nord\"" {
		t.Errorf("quoted region %q", got)
	}
	if got := recs[1][col("matches")]; got != "" {
		t.Errorf("a column no row has: %q, want empty", got)
	}
	if got := recs[2][col("abandoned")]; got != "2" {
		t.Errorf("abandoned %q", got)
	}
}

func TestStatsXLSX(t *testing.T) {
	t.Parallel()
	b, err := mustStatsTable(t).XLSX("stats")
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 1 || sheets[0] != "stats" {
		t.Fatalf("sheets %v", sheets)
	}
	if v, _ := f.GetCellValue("stats", "A1"); v != "month" {
		t.Fatalf("A1 %q", v)
	}
	// needs is the third column: C2 must be a number cell holding 10.
	typ, err := f.GetCellType("stats", "C2")
	if err != nil {
		t.Fatal(err)
	}
	if typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Fatalf("needs stored as text (%v)", typ)
	}
	if v, _ := f.GetCellValue("stats", "C2"); v != "10" {
		t.Fatalf("C2 %q", v)
	}
	if v, _ := f.GetCellValue("stats", "E2"); v != "0.75" {
		t.Fatalf("E2 %q", v)
	}
	rows, err := f.GetRows("stats")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
}
