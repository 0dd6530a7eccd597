package stats_test

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/projections/stats"
)

// expected figures of one group, computed in plain Go from needs folded by
// the domain, independently of the projection's code.
type expected struct {
	needs, matches, positioned, taken, within3, within5     int64
	done, doneNoHelp, doneNotReachable, notForMe, abandoned int64
	hours                                                   []float64
}

// expectedStats groups needs by month (byOrg false) or by organisation
// (byOrg true, counting each organisation's matches of the need).
func expectedStats(needs []*domain.Need, byOrg bool, windows [2]time.Duration) map[string]*expected {
	return expectedStatsBy(needs, byOrg, false, windows)
}

// expectedStatsBy is expectedStats, grouped also by subject when
// bySubject is set (keys "month|subject" or "organisation|subject").
func expectedStatsBy(needs []*domain.Need, byOrg, bySubject bool, windows [2]time.Duration) map[string]*expected {
	paris, _ := time.LoadLocation("Europe/Paris")
	out := map[string]*expected{}
	add := func(key string, n *domain.Need, ms []domain.Match) {
		x := out[key]
		if x == nil {
			x = &expected{}
			out[key] = x
		}
		x.needs++
		x.matches += int64(len(ms))
		var sent, taken time.Time
		var statuses []domain.MatchStatus
		for _, m := range ms {
			statuses = append(statuses, m.Status)
			if m.Status != domain.MatchQuo {
				x.positioned++
			}
			if sent.IsZero() || m.SentAt.Before(sent) {
				sent = m.SentAt
			}
			if m.TakenCareOfAt != nil && (taken.IsZero() || m.TakenCareOfAt.Before(taken)) {
				taken = *m.TakenCareOfAt
			}
		}
		if !taken.IsZero() {
			d := taken.Sub(sent)
			x.taken++
			x.hours = append(x.hours, d.Hours())
			if d <= windows[0] {
				x.within3++
			}
			if d <= windows[1] {
				x.within5++
			}
		}
		switch domain.DeriveStatus(statuses, false) {
		case domain.NeedDone:
			x.done++
		case domain.NeedDoneNoHelp:
			x.doneNoHelp++
		case domain.NeedDoneNotReachable:
			x.doneNotReachable++
		case domain.NeedNotForMe:
			x.notForMe++
		}
		if _, ab := n.AbandonedAt(); ab {
			x.abandoned++
		}
	}
	for _, n := range needs {
		suffix := ""
		if bySubject {
			suffix = "|" + n.Captured().Subject
		}
		if !byOrg {
			add(n.CapturedAt().In(paris).Format("2006-01")+suffix, n, n.Matches())
			continue
		}
		byO := map[uuid.UUID][]domain.Match{}
		for _, m := range n.Matches() {
			byO[m.OrganisationID] = append(byO[m.OrganisationID], m)
		}
		for o, ms := range byO {
			add(o.String()+suffix, n, ms)
		}
	}
	return out
}

func nearestRank(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)]
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func closeHours(got *float64, want float64) bool {
	return got != nil && (math.Abs(*got-want) <= 0.01*want || math.Abs(*got-want) <= 1.0/60)
}

