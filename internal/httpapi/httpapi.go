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

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/projections"
)

// Deps is what the API serves from. Service, Projections, Events and DB are
// required; the others have defaults.
type Deps struct {
	Service     *app.Service
	Projections *projections.Engine
	Events      eventstore.Store
	DB          *sql.DB // holds the idempotency table (migrated by New)
	Dialect     projections.Dialect
	// WriteGate, when set, is held by every write to DB: on the embedded
	// SQLite file, the lock its writers take in turn (the event store's
	// WriteGate).
	WriteGate sync.Locker
	Logger    *slog.Logger         // default slog.Default()
	Registry  *prometheus.Registry // nil: /metrics serves an empty registry
	Now       func() time.Time     // default time.Now
	Ready     func(ctx context.Context) error
	// Background, when set, bounds work that outlives a request (projection
	// rebuilds); default context.Background().
	Background context.Context
}

// api is the handlers' shared state.
type api struct {
	d       Deps
	idem    *idemStore
	metrics *metrics

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

// New returns the API's handler. It panics when Service, Projections, Events
// or DB is nil (a wiring mistake). It migrates the idempotency table; when
// that fails it logs and tries again on the first keyed request.
func New(d Deps) http.Handler {
	if d.Service == nil || d.Projections == nil || d.Events == nil || d.DB == nil {
		panic("httpapi: Service, Projections, Events and DB are required")
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
	if d.Background == nil {
		d.Background = context.Background()
	}
	a := &api{d: d, idem: &idemStore{db: d.DB, dialect: d.Dialect, gate: d.WriteGate}}
	ctx, cancel := context.WithTimeout(d.Background, 30*time.Second)
	defer cancel()
	if err := a.ensureMigrated(ctx); err != nil {
		d.Logger.Error("migrate http_idempotency; will retry", "err", err)
	}
	a.metrics = newMetrics(d.Registry, d.Projections)
	for _, c := range d.Service.Collectors() {
		// The server may have registered them already: that is fine.
		if err := d.Registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				d.Logger.Error("register service metrics", "err", err)
			}
		}
	}
	return a.routes()
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

// routes is the whole route table; the OpenAPI document is tested against
// it both ways.
func (a *api) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(a.metrics.instrument, a.recoverPanic)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "no route "+r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", r.Method+" "+r.URL.Path))
	})

	r.Get("/healthz", a.healthz)
	r.Get("/readyz", a.readyz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(a.d.Registry, promhttp.HandlerOpts{}))
	r.Get("/api/openapi.json", serveOpenAPI)

	r.Group(func(r chi.Router) {
		r.Use(a.authenticate, a.idempotent)

		r.Post("/api/users", a.createUser)
		r.Post("/api/organisations", a.createOrganisation)
		r.Post("/api/referents", a.createReferent)
		r.Get("/api/subjects", a.listSubjects)

		r.Post("/api/needs", a.captureNeed)
		r.Get("/api/needs", a.listNeeds)
		r.Get("/api/needs/{id}", a.getNeed)
		r.Get("/api/needs/{id}/history", a.history)
		r.Get("/api/needs/{id}/suggestions", a.suggestions)
		r.Post("/api/needs/{id}/forward", a.forward)
		r.Post("/api/needs/{id}/matches/{referent_id}", a.changeMatch)
		r.Post("/api/needs/{id}/comments", a.comment)
		r.Post("/api/needs/{id}/reminders", a.remind)
		r.Post("/api/needs/{id}/abandon", a.abandon)
		r.Get("/api/inbox", a.inbox)

		r.Get("/api/stats", a.stats)
		r.Get("/api/stats.csv", a.statsCSV)
		r.Get("/api/stats.xlsx", a.statsXLSX)

		r.Get("/api/events", a.events)
		r.Get("/api/projections", a.listProjections)
		r.Post("/api/projections/{name}/rebuild", a.rebuild)
		r.Post("/api/erasures", a.erase)

		r.Get("/api/notifications", a.listNotifications)
		r.Post("/api/notifications/{id}/retry", a.retryNotification)
	})
	return r
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
