package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/idempotency"
	"github.com/reso-fr/reso/internal/ratelimit"
)

// Deps is what the API serves from. Service and Idempotency are required;
// the others have defaults.
type Deps struct {
	Service     *app.Service
	Idempotency *idempotency.Store   // the Idempotency-Key responses
	Logger      *slog.Logger         // default slog.Default()
	Registry    *prometheus.Registry // nil: /metrics serves an empty registry
	Now         func() time.Time     // default time.Now
	// Ready reports whether the server can serve (GET /readyz); default:
	// the service's log answers.
	Ready func(ctx context.Context) error
	// Guard limits the rate of each address and principal; nil: no limit.
	Guard *ratelimit.Guard
	// Background bounds work that outlives a request (releasing a key the
	// database refused to release); nil: context.Background().
	Background context.Context
}

// api is the handlers' shared state.
type api struct {
	d       Deps
	idem    *idempotency.Store
	metrics *metrics
	// metricsHandler serves the registry on /metrics.
	metricsHandler http.Handler
	started        time.Time // see staleBefore
	// onKeyBusy, when set (by tests), is called once by each request that
	// finds its Idempotency-Key's first run still going and waits for it.
	onKeyBusy func()
}

// New returns the API's handler. It panics when Service or Idempotency is
// nil, or when a route of the table requires no known action: wiring
// mistakes that must stop the server at start-up.
func New(d Deps) http.Handler {
	if d.Service == nil || d.Idempotency == nil {
		panic("httpapi: Service and Idempotency are required")
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
	if d.Background == nil {
		d.Background = context.Background()
	}
	// started is in milliseconds, as the keys' creation times are stored.
	a := &api{d: d, idem: d.Idempotency, started: time.UnixMilli(d.Now().UnixMilli())}
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
	if a.d.Service != nil {
		err = a.d.Service.Classify(err)
	}
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
