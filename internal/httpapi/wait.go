package httpapi

import (
	"net/http"

	"github.com/reso-fr/reso/eventstore"
)

// minPosition decodes the optional min_position of a read: a Reso-Position
// a client got from a command, which the service waits for so that the
// client reads its own writes.
func minPosition(r *http.Request) (eventstore.Position, error) {
	s := r.URL.Query().Get("min_position")
	if s == "" {
		return eventstore.Position{}, nil
	}
	pos, err := eventstore.ParsePosition(s)
	if err != nil {
		return eventstore.Position{}, invalidField("min_position", "a position as returned in the Reso-Position header")
	}
	return pos, nil
}
