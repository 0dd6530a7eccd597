package httpapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/ratelimit"
	"github.com/reso-fr/reso/projections"
)

// Deps is what the API serves from. Service and DB are required; the
// others have defaults.
type Deps struct {
	Service *app.Service
	DB      *sql.DB // holds the idempotency table (migrated by New)
	Dialect projections.Dialect
	// WriteGate, when set, is held by every write to DB: on the embedded
	// SQLite file, the lock its writers take in turn (the event store's
	// WriteGate).
	WriteGate sync.Locker
	Logger    *slog.Logger         // default slog.Default()
	Registry  *prometheus.Registry // nil: /metrics serves an empty registry
	Now       func() time.Time     // default time.Now
	// Ready reports whether the server can serve (GET /readyz); default:
	// the service's log answers.
	Ready func(ctx context.Context) error
	// Guard limits the rate of each address and principal; nil: no limit.
	Guard *ratelimit.Guard
}

// api is the handlers' shared state.
type api struct {
	d       Deps
	idem    *idemStore
	metrics *metrics
	// metricsHandler serves the registry on /metrics.
	metricsHandler http.Handler

	mu       sync.Mutex
	migrated bool
}

// Migrate creates the API's own table (the Idempotency-Key responses) if it
// is missing. New calls it too; it returns the database's error.
func Migrate(ctx context.Context, db *sql.DB, dialect projections.Dialect) error {
	s := &idemStore{db: db, dialect: dialect}
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("httpapi: %w", err)
	}
	return nil
}

// New returns the API's handler. It panics when Service or DB is nil, or
// when a route of the table requires no known action: wiring mistakes that
// must stop the server at start-up. It migrates the idempotency table; when
// that fails it logs and tries again on the first keyed request.
func New(d Deps) http.Handler {
	if d.Service == nil || d.DB == nil {
		panic("httpapi: Service and DB are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Ready == nil {
		d.Ready = d.Service.Ready
	}
	a := &api{d: d, idem: &idemStore{db: d.DB, dialect: d.Dialect, gate: d.WriteGate}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.ensureMigrated(ctx); err != nil {
		d.Logger.Error("migrate http_idempotency; will retry", "err", err)
	}
	a.metrics = newMetrics(d.Registry)
	a.metricsHandler = promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})
	for _, c := range d.Service.Collectors() {
		// The server may have registered them already: that is fine.
		if err := d.Registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				d.Logger.Error("register service metrics", "err", err)
			}
		}
	}
	h, err := a.router(a.routes())
	if err != nil {
		panic("httpapi: " + err.Error())
	}
	return h
}

// ensureMigrated creates the idempotency table once.
func (a *api) ensureMigrated(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.migrated {
		return nil
	}
	if err := a.idem.migrate(ctx); err != nil {
		return err
	}
	a.migrated = true
	return nil
}

// recoverPanic turns a handler's panic into a logged 500 problem, so that
// one bad request neither kills its connection silently nor the process.
func (a *api) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.d.Logger.ErrorContext(r.Context(), "handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				a.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// fail answers with the problem err maps to.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, a.d.Logger, err)
}

// meta is the command metadata a request carries.
func meta(r *http.Request) app.CommandMeta {
	return app.CommandMeta{
		IdempotencyKey: r.Header.Get(idempotencyHeader),
		CorrelationID:  r.Header.Get("X-Correlation-ID"),
		CausationID:    r.Header.Get("X-Causation-ID"),
	}
}
