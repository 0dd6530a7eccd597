package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/reso-fr/reso/eventstore"
)

// A log whose transaction ids lie ahead of the cluster's (as after a
// restore into a fresh cluster) is invisible until RebaseAfterRestore
// renumbers it; then it reads in its old order, and new events follow it.
func TestRebaseAfterRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dsn := mustStore(t)
	for i := range 6 {
		mustAppend(t, s, fmt.Sprintf("s-%d", i%3), eventstore.AnyVersion, mustEvent(t, "T", i), mustEvent(t, "T", 100+i))
	}
	before := mustReadAll(t, s)
	if len(before) != 12 {
		t.Fatalf("%d events", len(before))
	}
	s.Close()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if rebased, err := RebaseAfterRestore(ctx, pool); err != nil || rebased {
		t.Fatalf("rebase of a log of this cluster = %v, %v; want nothing done", rebased, err)
	}
	// What a dump of a cluster a billion transactions ahead brings.
	if _, err := pool.Exec(ctx, `UPDATE events SET transaction_id = (transaction_id::text::bigint + 1000000000)::text::xid8`); err != nil {
		t.Fatal(err)
	}
	if got := mustReadAll(t, mustOpen(t, dsn, WithReadWait(0))); len(got) != 0 {
		t.Fatalf("before the rebase %d events are visible; the test does not show the problem", len(got))
	}
	if rebased, err := RebaseAfterRestore(ctx, pool); err != nil || !rebased {
		t.Fatalf("rebase = %v, %v", rebased, err)
	}
	s2 := mustOpen(t, dsn)
	after := mustReadAll(t, s2)
	if len(after) != len(before) {
		t.Fatalf("after the rebase %d events, want %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.StreamID != b.StreamID || a.Version != b.Version || string(a.Data) != string(b.Data) {
			t.Fatalf("event %d: %+v, was %+v", i, a, b)
		}
		if a.Position != (eventstore.Position{Major: 3, Minor: uint64(i + 1)}) {
			t.Errorf("event %d at %s, want 3/%d", i, a.Position, i+1)
		}
	}
	res := mustAppend(t, s2, "s-0", eventstore.Exactly(4), mustEvent(t, "T", 999))
	if !after[len(after)-1].Position.Less(res.Position) {
		t.Errorf("a new event at %s, not after %s", res.Position, after[len(after)-1].Position)
	}
	if got := mustReadAll(t, s2); len(got) != 13 || got[12].Position != res.Position {
		t.Errorf("the log after an append: %d events", len(got))
	}
	if rebased, err := RebaseAfterRestore(ctx, pool); err != nil || rebased {
		t.Fatalf("second rebase = %v, %v", rebased, err)
	}
}
