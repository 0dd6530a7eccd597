package projections_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/projections"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

func mustAppend(t *testing.T, st eventstore.Store, stream string, expected eventstore.ExpectedVersion, evs ...domain.Event) eventstore.Position {
	t.Helper()
	news := make([]eventstore.NewEvent, len(evs))
	for i, e := range evs {
		typ, v, data, err := domain.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := uuid.NewV7()
		news[i] = eventstore.NewEvent{ID: id, Type: typ, SchemaVersion: v, Data: data}
	}
	res, err := st.Append(context.Background(), stream, expected, news...)
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

var (
	t0      = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	advisor = domain.Actor{ID: uuid.MustParse("00000000-0000-4000-8000-000000000001"), Role: domain.RoleAdvisor}
)

func captured(id uuid.UUID, keyID string) domain.NeedCaptured {
	return domain.NeedCaptured{Meta: domain.Meta{At: t0, By: advisor}, NeedID: id, SIRET: "73282932000074",
		CompanyName: "Boulangerie Test", Commune: "59350", Subject: "recruitment", Description: "x",
		Contact: domain.SealedContact{KeyID: keyID, Ciphertext: []byte{1, 2, 3}}, AdvisorID: advisor.ID}
}

// WaitFor returns once every projection has passed the position, with the
// row visible; a position not reached yet times out.
func TestWaitForAndErasure(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			ctx := context.Background()
			id := uuid.New()
			pos := mustAppend(t, b.Store, domain.NeedStream(id), eventstore.NoStream, captured(id, "key-1"))
			pt.MustWait(t, e, pos)
			n, err := e.Need(ctx, id, t0)
			if err != nil {
				t.Fatal(err)
			}
			if n.ContactKeyID != "key-1" || n.ContactErased || n.Departement != "59" || n.Region != "32" || n.Status != "captured" {
				t.Fatalf("need = %+v", n)
			}

			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			future := eventstore.Position{Major: pos.Major, Minor: pos.Minor + 1000}
			if err := e.WaitFor(short, future); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WaitFor(future) = %v, want deadline exceeded", err)
			}

			pos = mustAppend(t, b.Store, domain.NeedStream(id), eventstore.Exactly(1),
				domain.ContactErased{Meta: domain.Meta{At: t0.Add(time.Hour), By: advisor}, NeedID: id, KeyID: "key-1"})
			pt.MustWait(t, e, pos)
			n, err = e.Need(ctx, id, t0)
			if err != nil {
				t.Fatal(err)
			}
			if n.ContactKeyID != "" || !n.ContactErased {
				t.Fatalf("after erasure need = %+v", n)
			}
			for _, q := range []string{"SELECT count(*) FROM needs WHERE contact_key_id LIKE '%key-1%'",
				"SELECT count(*) FROM stats_needs WHERE state LIKE '%key-1%'"} {
				var hits int
				if err := b.DB.QueryRow(q).Scan(&hits); err != nil {
					t.Fatal(err)
				}
				if hits != 0 {
					t.Fatalf("%s: the erased key id is still there", q)
				}
			}
			if _, err := e.Need(ctx, uuid.New(), t0); !errors.Is(err, projections.ErrNotFound) {
				t.Fatalf("unknown need: %v", err)
			}
		})
	}
}

// An event a projection cannot apply stops it with the error in its
// status; it is not skipped: the checkpoint stays before it.
func TestUnfitEventStopsProjection(t *testing.T) {
	t.Parallel()
	b := pt.MustSQLite(t)
	e := pt.MustEngine(t, b, readmodels.Options{})
	pt.MustRun(t, e)
	id := uuid.New()
	good := mustAppend(t, b.Store, domain.NeedStream(id), eventstore.NoStream, captured(id, "k"))
	pt.MustWait(t, e, good)
	mustAppend(t, b.Store, domain.NeedStream(id), eventstore.Exactly(1), domain.MatchStatusChanged{
		Meta: domain.Meta{At: t0, By: advisor}, NeedID: id, ReferentID: uuid.New(), From: domain.MatchQuo, To: domain.MatchTakingCare})
	testwait.MustEventually(t, 10*time.Second, func() error {
		sts, err := e.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var needs projections.Status
		for _, s := range sts {
			if s.Name == readmodels.Needs {
				needs = s
			}
		}
		if needs.State == projections.StateFailed && strings.Contains(needs.LastError, "no match with referent") {
			if needs.Position != good.String() || needs.LagEvents != 1 {
				t.Fatalf("failed projection moved on: %+v (good %s)", needs, good)
			}
			return nil
		}
		return fmt.Errorf("needs never failed: %+v", sts)
	})
}

