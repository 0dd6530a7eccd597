package kurrentdb

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

// recorded lists client messages, as a subscription of the client library
// hands them out, ending with a drop.
type recorded []*kdb.SubscriptionEvent

func (r *recorded) Recv() *kdb.SubscriptionEvent {
	if len(*r) == 0 {
		return &kdb.SubscriptionEvent{SubscriptionDropped: &kdb.SubscriptionDropped{Error: io.EOF}}
	}
	m := (*r)[0]
	*r = (*r)[1:]
	return m
}

func appeared(t *testing.T, stream, typ string, commit uint64) *kdb.SubscriptionEvent {
	t.Helper()
	meta, err := encodeMetadata(&eventstore.NewEvent{SchemaVersion: 1})
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	return &kdb.SubscriptionEvent{EventAppeared: &kdb.ResolvedEvent{Event: &kdb.RecordedEvent{
		EventID: mustUUID(t), EventType: typ, StreamID: stream,
		Position: kdb.Position{Commit: commit, Prepare: commit},
		Data:     []byte(`{}`), UserMetadata: meta, CreatedDate: time.Now(),
	}}}
}

// TestReceive checks what a subscription keeps of the server's messages:
// its namespace's events, in order, none at or before the last position
// (a resubscription starts there), no system event; checkpoints and
// catch-up notices advance nothing.
func TestReceive(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := &Store{opts: defaultOptions(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.opts.namespace = "ns-"
	sub := &subscription{s: s, ctx: ctx, events: make(chan eventstore.Event, 16)}
	msgs := recorded{
		appeared(t, "ns-a", "t", 90),  // before the start: skipped
		appeared(t, "ns-a", "t", 100), // the start itself: skipped
		appeared(t, "ns-a", "t", 110),
		{CheckPointReached: &kdb.Position{Commit: 115, Prepare: 115}},
		appeared(t, "$stats-1", "$statsCollected", 120),
		appeared(t, "ns-b", "$>", 125),
		appeared(t, "other-a", "t", 130),
		{CaughtUp: &kdb.CaughtUp{}},
		appeared(t, "ns-b", "t", 140),
		appeared(t, "ns-b", "t", 140), // repeated: skipped
	}
	last := eventstore.Position{Major: 100, Minor: 100}
	delivered, err := sub.receive(&msgs, &last)
	if !errors.Is(err, errDropped) || !delivered {
		t.Fatalf("receive: delivered %v, %v; want delivered and errDropped", delivered, err)
	}
	close(sub.events)
	var got []eventstore.Event
	for e := range sub.events {
		got = append(got, e)
	}
	if len(got) != 2 || got[0].Position.Major != 110 || got[1].Position.Major != 140 ||
		got[0].StreamID != "a" || got[1].StreamID != "b" {
		t.Fatalf("delivered %+v, want ns-a at 110 and ns-b at 140", got)
	}
	// The next subscription starts after the last event seen, delivered
	// or filtered out.
	if last != (eventstore.Position{Major: 140, Minor: 140}) {
		t.Errorf("last position %s, want 140/140", last)
	}
}

func TestReceiveStopsOnClose(t *testing.T) {
	t.Parallel()
	// In a bubble, synctest.Wait returns once receive is blocked.
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := &Store{opts: defaultOptions(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		// No room in the buffer: receive blocks on the first event until the
		// subscription closes.
		sub := &subscription{s: s, ctx: ctx, events: make(chan eventstore.Event)}
		msgs := recorded{appeared(t, "a", "t", 10), appeared(t, "a", "t", 20)}
		done := make(chan error, 1)
		last := eventstore.Start
		go func() {
			_, err := sub.receive(&msgs, &last)
			done <- err
		}()
		synctest.Wait()
		if len(msgs) != 1 {
			t.Fatalf("receive blocked with %d messages left, want 1: not on the first event's delivery", len(msgs))
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("receive after close: %v, want nil", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("receive did not return after close")
		}
	})
}

func TestReceiveUndecodable(t *testing.T) {
	t.Parallel()
	s := &Store{opts: defaultOptions(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sub := &subscription{s: s, ctx: t.Context(), events: make(chan eventstore.Event, 4)}
	bad := appeared(t, "a", "t", 10)
	bad.EventAppeared.Event.UserMetadata = []byte("{")
	msgs := recorded{bad}
	last := eventstore.Start
	if _, err := sub.receive(&msgs, &last); err == nil || errors.Is(err, errDropped) {
		t.Errorf("receive of an undecodable event: %v, want a decoding error", err)
	}
}
