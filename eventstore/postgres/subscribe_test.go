package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// mustListening subscribes to s from its head and waits until its LISTEN
// connection is up, so that a notification cannot be missed.
func mustListening(t *testing.T, s *Store) eventstore.Subscription {
	t.Helper()
	ctx := context.Background()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.Subscribe(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	select {
	case <-s.listening:
	case <-time.After(10 * time.Second):
		t.Fatal("LISTEN connection not up after 10s")
	}
	return sub
}

type nextResult struct {
	events []eventstore.Event
	err    error
	at     time.Time
}

// waitsSignalled makes s's subscriptions send on the returned channel each
// time Next is about to wait, without blocking if nobody reads it. Call it
// before subscribing.
func waitsSignalled(s *Store) <-chan struct{} {
	waits := make(chan struct{}, 1)
	s.beforeWait = func() {
		select {
		case waits <- struct{}{}:
		default:
		}
	}
	return waits
}

func goNext(sub eventstore.Subscription, ctx context.Context) <-chan nextResult {
	ch := make(chan nextResult, 1)
	go func() {
		ev, err := sub.Next(ctx, 100)
		ch <- nextResult{ev, err, time.Now()}
	}()
	return ch
}

// TestNotifyWakesOtherStore: a store in another process (here: another
// Store on the same schema) polls once a minute, so only the NOTIFY sent
// after commit can deliver the event quickly.
func TestNotifyWakesOtherStore(t *testing.T) {
	t.Parallel()
	writer, dsn := mustStore(t)
	reader := mustOpen(t, dsn, WithPollInterval(time.Minute))
	waits := waitsSignalled(reader)
	sub := mustListening(t, reader)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := goNext(sub, ctx)
	<-waits // Next found nothing: only the notification can wake it now
	res := mustAppend(t, writer, "s", eventstore.NoStream, mustEvent(t, "a", 1))
	committed := time.Now()
	r := <-got
	if r.err != nil {
		t.Fatalf("next: %v", r.err)
	}
	if len(r.events) != 1 || r.events[0].Position != res.Position {
		t.Fatalf("got %d events, want the appended one", len(r.events))
	}
	if d := r.at.Sub(committed); d > 5*time.Second {
		t.Errorf("delivered %v after commit: the notification did not wake the reader", d)
	} else {
		t.Logf("delivered %v after commit", d)
	}
}

// TestFastPollWhileHeldBack: an event committed behind an open transaction
// becomes visible when that transaction ends, which sends no notification;
// the subscriber polls fast while it knows such events exist.
func TestFastPollWhileHeldBack(t *testing.T) {
	// Not parallel: holding the horizon holds back every reader of the
	// cluster, including the other tests of this package.
	writer, dsn := mustStore(t)
	reader := mustOpen(t, dsn, WithPollInterval(time.Minute))
	waits := waitsSignalled(reader)
	sub := mustListening(t, reader)
	_, release := mustHoldHorizon(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := goNext(sub, ctx)
	mustAppend(t, writer, "s", eventstore.NoStream, mustEvent(t, "a", 1))
	// Two waits signalled after the append: the read between them began
	// after the commit, and found nothing to deliver.
	select {
	case <-waits:
	default:
	}
	for range 2 {
		select {
		case <-waits:
		case r := <-got:
			t.Fatalf("delivered %d events while the horizon is held (err %v)", len(r.events), r.err)
		}
	}
	select {
	case r := <-got:
		t.Fatalf("delivered %d events while the horizon is held (err %v)", len(r.events), r.err)
	default:
	}
	release()
	released := time.Now()
	r := <-got
	// The holder's own event and the appended one.
	if r.err != nil || len(r.events) != 2 {
		lag, _ := reader.HorizonLag(context.Background())
		t.Fatalf("after release: %d events, err %v (horizon now: %+v)", len(r.events), r.err, lag)
	}
	if d := r.at.Sub(released); d > 5*time.Second {
		t.Errorf("delivered %v after the horizon moved: no fast polling", d)
	} else {
		t.Logf("delivered %v after the horizon moved", d)
	}
}

func TestSubscriptionEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		end  func(s *Store, sub eventstore.Subscription, cancel context.CancelFunc)
		want error
	}{
		{"subscription closed", func(_ *Store, sub eventstore.Subscription, _ context.CancelFunc) { _ = sub.Close() }, eventstore.ErrClosed},
		{"store closed", func(s *Store, _ eventstore.Subscription, _ context.CancelFunc) { _ = s.Close() }, eventstore.ErrClosed},
		{"context cancelled", func(_ *Store, _ eventstore.Subscription, cancel context.CancelFunc) { cancel() }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := mustStore(t, WithPollInterval(time.Minute))
			waits := waitsSignalled(s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sub, err := s.Subscribe(ctx, eventstore.Start)
			if err != nil {
				t.Fatal(err)
			}
			got := goNext(sub, ctx)
			<-waits // the end must wake a Next that waits, not one still reading
			tt.end(s, sub, cancel)
			select {
			case r := <-got:
				if !errors.Is(r.err, tt.want) {
					t.Errorf("next: %v, want %v", r.err, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Next still blocked 5s after the end")
			}
		})
	}
}

func TestChannelNamePerSchema(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("s", 63)
	names := map[string]string{}
	for _, schema := range []string{"public", "t_0123456789ab", "t_0123456789ac", long} {
		c := channelName(schema)
		if len(c) > 63 {
			t.Errorf("channel for %q is %d bytes, over PostgreSQL's 63", schema, len(c))
		}
		if other, dup := names[c]; dup {
			t.Errorf("schemas %q and %q share channel %q", schema, other, c)
		}
		names[c] = schema
	}
}

// A subscription sizes each read's array by the last read: a live read of
// a few events does not allocate the page it may return, and a read after
// a full page starts with the whole page again.
func TestSubscriptionSizesReadsByTheLast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := mustStore(t)
	const page = 1000
	sub, err := s.Subscribe(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	next := func(want int) []eventstore.Event {
		t.Helper()
		evs, err := sub.Next(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != want {
			t.Fatalf("read %d events, want %d", len(evs), want)
		}
		return evs
	}
	many := func(n int) []eventstore.NewEvent {
		evs := make([]eventstore.NewEvent, n)
		for i := range evs {
			evs[i] = mustEvent(t, "sized", i)
		}
		return evs
	}

	mustAppend(t, s, "live", eventstore.NoStream, many(3)...)
	if evs := next(3); cap(evs) > 64 {
		t.Fatalf("a live read of 3 events holds an array of %d, want at most 64", cap(evs))
	}
	mustAppend(t, s, "backlog", eventstore.NoStream, many(2*page+5)...)
	next(page) // grows from the live read's size
	if evs := next(page); cap(evs) != page {
		t.Fatalf("the read after a full page holds an array of %d, want the page, %d", cap(evs), page)
	}
	if evs := next(5); cap(evs) != page {
		t.Fatalf("the read after a full page holds an array of %d, want the page, %d", cap(evs), page)
	}
	mustAppend(t, s, "live", 3, many(2)...)
	if evs := next(2); cap(evs) > 64 {
		t.Fatalf("a live read of 2 events after a short read of 5 holds an array of %d, want at most 64", cap(evs))
	}
}
