package memory_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/memory"
)

// TestCopiesData: the store keeps its own copy of data, so callers may
// reuse their buffers on both sides.
func TestCopiesData(t *testing.T) {
	t.Parallel()
	s := memory.New()
	defer s.Close()
	buf := []byte(`{"n":1}`)
	if _, err := s.Append(t.Context(), "s", eventstore.NoStream, eventstore.NewEvent{ID: uuid.New(), Type: "t", Data: json.RawMessage(buf)}); err != nil {
		t.Fatalf("append: %v", err)
	}
	copy(buf, `{"n":9}`)
	got, err := s.ReadStream(t.Context(), "s", 1, 0)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	got[0].Data[5] = '7'
	again, err := s.ReadAll(t.Context(), eventstore.Start, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	if string(again[0].Data) != `{"n":1}` {
		t.Fatalf("stored data %s, want {\"n\":1}", again[0].Data)
	}
	if s.Len() != 1 {
		t.Fatalf("Len() = %d, want 1", s.Len())
	}
}
