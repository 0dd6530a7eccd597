package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/reso-fr/reso/eventstore"
)

func TestBulkAppend(t *testing.T) {
	t.Parallel()
	s, _ := mustStore(t)
	ctx := context.Background()
	var batches []Batch
	for i := range 3 {
		b := Batch{Stream: fmt.Sprintf("bulk-%d", i)}
		for j := range 4 {
			e := mustEvent(t, "imported", j)
			e.Metadata.ActorID = "importer"
			b.Events = append(b.Events, e)
		}
		batches = append(batches, b)
	}
	n, err := s.BulkAppend(ctx, batches)
	if err != nil || n != 12 {
		t.Fatalf("bulk append: %d, %v; want 12", n, err)
	}
	all := mustReadAll(t, s)
	if len(all) != 12 {
		t.Fatalf("read %d events, want 12", len(all))
	}
	for i, e := range all {
		want := batches[i/4].Events[i%4]
		if e.ID != want.ID || e.StreamID != batches[i/4].Stream || e.Version != int64(i%4+1) ||
			string(e.Data) != string(want.Data) || e.Metadata.ActorID != "importer" {
			t.Errorf("event %d: %+v, want %s@%d %s", i, e, batches[i/4].Stream, i%4+1, want.Data)
		}
	}
	// Appending to a bulk-made stream continues its versions.
	res := mustAppend(t, s, "bulk-0", eventstore.Exactly(4), mustEvent(t, "after", 0))
	if res.FirstVersion != 5 {
		t.Errorf("append after bulk at version %d, want 5", res.FirstVersion)
	}

	tests := []struct {
		name  string
		batch Batch
		want  error
	}{
		{"existing stream", Batch{Stream: "bulk-1", Events: []eventstore.NewEvent{mustEvent(t, "x", 0)}}, eventstore.ErrConcurrency},
		{"stored id", Batch{Stream: "bulk-new", Events: []eventstore.NewEvent{batches[2].Events[0]}}, eventstore.ErrDuplicateEvent},
		{"bad input", Batch{Stream: "", Events: []eventstore.NewEvent{mustEvent(t, "x", 0)}}, eventstore.ErrInvalidEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fresh := Batch{Stream: "fresh-" + tt.name, Events: []eventstore.NewEvent{mustEvent(t, "x", 1)}}
			_, err := s.BulkAppend(ctx, []Batch{fresh, tt.batch})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if _, err := s.ReadStream(ctx, fresh.Stream, 1, 0); !errors.Is(err, eventstore.ErrNotFound) {
				t.Errorf("a failed bulk append wrote %s (read err %v)", fresh.Stream, err)
			}
		})
	}
}
