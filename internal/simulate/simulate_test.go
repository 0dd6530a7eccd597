package simulate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

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

// mustDecoded runs o on a memory store and returns the whole log in order,
// each event with its decoded form.
func mustDecoded(t *testing.T, o simulate.Options) ([]eventstore.Event, []domain.Event) {
	t.Helper()
	st := memory.New()
	defer st.Close()
	if _, err := simulate.Run(context.Background(), st, o); err != nil {
		t.Fatal(err)
	}
	evs, err := st.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	decoded := make([]domain.Event, len(evs))
	for i, ev := range evs {
		if decoded[i], err = domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data); err != nil {
			t.Fatal(err)
		}
	}
	return evs, decoded
}

// The log is chronological, as a live system's is: one append per step, the
// steps of all needs interleaved in time order. With one writer the
// instants never go back; with several, an event is at most a few queues of
// steps away from its place in time order (each writer's queue holds 256
// steps).
func TestChronological(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		writers int
		skew    int // events an event may sit away from its place in time order
	}{
		{"one writer", 1, 0},
		{"four writers", 4, 4 * 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, decoded := mustDecoded(t, simulate.Options{Seed: 5, Months: 4, NeedsPerMonth: 1000, Writers: tc.writers})
			if tc.skew == 0 {
				for i := 1; i < len(decoded); i++ {
					if a, b := decoded[i-1].OccurredAt(), decoded[i].OccurredAt(); b.Before(a) {
						t.Fatalf("event %d (%s of %s) at %s after one at %s", i, evs[i].Type, evs[i].StreamID, b, a)
					}
				}
			}
			// Displacement: how far each event sits from its rank in time
			// order (ties kept in log order).
			rank := make([]int, len(decoded))
			for i := range rank {
				rank[i] = i
			}
			slices.SortStableFunc(rank, func(a, b int) int { return decoded[a].OccurredAt().Compare(decoded[b].OccurredAt()) })
			worst := 0
			for r, p := range rank {
				worst = max(worst, r-p, p-r)
			}
			if worst > tc.skew {
				t.Errorf("an event sits %d events away from its place in time order, want at most %d", worst, tc.skew)
			}
			// Interleaving: the events of a need that happen at several
			// instants are not contiguous in the log.
			type span struct {
				first, last, n int
				instants       map[time.Time]bool
			}
			needs := map[string]*span{}
			for i, ev := range evs {
				if domain.StreamKind(ev.StreamID) != domain.KindNeedStream {
					continue
				}
				s := needs[ev.StreamID]
				if s == nil {
					s = &span{first: i, instants: map[time.Time]bool{}}
					needs[ev.StreamID] = s
				}
				s.last, s.n = i, s.n+1
				s.instants[decoded[i].OccurredAt()] = true
			}
			var several, spread int
			for _, s := range needs {
				if len(s.instants) > 1 {
					several++
					if s.last-s.first+1 > s.n {
						spread++
					}
				}
			}
			if several < len(needs)/2 || spread < several*9/10 {
				t.Errorf("%d needs, %d with events at several instants, %d of them interleaved with other needs", len(needs), several, spread)
			}
		})
	}
}

// failingSealer refuses the contact of the need it is at after n seals.
type failingSealer struct{ n *atomic.Int64 }

var errSeal = errors.New("keyring down")

func (s failingSealer) Seal(_ context.Context, _ uuid.UUID, _ string, _ simulate.Contact) (domain.SealedContact, error) {
	if s.n.Add(-1) < 0 {
		return domain.SealedContact{}, errSeal
	}
	return domain.SealedContact{KeyID: "k", Ciphertext: []byte{1}}, nil
}

// A failing sealer or a cancelled context stops the run, which returns the
// error, and nothing is written after Run returns.
func TestStops(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// setup returns the options and the context to run with.
		setup func(o *simulate.Options, cancel context.CancelFunc)
		want  error
	}{
		{"sealer fails", func(o *simulate.Options, _ context.CancelFunc) {
			n := &atomic.Int64{}
			n.Store(150)
			o.Sealer = failingSealer{n}
		}, errSeal},
		{"context cancelled", func(o *simulate.Options, cancel context.CancelFunc) {
			o.Progress = func(needs, _ int64) {
				if needs >= 100 {
					cancel()
				}
			}
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// In a bubble, synctest.Wait returns once every goroutine Run
			// started has ended or blocks for good: a writer left running
			// has appended by then.
			synctest.Test(t, func(t *testing.T) {
				st := memory.New()
				defer st.Close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				o := simulate.Options{Seed: 2, Months: 3, NeedsPerMonth: 100, Writers: 3}
				tc.setup(&o, cancel)
				if _, err := simulate.Run(ctx, st, o); !errors.Is(err, tc.want) {
					t.Fatalf("Run = %v, want %v", err, tc.want)
				}
				head, err := st.Head(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if again, _ := st.Head(context.Background()); again != head {
					t.Fatalf("appends after Run returned: head %v then %v", head, again)
				}
				evs, err := st.ReadAll(context.Background(), eventstore.Start, 0)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(evs); n > 2000 { // a full run writes about 3,000
					t.Fatalf("%d events written before stopping", n)
				}
			})
		})
	}
}

// Ids are version 7, as the application's are, stamped with the instant
// of what they name: an event's with its occurrence, a need's with its
// capture.
func TestIDsAreVersion7AtTheirInstant(t *testing.T) {
	t.Parallel()
	evs, decoded := mustDecoded(t, simulate.Options{Seed: 9, Months: 1, NeedsPerMonth: 50, Writers: 2})
	stamp := func(id uuid.UUID) int64 {
		sec, nsec := id.Time().UnixTime()
		return sec*1000 + nsec/1_000_000
	}
	needs := 0
	for i, ev := range evs {
		at := decoded[i].OccurredAt().UnixMilli()
		if ev.ID.Version() != 7 || stamp(ev.ID) != at {
			t.Fatalf("event %d: id %s (version %d, %d ms), occurred at %d ms", i, ev.ID, ev.ID.Version(), stamp(ev.ID), at)
		}
		if c, ok := decoded[i].(domain.NeedCaptured); ok {
			needs++
			if c.NeedID.Version() != 7 || stamp(c.NeedID) != at {
				t.Fatalf("need %s (version %d) captured at %d ms", c.NeedID, c.NeedID.Version(), at)
			}
		}
	}
	if needs == 0 {
		t.Fatal("no need captured")
	}
}
