package eventstoretest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/reso-fr/reso/eventstore"
)

func readCases() []testCase {
	return []testCase{
		{"ReadStream", true, testReadStream},
		{"ReadAll", true, testReadAll},
		{"Head", true, testHead},
		{"PositionEncoding", true, testPositionEncoding},
	}
}

func testReadStream(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	evs := newEvents(t, "t", "rs", 10)
	mustAppend(t, ctx, s, "rs", eventstore.NoStream, evs[:4]...)
	mustAppend(t, ctx, s, "noise", eventstore.NoStream, newEvents(t, "t", "n", 2)...)
	mustAppend(t, ctx, s, "rs", eventstore.Exactly(4), evs[4:]...)

	tests := []struct {
		name        string
		from        int64
		limit       int
		first, last int64 // 0, 0 when empty
	}{
		{"all from 1", 1, 0, 1, 10},
		{"all from 0", 0, 0, 1, 10},
		{"negative limit is no limit", 1, -1, 1, 10},
		{"from the middle", 4, 0, 4, 10},
		{"from the last", 10, 0, 10, 10},
		{"past the end", 11, 0, 0, 0},
		{"limit", 1, 3, 1, 3},
		{"from and limit", 5, 2, 5, 6},
		{"limit over the end", 8, 50, 8, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustReadStream(t, ctx, s, "rs", tt.from, tt.limit)
			if tt.first == 0 {
				if len(got) != 0 {
					t.Fatalf("read %d events, want none", len(got))
				}
				return
			}
			if want := int(tt.last - tt.first + 1); len(got) != want {
				t.Fatalf("read %d events, want %d", len(got), want)
			}
			for i, e := range got {
				v := tt.first + int64(i)
				checkEvent(t, e, "rs", v, evs[v-1])
			}
			checkStrictOrder(t, "stream", got)
		})
	}
	if _, err := s.ReadStream(ctx, "missing", 1, 0); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("read missing stream: %v, want ErrNotFound", err)
	}
}

func testReadAll(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	if evs, err := s.ReadAll(ctx, eventstore.Start, 10); err != nil || len(evs) != 0 {
		t.Fatalf("read empty log: %d events, error %v", len(evs), err)
	}
	// 3 streams interleaved, 30 events in 15 appends.
	var want []string
	for i := range 15 {
		stream := fmt.Sprintf("ra-%d", i%3)
		evs := newEvents(t, "t", stream, 1+i%2)
		mustAppend(t, ctx, s, stream, eventstore.AnyVersion, evs...)
		for _, e := range evs {
			want = append(want, e.ID.String())
		}
	}
	all := mustReadAllFrom(t, ctx, s, eventstore.Start, 1000)
	if len(all) != len(want) {
		t.Fatalf("read %d events, want %d", len(all), len(want))
	}
	for i, e := range all {
		if e.ID.String() != want[i] {
			t.Fatalf("log[%d] is %s, want %s (append order)", i, e.ID, want[i])
		}
	}
	checkStrictOrder(t, "log", all)

	tests := []struct {
		name  string
		after int // index of the event to read after; -1 for Start
		limit int
		want  int
	}{
		{"from start with limit", -1, 5, 5},
		{"after the first", 0, 1000, len(all) - 1},
		{"after the middle with limit", 10, 7, 7},
		{"after the last", len(all) - 1, 10, 0},
		{"limit over the end", len(all) - 4, 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := eventstore.Start
			if tt.after >= 0 {
				after = all[tt.after].Position
			}
			got, err := s.ReadAll(ctx, after, tt.limit)
			if err != nil {
				t.Fatalf("read all: %v", err)
			}
			if len(got) != tt.want {
				t.Fatalf("read %d events, want %d", len(got), tt.want)
			}
			for i, e := range got {
				if w := all[tt.after+1+i]; e.ID != w.ID || e.Position != w.Position {
					t.Fatalf("event %d is %s at %s, want %s at %s", i, e.ID, e.Position, w.ID, w.Position)
				}
			}
		})
	}
	// Paging one event at a time yields the same log.
	paged := mustReadAllFrom(t, ctx, s, eventstore.Start, 1)
	if len(paged) != len(all) {
		t.Fatalf("paged read: %d events, want %d", len(paged), len(all))
	}
	for i := range paged {
		if paged[i].ID != all[i].ID {
			t.Fatalf("paged read differs at %d", i)
		}
	}
}

func testHead(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	head, err := s.Head(ctx)
	if err != nil || !head.IsZero() {
		t.Fatalf("head of empty log: %s, %v; want zero", head, err)
	}
	prev := head
	for i := range 3 {
		res := mustAppend(t, ctx, s, fmt.Sprintf("h-%d", i), eventstore.NoStream, newEvents(t, "t", "h", 2)...)
		head, err := s.Head(ctx)
		if err != nil {
			t.Fatalf("head: %v", err)
		}
		if head != res.Position || !prev.Less(head) {
			t.Fatalf("head %s after append at %s (previous head %s)", head, res.Position, prev)
		}
		prev = head
	}
}

func testPositionEncoding(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	for i := range 5 {
		mustAppend(t, ctx, s, fmt.Sprintf("p-%d", i%2), eventstore.AnyVersion, newEvents(t, "t", "p", 3)...)
	}
	all := mustReadAllFrom(t, ctx, s, eventstore.Start, 100)
	if len(all) != 15 {
		t.Fatalf("read %d events, want 15", len(all))
	}
	for i, e := range all {
		p, err := eventstore.ParsePosition(e.Position.String())
		if err != nil || p != e.Position {
			t.Fatalf("position %v: parse(%q) = %v, %v", e.Position, e.Position.String(), p, err)
		}
		if i > 0 && all[i-1].Position.String() >= e.Position.String() {
			t.Fatalf("encodings %q and %q do not sort like the positions", all[i-1].Position, e.Position)
		}
		// A parsed position reads on from the same place.
		if i == 7 {
			rest, err := s.ReadAll(ctx, p, 100)
			if err != nil || len(rest) != 7 || rest[0].ID != all[8].ID {
				t.Fatalf("read after parsed position: %d events, %v", len(rest), err)
			}
		}
	}
}
