package eventstore

import (
	"fmt"

	"github.com/google/uuid"
)

// AssignIDs returns a copy of events where every uuid.Nil id is replaced by
// a new UUIDv7, so that adapters never change the caller's slice. It returns
// ErrDuplicateEvent when one id appears twice in the append, or the error of
// the random source.
func AssignIDs(events []NewEvent) ([]NewEvent, error) {
	out := make([]NewEvent, len(events))
	copy(out, events)
	seen := make(map[uuid.UUID]struct{}, len(out))
	for i := range out {
		if out[i].ID == uuid.Nil {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, fmt.Errorf("assign event id: %w", err)
			}
			out[i].ID = id
		}
		if _, dup := seen[out[i].ID]; dup {
			return nil, fmt.Errorf("%w: %s appears twice in one append", ErrDuplicateEvent, out[i].ID)
		}
		seen[out[i].ID] = struct{}{}
	}
	return out, nil
}
