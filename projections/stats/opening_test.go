package stats_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/simulate"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/projections/stats"
)

// Months since opening and the opened filter count each need from the
// opening of its département, or else of its région, as computed here from
// the folded needs.
func TestStatsMonthsSinceOpening(t *testing.T) {
	t.Parallel()
	b := pt.MustBackend(t, "sqlite")
	e := pt.MustEngine(t, b, readmodels.Options{})
	pt.MustRun(t, e)
	res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 5, Months: 6, NeedsPerMonth: 60})
	pt.MustWait(t, e, res.Last)
	needs := pt.MustFoldNeeds(t, b.Store)
	ctx := context.Background()
	byMonth, err := e.Stats(ctx, stats.StatsQuery{GroupBy: []string{"month"}})
	if err != nil || len(byMonth) < 5 {
		t.Fatalf("months %+v, %v", byMonth, err)
	}
	// Hauts-de-France opens in the second month, the Nord on its own in
	// the fourth.
	regionOn, nordOn := byMonth[1].Month+"-20", byMonth[3].Month+"-01"
	openings := []domain.Opening{
		{Zone: domain.Zone{Level: domain.LevelRegion, Code: "32"}, OpenedOn: regionOn},
		{Zone: domain.Zone{Level: domain.LevelDepartement, Code: "59"}, OpenedOn: nordOn},
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	geo := domain.DefaultGeography()
	want := map[string]int64{}     // months since opening → needs
	wantNord := map[string]int64{} // the same, Nord only
	var opened, notOpened int64
	for _, n := range needs {
		c, _ := geo.Commune(n.Captured().Commune)
		on := regionOn
		if c.Departement == "59" {
			on = nordOn
		}
		m, _ := domain.MonthsSinceOpening(on, n.CapturedAt().In(paris).Format("2006-01"))
		want[strconv.Itoa(m)]++
		if c.Departement == "59" {
			wantNord[strconv.Itoa(m)]++
		}
		if m >= 0 {
			opened++
		} else {
			notOpened++
		}
	}
	if notOpened == 0 || opened == 0 {
		t.Fatalf("opened %d, not opened %d: the workload proves nothing", opened, notOpened)
	}
	got := func(q stats.StatsQuery) map[string]int64 {
		t.Helper()
		q.Openings = openings
		rows, err := e.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for i, r := range rows {
			if r.MonthsSinceOpening == nil {
				t.Fatalf("row %+v without months since opening", r)
			}
			if i > 0 && *rows[i-1].MonthsSinceOpening >= *r.MonthsSinceOpening {
				t.Fatalf("rows not in the order of months: %d then %d", *rows[i-1].MonthsSinceOpening, *r.MonthsSinceOpening)
			}
			out[strconv.Itoa(*r.MonthsSinceOpening)] += r.Needs
		}
		return out
	}
	same := func(name string, got, want map[string]int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: month %s: %d needs, want %d", name, k, got[k], v)
			}
		}
	}
	same("all", got(stats.StatsQuery{GroupBy: []string{stats.DimMonthsSinceOpening}}), want)
	same("Nord", got(stats.StatsQuery{GroupBy: []string{stats.DimMonthsSinceOpening}, Departement: "59"}), wantNord)
	same("scope Nord", got(stats.StatsQuery{GroupBy: []string{stats.DimMonthsSinceOpening},
		ScopeZones: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}}), wantNord)
	yes, no := true, false
	for _, tc := range []struct {
		opened *bool
		want   int64
	}{{&yes, opened}, {&no, notOpened}} {
		rows, err := e.Stats(ctx, stats.StatsQuery{Openings: openings, Opened: tc.opened, GroupBy: []string{"region"}})
		if err != nil || len(rows) != 1 || rows[0].Needs != tc.want || rows[0].Region != "32" {
			t.Errorf("opened=%v: %+v, %v; want %d needs", *tc.opened, rows, err, tc.want)
		}
	}
	// Nowhere opened: one group without months; opened=true keeps nothing.
	rows, err := e.Stats(ctx, stats.StatsQuery{GroupBy: []string{stats.DimMonthsSinceOpening}})
	if err != nil || len(rows) != 1 || rows[0].MonthsSinceOpening != nil || rows[0].Needs != int64(len(needs)) {
		t.Fatalf("no opening: %+v, %v", rows, err)
	}
	if rows, err := e.Stats(ctx, stats.StatsQuery{Opened: &yes}); err != nil || len(rows) != 0 {
		t.Fatalf("opened=true without openings: %+v, %v", rows, err)
	}
	// Only the région opened: its rollup over départements serves.
	rows, err = e.Stats(ctx, stats.StatsQuery{GroupBy: []string{"region", stats.DimMonthsSinceOpening}, Openings: openings[:1]})
	if err != nil || len(rows) < 5 || rows[0].Region != "32" {
		t.Fatalf("région only: %+v, %v", rows, err)
	}
}
