package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/reso-fr/reso/internal/app"
)

// TestEveryRouteRequiresAnAction walks the router New serves and fails on
// any route that is not in the route table with an action, or whose action
// has no row in the role matrix.
func TestEveryRouteRequiresAnAction(t *testing.T) {
	t.Parallel()
	actions := map[string]app.Action{}
	for _, rt := range Routes() {
		actions[rt.Method+" "+rt.Pattern] = rt.Action
	}
	matrix := app.Actions()
	walked := 0
	err := chi.Walk(mustRoutes(t), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		walked++
		a, ok := actions[method+" "+pattern]
		switch {
		case !ok:
			t.Errorf("route %s %s is served but not in the route table", method, pattern)
		case a == "":
			t.Errorf("route %s %s requires no action", method, pattern)
		case a != app.ActionPublic && !slices.Contains(matrix, a):
			t.Errorf("route %s %s requires %q, which has no row in the role matrix", method, pattern, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked != len(actions) {
		t.Errorf("walked %d routes, the table has %d", walked, len(actions))
	}
	public := 0
	for _, a := range actions {
		if a == app.ActionPublic {
			public++
		}
	}
	if public != 4 {
		t.Errorf("%d public routes, want the 4 of operators (healthz, readyz, metrics, openapi)", public)
	}
}

// TestRouteWithoutActionFailsAtStart registers a table whose route lost its
// action, or names one the matrix does not have: the router refuses it.
func TestRouteWithoutActionFailsAtStart(t *testing.T) {
	t.Parallel()
	noop := func(http.ResponseWriter, *http.Request) {}
	for _, action := range []app.Action{"", "needs.teleport"} {
		a := &api{metrics: newMetrics(nil)}
		routes := append(a.routes(), get("/api/new", action, noop))
		if _, err := a.router(routes); !errors.Is(err, errNoAction) {
			t.Errorf("route with action %q: %v, want errNoAction", action, err)
		}
	}
	// The same table with a known action starts.
	a := &api{metrics: newMetrics(nil)}
	if _, err := a.router(append(a.routes(), get("/api/new", app.ActionSubjects, noop))); err != nil {
		t.Fatalf("known action refused: %v", err)
	}
	// Every route of the real table: drop any one route's action and the
	// table no longer starts.
	for i := range a.routes() {
		rs := a.routes()
		rs[i].Action = ""
		if _, err := a.router(rs); !errors.Is(err, errNoAction) {
			t.Errorf("%s %s without its action: %v, want errNoAction", rs[i].Method, rs[i].Pattern, err)
		}
	}
}
