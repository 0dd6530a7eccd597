package simulate_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/memory"
	"github.com/reso-fr/reso/internal/simulate"
)

func mustLog(t *testing.T, o simulate.Options) ([]string, simulate.Result) {
	t.Helper()
	st := memory.New()
	defer st.Close()
	res, err := simulate.Run(context.Background(), st, o)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(evs)) != res.Events {
		t.Fatalf("result says %d events, log has %d", res.Events, len(evs))
	}
	lines := make([]string, len(evs))
	for i, ev := range evs {
		lines[i] = fmt.Sprintf("%s %d %s %s %s", ev.StreamID, ev.Version, ev.ID, ev.Type, ev.Data)
	}
	slices.Sort(lines) // concurrent writers interleave streams differently
	return lines, res
}

// The same seed gives the same events with the same ids, whatever the
// writers' interleaving; another seed gives others.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	o := simulate.Options{Seed: 42, Months: 2, NeedsPerMonth: 40, Writers: 4}
	a, _ := mustLog(t, o)
	o.Writers = 1
	b, _ := mustLog(t, o)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different logs")
	}
	o.Seed = 43
	c, _ := mustLog(t, o)
	if slices.Equal(a, c) {
		t.Fatal("different seeds, same log")
	}
}

// The workload is realistic: every need folds under the domain's rules,
// lies in Hauts-de-France, most are taken in charge within days, and some
// are declined, abandoned and reopened.
func TestRealisticWorkload(t *testing.T) {
	t.Parallel()
	st := memory.New()
	defer st.Close()
	res, err := simulate.Run(context.Background(), st, simulate.Options{Seed: 1, Months: 6, NeedsPerMonth: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Organisations) < 10 || len(res.Referents) < 50 || len(res.Users[domain.RoleAdvisor]) != 20 ||
		len(res.Users[domain.RoleAnimateur]) != 3 || len(res.Users[domain.RoleFunder]) != 1 || len(res.Users[domain.RoleAdmin]) != 1 {
		t.Fatalf("directory: %d organisations, %d referents, users %v", len(res.Organisations), len(res.Referents), res.Users)
	}
	evs, err := st.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	byStream := map[string][]domain.Event{}
	reopened := 0
	for _, ev := range evs {
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := e.(domain.MatchStatusChanged); ok && m.To == domain.MatchQuo {
			reopened++
		}
		if domain.StreamKind(ev.StreamID) == domain.KindNeedStream {
			byStream[ev.StreamID] = append(byStream[ev.StreamID], e)
		}
	}
	if len(byStream) != res.Needs {
		t.Fatalf("%d need streams, want %d", len(byStream), res.Needs)
	}
	var taken, within5, declined, abandoned int
	geo := domain.DefaultGeography()
	for s, es := range byStream {
		_, id, _ := domain.ParseStream(s)
		n, err := domain.FoldNeed(id, es)
		if err != nil {
			t.Fatalf("%s does not fold: %v", s, err)
		}
		if c, ok := geo.Commune(n.Captured().Commune); !ok || c.Region != "32" {
			t.Fatalf("need in %s, outside Hauts-de-France", n.Captured().Commune)
		}
		if at, ok := n.FirstTakeChargeAt(); ok {
			taken++
			if fw, _ := n.ForwardedAt(); at.Sub(fw) <= 5*24*time.Hour {
				within5++
			}
		}
		for _, m := range n.Matches() {
			if m.Status == domain.MatchNotForMe {
				declined++
			}
		}
		if _, ok := n.AbandonedAt(); ok {
			abandoned++
		}
	}
	if taken < res.Needs/2 || within5 < taken/2 || declined == 0 || abandoned == 0 || reopened == 0 {
		t.Fatalf("needs %d: taken %d (within 5 days %d), declined matches %d, abandoned %d, reopened %d",
			res.Needs, taken, within5, declined, abandoned, reopened)
	}
}
