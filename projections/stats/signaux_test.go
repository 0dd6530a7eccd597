package stats_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/simulate"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/projections/stats"
)

// needsByAlert folds the log in order with the domain, and puts each need
// under the alert its company had, at its capture's place in the log, in
// the list that applied then: F1, F2 or none.
func needsByAlert(t *testing.T, st eventstore.Store) map[string][]*domain.Need {
	t.Helper()
	h := domain.NewSFHistory()
	alertOf := map[string]string{}
	for _, e := range pt.MustEvents(t, st) {
		if err := h.Apply(e); err != nil {
			t.Fatal(err)
		}
		if c, ok := e.(domain.NeedCaptured); ok {
			alertOf[c.NeedID.String()] = "none"
			if r := h.Applying(time.Time{}); r != nil {
				if f, ok := r.Flag(c.SIRET[:9]); ok {
					alertOf[c.NeedID.String()] = string(f.Alert)
				}
			}
		}
	}
	out := map[string][]*domain.Need{}
	for _, n := range pt.MustFoldNeeds(t, st) {
		a := alertOf[n.ID().String()]
		out[a] = append(out[a], n)
	}
	return out
}

// merged adds up groups of expected figures into one.
func merged(groups map[string]*expected) *expected {
	x := &expected{}
	for _, g := range groups {
		x.needs += g.needs
		x.matches += g.matches
		x.positioned += g.positioned
		x.taken += g.taken
		x.within3 += g.within3
		x.within5 += g.within5
		x.done += g.done
		x.doneNoHelp += g.doneNoHelp
		x.doneNotReachable += g.doneNotReachable
		x.notForMe += g.notForMe
		x.abandoned += g.abandoned
		x.hours = append(x.hours, g.hours...)
	}
	return x
}

// The sf_alert dimension equals figures counted independently: each need
// under its company's alert at its capture, from the domain's fold of the
// log; alone, by month and by organisation; the rows of every other query
// are unchanged by it.
func TestStatsBySFAlertMatchIndependentCount(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 17, Months: 6, NeedsPerMonth: 150, Writers: 3, SignauxFaibles: true})
			pt.MustWait(t, e, res.Last)
			byAlert := needsByAlert(t, b.Store)
			for _, a := range []string{"F1", "F2", "none"} {
				if len(byAlert[a]) == 0 {
					t.Fatalf("no need of alert %s: the test would not see it", a)
				}
			}
			ctx := context.Background()
			query := func(groupBy ...string) []stats.StatsRow {
				t.Helper()
				rows, err := e.Stats(ctx, stats.StatsQuery{GroupBy: groupBy})
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}

			want := map[string]*expected{}
			for a, ns := range byAlert {
				want[a] = merged(expectedStats(ns, false, defaultWindows))
			}
			rows := query("sf_alert")
			checkStats(t, rows, want, func(r stats.StatsRow) string { return r.SFAlert })
			if got := []string{rows[0].SFAlert, rows[1].SFAlert, rows[2].SFAlert}; !slices.Equal(got, []string{"F1", "F2", "none"}) {
				t.Fatalf("rows %v, want F1, F2, none", got)
			}

			want = map[string]*expected{}
			for a, ns := range byAlert {
				for m, x := range expectedStats(ns, false, defaultWindows) {
					want[m+"|"+a] = x
				}
			}
			checkStats(t, query("month", "sf_alert"), want, func(r stats.StatsRow) string { return r.Month + "|" + r.SFAlert })

			want = map[string]*expected{}
			for a, ns := range byAlert {
				for o, x := range expectedStats(ns, true, defaultWindows) {
					want[o+"|"+a] = x
				}
			}
			checkStats(t, query("sf_alert", "organisation"), want, func(r stats.StatsRow) string { return r.Organisation + "|" + r.SFAlert })

			var all []*domain.Need
			for _, ns := range byAlert {
				all = append(all, ns...)
			}
			checkStats(t, query("month"), expectedStats(all, false, defaultWindows), func(r stats.StatsRow) string { return r.Month })
			if total := query(); len(total) != 1 || total[0].Needs != int64(len(all)) || total[0].SFAlert != "" {
				t.Fatalf("total %+v, want %d needs", total, len(all))
			}

			// Cells stay bounded by the dimensions: only the needs of
			// alerted companies have rows split by alert, at most two (F1,
			// F2) per row without it; "none" is computed.
			var plain, split, none int
			if err := b.DB.QueryRow(`SELECT
				(SELECT COUNT(*) FROM stats_cells WHERE layer < 16),
				(SELECT COUNT(*) FROM stats_cells WHERE layer >= 16),
				(SELECT COUNT(*) FROM stats_cells WHERE layer >= 16 AND sf_alert NOT IN ('F1', 'F2'))`).Scan(&plain, &split, &none); err != nil {
				t.Fatal(err)
			}
			if split == 0 || split > 2*plain || none != 0 {
				t.Fatalf("%d cells with the alert (%d neither F1 nor F2) for %d without", split, none, plain)
			}
			t.Logf("%d cells without the alert, %d with", plain, split)
			pt.MustMatchRebuild(t, e, b.DB)
		})
	}
}
