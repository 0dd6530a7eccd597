package app

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Lag is how far the read models are behind the log: the largest lag of
// any projection, in events and in seconds (the age of the oldest event
// not applied yet).
type Lag struct {
	Events  int64   `json:"lag_events"`
	Seconds float64 `json:"lag_seconds"`
	// Projections is each projection's own, by name.
	Projections map[string]ProjectionLag `json:"projections"`
}

// ProjectionLag is one projection's lag and state.
type ProjectionLag struct {
	Events  int64   `json:"lag_events"`
	Seconds float64 `json:"lag_seconds"`
	State   string  `json:"state"`
}

// lagTTL is how long a measured lag is served again: lists and statistics
// report it on every response, and reading it costs a query.
const lagTTL = time.Second

// lagCache keeps the last measured lag.
type lagCache struct {
	mu  sync.Mutex
	at  time.Time
	lag Lag
}

// ReadModelLag returns how far the read models are behind, measured at
// most a second ago. It needs no principal: readiness and every list
// report it. It returns the read models' errors.
func (s *Service) ReadModelLag(ctx context.Context) (Lag, error) {
	rm, err := s.readModels()
	if err != nil {
		return Lag{}, err
	}
	s.lag.mu.Lock()
	defer s.lag.mu.Unlock()
	if !s.lag.at.IsZero() && time.Since(s.lag.at) < lagTTL {
		return s.lag.lag, nil
	}
	sts, err := rm.Status(ctx)
	if err != nil {
		return Lag{}, fmt.Errorf("projections status: %w", err)
	}
	l := Lag{Projections: make(map[string]ProjectionLag, len(sts))}
	for _, st := range sts {
		l.Projections[st.Name] = ProjectionLag{Events: st.LagEvents, Seconds: st.LagSeconds, State: st.State}
		l.Events = max(l.Events, st.LagEvents)
		l.Seconds = max(l.Seconds, st.LagSeconds)
	}
	s.lag.at, s.lag.lag = time.Now(), l
	return l, nil
}
