package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/keys"
)

// Suggester answers routing questions from the directory read model;
// *projections.Engine is one.
type Suggester interface {
	Suggest(ctx context.Context, commune, subject string) ([]domain.Coverage, error)
}

// Config is what a Service needs. Store and Auth are required; without
// Keys (no master key given) what seals or opens a contact returns an
// error wrapping keys.ErrNoMasterKey.
type Config struct {
	Store eventstore.Store
	Keys  *keys.Keyring
	Auth  *auth.Store
	// ReadModels answers lists, inboxes, statistics and routing, and runs
	// rebuilds; nil: those operations return an error.
	ReadModels ReadModels
	// Suggester, when set, answers routing instead of ReadModels (tests
	// route over a directory of their own).
	Suggester Suggester
	Geography *domain.Geography // nil: domain.DefaultGeography()
	Now       func() time.Time  // nil: time.Now
	Logger    *slog.Logger      // nil: slog.Default()
	// Background bounds work that outlives a request (projection
	// rebuilds); nil: context.Background().
	Background context.Context
	// Unavailable tells a storage error that a later attempt may get past
	// (the database down or restarting) from one it cannot; nil: none is.
	Unavailable func(error) bool
	// MaxAttempts bounds how often a command is decided again after losing
	// a concurrency race (default 50).
	MaxAttempts int
}

// Service runs the commands and queries of Réso. It is safe for concurrent
// use.
type Service struct {
	store       eventstore.Store
	keys        *keys.Keyring
	auth        *auth.Store
	reads       ReadModels
	suggester   Suggester
	background  context.Context
	unavailable func(error) bool
	geo         *domain.Geography
	now         func() time.Time
	log         *slog.Logger
	attempts    int

	rebuilds rebuilds
	lag      lagCache

	appendSeconds *prometheus.HistogramVec
	conflicts     prometheus.Counter

	notifications Notifications // nil: no notifier (see UseNotifications)
	outbox        Outbox        // nil: no outbox (see UseOutbox)

	// Names of users, referents and organisations, read from the log
	// once: only an import changes one (a referent's), and forgets it
	// here. Another replica's cache keeps the old name until it restarts.
	namesMu sync.RWMutex
	names   map[uuid.UUID]string

	// needs keeps the needs commands just read or wrote (need_cache.go).
	needs needCache
}

// New returns a Service. It returns an error when a required part is
// missing.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Auth == nil {
		return nil, errors.New("app: Store and Auth are required")
	}
	s := &Service{
		store: cfg.Store, keys: cfg.Keys, auth: cfg.Auth, reads: cfg.ReadModels, suggester: cfg.Suggester,
		background: cfg.Background, unavailable: cfg.Unavailable, geo: cfg.Geography, now: cfg.Now, log: cfg.Logger, attempts: cfg.MaxAttempts,
		names: map[uuid.UUID]string{},
	}
	if s.suggester == nil && s.reads != nil {
		s.suggester = s.reads
	}
	if s.background == nil {
		s.background = context.Background()
	}
	if s.geo == nil {
		s.geo = domain.DefaultGeography()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.attempts <= 0 {
		s.attempts = 50
	}
	s.appendSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "reso_append_duration_seconds",
		Help:    "Latency of appends to the event store by command, successful or not.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	}, []string{"command"})
	s.conflicts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "reso_command_conflicts_total",
		Help: "Appends refused for a wrong expected version and decided again.",
	})
	return s, nil
}

// Classify marks err as ErrUnavailable when the storage refused for a
// reason that may pass (the doors then answer "retry shortly" rather than
// "internal error"); other errors come back as they are.
func (s *Service) Classify(err error) error {
	if err == nil || s.unavailable == nil || errors.Is(err, ErrUnavailable) || !s.unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Collectors returns the service's Prometheus metrics, for the caller to
// register.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.appendSeconds, s.conflicts}
}

// Geography is the geography the service validates communes against.
func (s *Service) Geography() *domain.Geography { return s.geo }

// Authenticate returns the principal a bearer token belongs to. It returns
// ErrUnauthenticated for an unknown token.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	u, err := s.auth.Authenticate(ctx, token)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return Principal{}, &UnauthenticatedError{Reason: strings.TrimPrefix(err.Error(), auth.ErrUnauthenticated.Error()+": ")}
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	return principalOf(u), nil
}

// append writes events with the service's metadata and measures it.
func (s *Service) append(ctx context.Context, command, stream string, expected eventstore.ExpectedVersion, p Principal, m CommandMeta, events []domain.Event) (eventstore.AppendResult, error) {
	res, _, err := s.appendEvents(ctx, command, stream, expected, p, m, events)
	return res, err
}

// appendEvents is append that also returns the events as stored.
func (s *Service) appendEvents(ctx context.Context, command, stream string, expected eventstore.ExpectedVersion, p Principal, m CommandMeta, events []domain.Event) (eventstore.AppendResult, []eventstore.NewEvent, error) {
	news := make([]eventstore.NewEvent, 0, len(events))
	meta := s.metadata(p, m)
	for _, e := range events {
		typ, ver, data, err := domain.Marshal(e)
		if err != nil {
			return eventstore.AppendResult{}, nil, err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return eventstore.AppendResult{}, nil, fmt.Errorf("event id: %w", err)
		}
		news = append(news, eventstore.NewEvent{ID: id, Type: typ, SchemaVersion: ver, Data: data, Metadata: meta})
	}
	start := time.Now()
	res, err := s.store.Append(ctx, stream, expected, news...)
	s.appendSeconds.WithLabelValues(command).Observe(time.Since(start).Seconds())
	if err != nil {
		return eventstore.AppendResult{}, nil, fmt.Errorf("append to %s: %w", stream, err)
	}
	return res, news, nil
}

func (s *Service) metadata(p Principal, m CommandMeta) eventstore.Metadata {
	corr := m.CorrelationID
	if corr == "" {
		if id, err := uuid.NewV7(); err == nil {
			corr = id.String()
		}
	}
	return eventstore.Metadata{
		ActorID: p.UserID.String(), ActorRole: string(p.Role),
		CorrelationID: corr, CausationID: m.CausationID, IdempotencyKey: m.IdempotencyKey,
	}
}

func actor(p Principal) domain.Actor { return domain.Actor{ID: p.UserID, Role: p.Role} }