func checkStats(t *testing.T, rows []stats.StatsRow, want map[string]*expected, key func(stats.StatsRow) string) {
	t.Helper()
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		k := key(r)
		x := want[k]
		if x == nil {
			t.Fatalf("unexpected group %q", k)
		}
		ints := []struct {
			name      string
			got, want int64
		}{{"needs", r.Needs, x.needs}, {"matches", r.Matches, x.matches}, {"done", r.Done, x.done},
			{"done_no_help", r.DoneNoHelp, x.doneNoHelp}, {"done_not_reachable", r.DoneNotReachable, x.doneNotReachable},
			{"not_for_me", r.NotForMe, x.notForMe}, {"abandoned", r.Abandoned, x.abandoned}}
		for _, c := range ints {
			if c.got != c.want {
				t.Errorf("%s %s = %d, want %d", k, c.name, c.got, c.want)
			}
		}
		rates := []struct {
			name      string
			got, want float64
		}{{"positioning_rate", r.PositioningRate, ratio(x.positioned, x.matches)},
			{"taking_care_rate", r.TakingCareRate, ratio(x.taken, x.needs)},
			{"within_3_days_rate", r.Within3DaysRate, ratio(x.within3, x.needs)},
			{"within_5_days_rate", r.Within5DaysRate, ratio(x.within5, x.needs)}}
		for _, c := range rates {
			if math.Abs(c.got-c.want) > 1e-12 {
				t.Errorf("%s %s = %v, want %v", k, c.name, c.got, c.want)
			}
		}
		if len(x.hours) == 0 {
			if r.MedianHoursToTakeCharge != nil {
				t.Errorf("%s: median %v without take-charge", k, *r.MedianHoursToTakeCharge)
			}
			continue
		}
		if m := nearestRank(x.hours, 0.5); !closeHours(r.MedianHoursToTakeCharge, m) {
			t.Errorf("%s median = %v, want %v within 1%%", k, r.MedianHoursToTakeCharge, m)
		}
		if p := nearestRank(x.hours, 0.9); !closeHours(r.P90HoursToTakeCharge, p) {
			t.Errorf("%s p90 = %v, want %v within 1%%", k, r.P90HoursToTakeCharge, p)
		}
	}
}

var defaultWindows = [2]time.Duration{72 * time.Hour, 120 * time.Hour}

// Statistics equal figures computed independently from the simulated
// events, grouped by month and by organisation.
func TestStatsMatchIndependentFigures(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 11, Months: 6, NeedsPerMonth: 80, Writers: 3})
			pt.MustWait(t, e, res.Last)
			needs := pt.MustFoldNeeds(t, b.Store)
			ctx := context.Background()

			rows, err := e.Stats(ctx, stats.StatsQuery{GroupBy: []string{"month"}})
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, rows, expectedStats(needs, false, defaultWindows), func(r stats.StatsRow) string { return r.Month })

			rows, err = e.Stats(ctx, stats.StatsQuery{GroupBy: []string{"organisation"}})
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, rows, expectedStats(needs, true, defaultWindows), func(r stats.StatsRow) string { return r.Organisation })

			// Subjects are read from the subject rows, the groupings above
			// from the all-subjects rollup: both agree with the events.
			rows, err = e.Stats(ctx, stats.StatsQuery{GroupBy: []string{"month", "subject"}})
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, rows, expectedStatsBy(needs, false, true, defaultWindows), func(r stats.StatsRow) string { return r.Month + "|" + r.Subject })
			rows, err = e.Stats(ctx, stats.StatsQuery{GroupBy: []string{"subject", "organisation"}})
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, rows, expectedStatsBy(needs, true, true, defaultWindows), func(r stats.StatsRow) string { return r.Organisation + "|" + r.Subject })
			if !slices.IsSortedFunc(rows, func(a, b stats.StatsRow) int {
				return cmp.Or(strings.Compare(a.Subject, b.Subject), strings.Compare(a.Organisation, b.Organisation))
			}) {
				t.Error("rows are not ordered by the group keys")
			}
			bySubject := expectedStatsBy(needs, false, true, defaultWindows)
			for _, subject := range []string{"recruitment", "export"} {
				one, err := e.Stats(ctx, stats.StatsQuery{Subject: subject})
				if err != nil {
					t.Fatal(err)
				}
				var want int64
				for k, x := range bySubject {
					if strings.HasSuffix(k, "|"+subject) {
						want += x.needs
					}
				}
				var got int64
				if len(one) > 1 {
					t.Fatalf("subject %s without grouping: %d rows", subject, len(one))
				} else if len(one) == 1 {
					got = one[0].Needs
				}
				if got != want || want == 0 {
					t.Errorf("subject %s: %d needs, want %d (> 0)", subject, got, want)
				}
			}

			// A filter and a one-row total agree with the grouped rows.
			all, err := e.Stats(ctx, stats.StatsQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 1 || all[0].Needs != int64(len(needs)) {
				t.Fatalf("total = %+v, want %d needs", all, len(needs))
			}
			nord, err := e.Stats(ctx, stats.StatsQuery{Departement: "59", GroupBy: []string{"departement"}})
			if err != nil {
				t.Fatal(err)
			}
			var want59 int64
			for _, n := range needs {
				if c, _ := domain.DefaultGeography().Commune(n.Captured().Commune); c.Departement == "59" {
					want59++
				}
			}
			if len(nord) != 1 || nord[0].Needs != want59 || nord[0].Departement != "59" {
				t.Fatalf("Nord = %+v, want %d needs", nord, want59)
			}
			scoped, err := e.Stats(ctx, stats.StatsQuery{ScopeZones: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(scoped) != 1 || scoped[0].Needs != want59 {
				t.Fatalf("scope Nord = %+v, want %d needs", scoped, want59)
			}
			// A région scope reads the rollup over départements, a mixed
			// scope the département rows: both count every need once.
			for _, zones := range [][]domain.Zone{
				{{Level: domain.LevelRegion, Code: "32"}},
				{{Level: domain.LevelRegion, Code: "32"}, {Level: domain.LevelDepartement, Code: "59"}},
			} {
				in, err := e.Stats(ctx, stats.StatsQuery{ScopeZones: zones, GroupBy: []string{"region"}})
				if err != nil {
					t.Fatal(err)
				}
				if len(in) != 1 || in[0].Needs != all[0].Needs || in[0].Region != "32" {
					t.Fatalf("scope %v = %+v, want %d needs in région 32", zones, in, all[0].Needs)
				}
			}
			// One organisation as a filter equals its row of the grouping.
			orgs, err := e.Stats(ctx, stats.StatsQuery{GroupBy: []string{"organisation"}})
			if err != nil {
				t.Fatal(err)
			}
			one, err := e.Stats(ctx, stats.StatsQuery{Organisation: uuid.MustParse(orgs[0].Organisation)})
			if err != nil {
				t.Fatal(err)
			}
			if len(one) != 1 || one[0].Needs != orgs[0].Needs || one[0].Matches != orgs[0].Matches {
				t.Fatalf("organisation filter = %+v, want %+v", one, orgs[0])
			}
			if _, err := e.Stats(ctx, stats.StatsQuery{GroupBy: []string{"colour"}}); err == nil {
				t.Fatal("unknown dimension accepted")
			}
		})
	}
}

