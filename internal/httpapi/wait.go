package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// maxWait bounds how long a read waits for projections to reach its
// min_position.
const maxWait = 5 * time.Second

// waitMinPosition blocks until every projection has applied the request's
// min_position (a Reso-Position a client got from a command), so that a
// client reads its own writes. Past maxWait it is a 503 with Retry-After:
// answering with a view that misses the client's write would break the
// promise silently.
func (a *api) waitMinPosition(r *http.Request) error {
	s := r.URL.Query().Get("min_position")
	if s == "" {
		return nil
	}
	pos, err := eventstore.ParsePosition(s)
	if err != nil {
		return invalidField("min_position", "a position as returned in the Reso-Position header")
	}
	if pos.IsZero() {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), maxWait)
	defer cancel()
	if err := a.d.Projections.WaitFor(ctx, pos); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
			p := newProblem(http.StatusServiceUnavailable, "projection-lag", "Read models behind",
				"projections did not reach min_position "+s+" within 5 s; retry")
			p.retryAfter = "1"
			return p
		}
		return err
	}
	return nil
}