// A rebuild meeting an event the projections cannot apply fails with that
// event's error (not with the cancellation of the other goroutines) and
// leaves the live tables as they were.
func TestRebuildStopsOnUnfitEvent(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{RebuildBatch: 7})
			id := uuid.New()
			// The bad event early, many pages before the end of the log.
			mustAppend(t, b.Store, domain.NeedStream(id), eventstore.NoStream, captured(id, "k"))
			mustAppend(t, b.Store, domain.NeedStream(id), eventstore.Exactly(1), domain.MatchStatusChanged{
				Meta: domain.Meta{At: t0, By: advisor}, NeedID: id, ReferentID: uuid.New(), From: domain.MatchQuo, To: domain.MatchTakingCare})
			var last eventstore.Position
			for i := 0; i < 200; i++ {
				other := uuid.New()
				last = mustAppend(t, b.Store, domain.NeedStream(other), eventstore.NoStream, captured(other, "k"))
			}
			// On PostgreSQL the events become visible once every older
			// transaction of the server has ended (other tests' too): a
			// rebuild before that would read an empty log and succeed.
			testwait.MustEventually(t, 30*time.Second, func() error {
				head, err := b.Store.Head(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if head.Less(last) {
					return fmt.Errorf("head %s, appended up to %s", head, last)
				}
				return nil
			})
			err := e.RebuildAll(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), "no match with referent") {
				t.Fatalf("RebuildAll = %v, want the unfit event's error", err)
			}
			var n int
			if err := b.DB.QueryRow("SELECT count(*) FROM needs").Scan(&n); err != nil || n != 0 {
				t.Fatalf("live needs: %d rows (%v), want the untouched empty table", n, err)
			}
		})
	}
}

// Kill the runners at random points (cancelled mid-batch, failed
// transactions) and restart them: the read models still equal a rebuild.
func TestCrashesKeepReadModelsExact(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			r := rand.New(rand.NewPCG(1, 2))
			var failures, calls atomic.Int64
			opts := readmodels.Options{BatchSize: 37, BeforeCommit: func(string, []eventstore.Event) error {
				if calls.Add(1)%4 == 0 {
					failures.Add(1)
					return errors.New("injected failure")
				}
				return nil
			}}
			e := pt.MustEngine(t, b, opts)
			done := make(chan simulate.Result)
			go func() {
				res, err := simulate.Run(context.Background(), b.Store, simulate.Options{Seed: 3, Months: 2, NeedsPerMonth: 80, Writers: 3, SignauxFaibles: true})
				if err != nil {
					t.Error(err)
				}
				done <- res
			}()
			var res simulate.Result
			finished := false
			// Runs of random length: some end mid-batch, some after many.
			for i := 0; (!finished || i < 3 || failures.Load() < 3) && i < 300; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(20+r.IntN(400))*time.Millisecond)
				_ = e.Run(ctx)
				cancel()
				select {
				case res = <-done:
					finished = true
				default:
				}
			}
			clean := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, clean)
			pt.MustWait(t, clean, res.Last)
			if failures.Load() == 0 {
				t.Fatal("no failure was injected")
			}
			pt.MustMatchRebuild(t, clean, b.DB)
		})
	}
}

// Two engines on one PostgreSQL schema: one runs each projection, the other
// waits in standby and takes over when the first stops.
func TestStandbyTakesOver(t *testing.T) {
	t.Parallel()
	b := pt.MustPostgres(t)
	first := pt.MustEngine(t, b, readmodels.Options{})
	second := pt.MustEngine(t, b, readmodels.Options{})
	stopFirst := pt.MustRun(t, first)
	id := uuid.New()
	pt.MustWait(t, first, mustAppend(t, b.Store, domain.NeedStream(id), eventstore.NoStream, captured(id, "k")))
	pt.MustRun(t, second)
	mustState(t, second, projections.StateStandby)
	mustState(t, first, projections.StateRunning)
	stopFirst()
	mustState(t, second, projections.StateRunning)
	id2 := uuid.New()
	pt.MustWait(t, second, mustAppend(t, b.Store, domain.NeedStream(id2), eventstore.NoStream, captured(id2, "k2")))
	if _, err := second.Need(context.Background(), id2, t0); err != nil {
		t.Fatal(err)
	}
}

func mustState(t *testing.T, e *readmodels.Engine, want string) {
	t.Helper()
	testwait.MustEventually(t, 10*time.Second, func() error {
		sts, err := e.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			if s.State != want {
				return fmt.Errorf("states %+v, want all %s", sts, want)
			}
		}
		return nil
	})
}
