package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/verify"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/readmodels"
)

// logEvent is what the checks need of an event of the log.
type logEvent struct {
	Type     string `json:"type"`
	StreamID string `json:"stream_id"`
	Metadata struct {
		ActorID        string `json:"actor_id"`
		IdempotencyKey string `json:"idempotency_key"`
	} `json:"metadata"`
}

// readLog reads the whole log through GET /api/events.
func readLog(ctx context.Context, c *api, admin string) ([]logEvent, error) {
	var all []logEvent
	after := ""
	for {
		var page struct {
			Events    []logEvent `json:"events"`
			NextAfter string     `json:"next_after"`
		}
		if err := c.must(ctx, http.MethodGet, "/api/events?limit=1000&after="+after, admin, nil, http.StatusOK, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
		if len(page.Events) == 0 {
			return all, nil
		}
		after = page.NextAfter
	}
}

// LogCheck is what the log holds of the commands sent.
type LogCheck struct {
	Acknowledged int `json:"acknowledged"`       // commands answered 2xx
	Found        int `json:"found_exactly_once"` // of those, in the log exactly once
	Lost         int `json:"lost"`               // of those, not in the log
	// Duplicates counts events beyond the first carrying the same user and
	// key (any command's, answered or not).
	Duplicates int `json:"duplicates"`
	Events     int `json:"events"` // in the log
}

// checkLog finds each command's events in the log by its user and key.
func checkLog(cmds []*command, events []logEvent) LogCheck {
	counts := map[string]int{}
	for _, e := range events {
		if e.Metadata.IdempotencyKey != "" {
			counts[e.Metadata.ActorID+"\x00"+e.Metadata.IdempotencyKey]++
		}
	}
	r := LogCheck{Events: len(events)}
	for _, n := range counts {
		if n > 1 {
			r.Duplicates += n - 1
		}
	}
	for _, c := range cmds {
		if !c.acked {
			continue
		}
		r.Acknowledged++
		switch counts[c.user+"\x00"+c.key] {
		case 0:
			r.Lost++
		case 1:
			r.Found++
		}
	}
	return r
}

// checkReadModels compares the server's read models with a rebuild
// (internal/verify: on SQLite a copy of the file, on PostgreSQL in place,
// which needs the clients paused). It returns the problems found.
func checkReadModels(ctx context.Context, s *Server) ([]string, error) {
	cfg := backend.Config{DataDir: s.DataDir, DatabaseURL: s.DatabaseURL, Projections: readmodels.Options{
		RetryDelay: 50 * time.Millisecond, StandbyRetry: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
	b, done, err := verify.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer done()
	r, err := verify.Run(ctx, b, verify.Options{})
	if err != nil {
		return nil, err
	}
	problems := r.Problems
	if r.Omitted > 0 {
		problems = append(problems, fmt.Sprintf("and %d more", r.Omitted))
	}
	return problems, nil
}

// waitProjections waits until every projection runs at pos or later
// (GET /api/projections), at most timeout.
func waitProjections(ctx context.Context, c *api, admin, pos string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		a := c.do(ctx, http.MethodGet, "/api/projections", admin, "", nil)
		if a.status == http.StatusOK {
			var st struct {
				Projections []struct {
					Position string `json:"position"`
					State    string `json:"state"`
				} `json:"projections"`
			}
			if json.Unmarshal(a.body, &st) == nil {
				reached := len(st.Projections) > 0
				for _, p := range st.Projections {
					// Positions print as fixed-width hexadecimal: they
					// compare as strings.
					reached = reached && p.State == projections.StateRunning && p.Position >= pos
				}
				if reached {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chaos: projections did not reach %s within %s: %s", pos, timeout, a.body)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
