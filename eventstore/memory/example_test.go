package memory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/memory"
)

// An application service appends with the version it read; a concurrent
// writer makes it re-read and decide again.
func Example() {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()

	captured := eventstore.NewEvent{ID: uuid.Must(uuid.NewV7()), Type: "need.captured", SchemaVersion: 1,
		Data: json.RawMessage(`{"subject":"recrutement"}`)}
	res, err := s.Append(ctx, "need-1", eventstore.NoStream, captured)
	fmt.Println(res.LastVersion, err)

	// Someone else appended first: the expectation NoStream no longer holds.
	_, err = s.Append(ctx, "need-1", eventstore.NoStream, eventstore.NewEvent{Type: "need.forwarded", Data: json.RawMessage(`{}`)})
	var ce *eventstore.ConcurrencyError
	fmt.Println(errors.As(err, &ce), ce.Actual)

	// Retrying the first append is harmless: same result, nothing stored.
	again, err := s.Append(ctx, "need-1", eventstore.NoStream, captured)
	fmt.Println(again == res, err, s.Len())
	// Output:
	// 1 <nil>
	// true 1
	// true <nil> 1
}
