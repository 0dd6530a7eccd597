package readmodels_test

import (
	"context"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections/needs"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// The console's dashboard and inbox counts agree with needs folded by the
// domain.
func TestConsoleQueriesAgreeWithDomain(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			now := start.AddDate(0, 0, 80)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 5, Start: start, Months: 3, NeedsPerMonth: 70, Now: now})
			pt.MustWait(t, e, res.Last)
			folded := pt.MustFoldNeeds(t, b.Store)
			geo := domain.DefaultGeography()
			th := domain.DefaultThresholds()
			ctx := context.Background()
			at := now.AddDate(0, 0, 12) // later, so that baskets fill
			for _, zones := range [][]domain.Zone{nil, {{Level: domain.LevelDepartement, Code: "59"}}} {
				d, err := e.Dashboard(ctx, needs.DashboardQuery{ScopeZones: zones, Now: at})
				if err != nil {
					t.Fatal(err)
				}
				want := map[domain.Basket]int{}
				bySubject := map[string]int{}
				byOrg := map[string]int{}
				for _, n := range folded {
					in := zones == nil
					for _, z := range zones {
						in = in || geo.Contains(z, n.Captured().Commune)
					}
					if b := n.Basket(at, th); in && b != domain.BasketNone {
						want[b]++
						bySubject[n.Captured().Subject]++
						waitsFor := map[string]bool{} // once per organisation
						for _, m := range n.Matches() {
							if m.Status == domain.MatchQuo && !waitsFor[m.OrganisationID.String()] {
								waitsFor[m.OrganisationID.String()] = true
								byOrg[m.OrganisationID.String()]++
							}
						}
					}
				}
				if d.Baskets.Poke != want[domain.BasketPoke] || d.Baskets.LastChance != want[domain.BasketLastChance] || d.Baskets.Abandon != want[domain.BasketAbandon] {
					t.Errorf("zones %v: baskets %+v, want %v", zones, d.Baskets, want)
				}
				if d.Baskets.Total() == 0 && zones == nil {
					t.Error("no need in any basket: the test checks nothing")
				}
				for _, s := range d.BySubject {
					if s.Total() != bySubject[s.Key] {
						t.Errorf("subject %s: %d, want %d", s.Key, s.Total(), bySubject[s.Key])
					}
				}
				if len(d.BySubject) != len(bySubject) {
					t.Errorf("%d subjects, want %d", len(d.BySubject), len(bySubject))
				}
				for _, o := range d.ByOrganisation {
					if o.Total() != byOrg[o.Key] {
						t.Errorf("organisation %s: %d, want %d", o.Key, o.Total(), byOrg[o.Key])
					}
				}
				if len(d.ByOrganisation) != len(byOrg) {
					t.Errorf("%d organisations, want %d", len(d.ByOrganisation), len(byOrg))
				}
			}
			// Inbox counts: each referent's tabs hold its matches.
			for _, r := range res.Referents[:5] {
				counts, err := e.InboxCounts(ctx, r.ID, now)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]int{}
				for _, n := range folded {
					m, ok := n.Match(r.ID)
					if !ok {
						continue
					}
					switch {
					case domain.HandledElsewhere(m.Status, n.Status().Closed()):
						want[needs.TabDone]++
					case m.Status == domain.MatchQuo && domain.MatchExpired(m.Status, m.SentAt, now, th):
						want[needs.TabExpired]++
					case m.Status.Closed():
						want[needs.TabDone]++
					default:
						want[string(m.Status)]++
					}
				}
				for tab, n := range want {
					if counts[tab] != n {
						t.Errorf("referent %s tab %s: %d, want %d", r.ID, tab, counts[tab], n)
					}
				}
			}
		})
	}
}
