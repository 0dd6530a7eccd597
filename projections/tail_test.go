package projections

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/memory"
)

// Runners reading through the tail, from different positions, some slow
// enough to fall behind what it keeps, each receive exactly the events
// after their position, in log order, while writers append.
func TestLogTailDeliversEveryEventOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := memory.New()
	const total = 3000
	mustAppendN := func(n, from int) []eventstore.Position {
		t.Helper()
		var out []eventstore.Position
		for i := range n {
			res, err := st.Append(ctx, fmt.Sprintf("s-%d", (from+i)%17), eventstore.AnyVersion,
				eventstore.NewEvent{ID: uuid.New(), Type: "T", SchemaVersion: 1, Data: []byte(`{}`)})
			if err != nil {
				t.Error(err)
				return out
			}
			out = append(out, res.Position)
		}
		return out
	}
	log := mustAppendN(500, 0) // a backlog before the runners start
	tail := newLogTail(ctx, st, 50, slog.Default())
	starts := []eventstore.Position{eventstore.Start, log[99], log[499]}
	var wg sync.WaitGroup
	got := make([][]eventstore.Position, len(starts)+1)
	var mu sync.Mutex
	viaTail, viaOwn := 0, 0
	read := func(k int, from eventstore.Position, n int, slow bool) {
		defer wg.Done()
		sub := tail.subscribe(from)
		defer sub.Close()
		defer func() {
			mu.Lock()
			viaTail, viaOwn = viaTail+sub.viaTail, viaOwn+sub.viaOwn
			mu.Unlock()
		}()
		for len(got[k]) < n {
			evs, err := sub.Next(ctx, 1+rand.IntN(64))
			if err != nil {
				t.Errorf("reader %d: %v after %d events", k, err, len(got[k]))
				return
			}
			for _, e := range evs {
				got[k] = append(got[k], e.Position)
			}
			if slow && rand.IntN(10) == 0 {
				// Kept: the workload, not a synchronisation. A slow
				// reader falls behind the 50 events the tail keeps and
				// must read through its own subscription.
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	for k, from := range starts {
		wg.Add(1)
		go read(k, from, total-countUpTo(log, from), k == 1)
	}
	more := mustAppendN(total-1000, 500)
	log = append(log, more...)
	wg.Add(1)
	go read(len(starts), log[1999], total-2000, false) // joins late
	starts = append(starts, log[1999])
	// The last events come slowly, as live ones do: the readers that have
	// caught up then take them from the tail. (All at once, the memory
	// store can take them faster than any reader catches up, and every
	// event goes through the readers' own subscriptions.)
	for i := range 500 {
		log = append(log, mustAppendN(1, total-500+i)...)
		if i%5 == 0 {
			time.Sleep(time.Millisecond) // kept: the live pace is the workload under test
		}
	}
	wg.Wait()
	if viaTail == 0 || viaOwn == 0 {
		t.Fatalf("%d events came through the tail and %d through the readers' own subscriptions: both paths should serve", viaTail, viaOwn)
	}
	t.Logf("%d events through the tail, %d through own subscriptions", viaTail, viaOwn)
	for k, from := range starts {
		want := log[countUpTo(log, from):]
		if len(got[k]) != len(want) {
			t.Fatalf("reader %d from %s: %d events, want %d", k, from, len(got[k]), len(want))
		}
		for i := range want {
			if got[k][i] != want[i] {
				t.Fatalf("reader %d from %s: event %d at %s, want %s", k, from, i, got[k][i], want[i])
			}
		}
	}
}

// countUpTo is how many positions of log are at or before pos.
func countUpTo(log []eventstore.Position, pos eventstore.Position) int {
	n := 0
	for _, p := range log {
		if !pos.Less(p) {
			n++
		}
	}
	return n
}

// The tail trims itself in place: it keeps at least its keep (once it has
// read that many) and at most twice as many, every event after from is in
// it, positions before from are outside it, and the trimmed events are
// cleared so that their data can be freed.
func TestLogTailTrimsInPlace(t *testing.T) {
	t.Parallel()
	const keep, total, maxBatch = 10, 500, 7
	tail := newLogTail(context.Background(), nil, keep, slog.Default())
	tail.running = true // fed by hand, as run would
	at := func(i int) eventstore.Position { return eventstore.Position{Major: 1, Minor: uint64(i)} }
	rng := rand.New(rand.NewPCG(1, 2))
	steady := 0
	for n := 0; n < total; {
		batch := make([]eventstore.Event, 1+rng.IntN(maxBatch))
		for i := range batch {
			n++
			batch[i] = eventstore.Event{Position: at(n), StreamID: fmt.Sprintf("s-%d", n), Data: []byte(`{}`)}
		}
		tail.add(batch)

		kept := len(tail.evs)
		if kept < min(n, keep) || kept > 2*keep {
			t.Fatalf("after %d events the tail keeps %d, want %d to %d", n, kept, min(n, keep), 2*keep)
		}
		// Once the array holds twice keep and a batch, trims are in place:
		// it never grows or moves again.
		switch {
		case steady == 0 && cap(tail.evs) >= 2*keep+maxBatch:
			steady = cap(tail.evs)
		case steady != 0 && cap(tail.evs) != steady:
			t.Fatalf("after %d events the tail's array holds %d, want the %d it settled at", n, cap(tail.evs), steady)
		}
		wantFrom := eventstore.Start
		if first := n - kept; first > 0 {
			wantFrom = at(first)
		}
		if tail.from != wantFrom {
			t.Fatalf("after %d events, from is %s, want %s", n, tail.from, wantFrom)
		}
		evs, inside, _ := tail.after(tail.from, total)
		if !inside || len(evs) != kept || evs[0].Position != tail.evs[0].Position || evs[kept-1].Position != at(n) {
			t.Fatalf("after %d events, reading from %s: inside %v, %d events, want the %d kept up to %s", n, tail.from, inside, len(evs), kept, at(n))
		}
		if !tail.from.IsZero() {
			if _, inside, _ := tail.after(at(n-kept-1), total); inside {
				t.Fatalf("after %d events, position %s before from %s is inside the tail", n, at(n-kept-1), tail.from)
			}
		}
		for i, e := range tail.evs[kept:cap(tail.evs)] {
			if e.StreamID != "" || e.Data != nil {
				t.Fatalf("after %d events, slot %d past the kept events still holds %s", n, kept+i, e.StreamID)
			}
		}
	}
	if steady == 0 {
		t.Fatalf("the tail's array never grew to %d", 2*keep+maxBatch)
	}
}