// A rebuild after a rule change recomputes all history with the new rule,
// while queries keep answering from the old tables until the swap.
func TestRebuildAfterRuleChangeServesOldTablesUntilSwap(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 5, Months: 3, NeedsPerMonth: 120, Writers: 2})
			pt.MustWait(t, e, res.Last)
			needs := pt.MustFoldNeeds(t, b.Store)
			ctx := context.Background()
			newWindows := [2]time.Duration{24 * time.Hour, 48 * time.Hour}
			changed := pt.MustEngine(t, b, readmodels.Options{TakeChargeWindows: newWindows, RebuildBatch: 200})
			key := func(r stats.StatsRow) string { return r.Month }
			month := stats.StatsQuery{GroupBy: []string{"month"}}

			var during []stats.StatsRow
			var phases []string
			err := changed.Rebuild(ctx, readmodels.Stats, func(p projections.Progress) {
				phases = append(phases, p.Phase)
				if p.Phase == "fold" && during == nil {
					rows, err := changed.Stats(ctx, month)
					if err != nil {
						t.Error(err)
					}
					during = rows
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if during == nil || !slices.Contains(phases, "swap") || phases[len(phases)-1] != "done" {
				t.Fatalf("phases %v: no query ran during the fold", phases)
			}
			checkStats(t, during, expectedStats(needs, false, defaultWindows), key)
			after, err := changed.Stats(ctx, month)
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, after, expectedStats(needs, false, newWindows), key)
			if strings.Join(phases, ",") == "" {
				t.Fatal("no progress reported")
			}
		})
	}
}
