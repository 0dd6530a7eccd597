package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/projections"
)

// Subjects returns the taxonomy of subjects. It returns a *ForbiddenError
// for a principal without a role.
func (s *Service) Subjects(p Principal) ([]domain.Subject, error) {
	if err := s.Authorize(p, ActionSubjects); err != nil {
		return nil, err
	}
	return domain.Subjects(), nil
}

// Events returns up to limit events of the raw log after position after
// (admins only). It returns a *ForbiddenError and the store's errors.
func (s *Service) Events(ctx context.Context, p Principal, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	if err := s.Authorize(p, ActionEvents); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 1000 {
		return nil, &domain.ValidationError{Field: "limit", Message: "an integer from 1 to 1000"}
	}
	evs, err := s.store.ReadAll(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read the log: %w", err)
	}
	return evs, nil
}

// ProjectionStatuses returns each projection's position, lag, state and
// last error (admins only). It returns a *ForbiddenError and the read
// models' errors.
func (s *Service) ProjectionStatuses(ctx context.Context, p Principal) ([]ProjectionStatus, error) {
	if err := s.Authorize(p, ActionProjections); err != nil {
		return nil, err
	}
	rm, err := s.readModels()
	if err != nil {
		return nil, err
	}
	sts, err := rm.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("projections status: %w", err)
	}
	return sts, nil
}

// RebuildState is what the service knows of the last rebuild it started
// for a projection: its latest progress, and how it ended.
type RebuildState struct {
	Projection string          `json:"projection"`
	Progress   RebuildProgress `json:"progress"`
	Running    bool            `json:"running"`
	Err        string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	EndedAt    *time.Time      `json:"ended_at,omitempty"`
}

// rebuilds keeps the state of the rebuilds this process started, for the
// console's progress bar.
type rebuilds struct {
	mu     sync.Mutex
	states map[string]RebuildState
}

func (r *rebuilds) set(name string, f func(*RebuildState)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states == nil {
		r.states = map[string]RebuildState{}
	}
	st := r.states[name]
	f(&st)
	r.states[name] = st
}

// restore puts back the state a refused rebuild replaced.
func (r *rebuilds) restore(name string, st RebuildState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st.Projection == "" {
		delete(r.states, name)
		return
	}
	r.states[name] = st
}

// StartRebuild starts rebuilding projection name in the background (admins
// only): a rebuild of a large log takes minutes, longer than a request
// should last. It returns a *ForbiddenError, ErrNotFound for an unknown
// projection and ErrRebuildRunning while another rebuild runs.
func (s *Service) StartRebuild(ctx context.Context, p Principal, name string) error {
	if err := s.Authorize(p, ActionRebuild); err != nil {
		return err
	}
	rm, err := s.readModels()
	if err != nil {
		return err
	}
	start := s.now()
	progress := func(pr projections.Progress) {
		s.rebuilds.set(name, func(st *RebuildState) { st.Progress = pr })
	}
	var before RebuildState
	s.rebuilds.set(name, func(st *RebuildState) {
		before = *st
		*st = RebuildState{Projection: name, Running: true, StartedAt: start}
	})
	// The engine runs one rebuild at a time, of any projection: it refuses
	// a second one here rather than failing it in the background.
	done, err := rm.StartRebuild(s.background, name, progress)
	if err != nil {
		s.rebuilds.restore(name, before)
		return fromReadModel(err, "")
	}
	s.log.InfoContext(ctx, "rebuild started", "projection", name, "by", p.UserID)
	go func() {
		err := <-done
		end := s.now()
		s.rebuilds.set(name, func(st *RebuildState) {
			st.Running, st.EndedAt = false, &end
			if err != nil {
				st.Err = err.Error()
			}
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("rebuild failed", "projection", name, "err", err)
			return
		}
		s.log.Info("rebuild finished", "projection", name, "took", end.Sub(start))
	}()
	return nil
}

// Rebuilds returns the state of the rebuilds this process started, by
// projection (admins only). It returns a *ForbiddenError.
func (s *Service) Rebuilds(p Principal) (map[string]RebuildState, error) {
	if err := s.Authorize(p, ActionProjections); err != nil {
		return nil, err
	}
	s.rebuilds.mu.Lock()
	defer s.rebuilds.mu.Unlock()
	out := make(map[string]RebuildState, len(s.rebuilds.states))
	for k, v := range s.rebuilds.states {
		out[k] = v
	}
	return out, nil
}
