package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/reso-fr/reso/internal/app"
)

// Route is one entry of the API's route table: a method, a chi pattern and
// the action of the role matrix it requires (app.ActionPublic for the few
// that need no principal).
type Route struct {
	Method  string
	Pattern string
	Action  app.Action
}

// route is a Route with its handler and, for a route taking files, its
// body limit (0: MaxBodyBytes).
type route struct {
	Route
	handler http.HandlerFunc
	maxBody int64 // 0: MaxBodyBytes
}

// MaxSFImportBytes is the largest Signaux Faibles list POST
// /api/imports/signaux-faibles accepts (app.MaxSFListBytes).
const MaxSFImportBytes = app.MaxSFListBytes

func get(pattern string, action app.Action, h http.HandlerFunc) route {
	return route{Route: Route{http.MethodGet, pattern, action}, handler: h}
}

func post(pattern string, action app.Action, h http.HandlerFunc) route {
	return route{Route: Route{http.MethodPost, pattern, action}, handler: h}
}

// upload is a POST whose body is a file of up to limit bytes.
func upload(pattern string, action app.Action, limit int64, h http.HandlerFunc) route {
	return route{Route: Route{http.MethodPost, pattern, action}, handler: h, maxBody: limit}
}

func del(pattern string, action app.Action, h http.HandlerFunc) route {
	return route{Route: Route{http.MethodDelete, pattern, action}, handler: h}
}

// routes is the whole route table. The OpenAPI document is tested against
// it both ways, and the end-to-end role matrix is generated from it.
func (a *api) routes() []route {
	return []route{
		get("/healthz", app.ActionPublic, a.healthz),
		get("/readyz", app.ActionPublic, a.readyz),
		get("/metrics", app.ActionPublic, a.serveMetrics),
		get("/api/openapi.json", app.ActionPublic, serveOpenAPI),

		post("/api/users", app.ActionCreateUser, a.createUser),
		get("/api/users/{id}/tokens", app.ActionTokens, a.listTokens),
		post("/api/users/{id}/tokens", app.ActionTokens, a.newToken),
		del("/api/tokens/{id}", app.ActionTokens, a.revokeToken),
		post("/api/organisations", app.ActionCreateOrg, a.createOrganisation),
		get("/api/organisations", app.ActionReadDirectory, a.listOrganisations),
		post("/api/referents", app.ActionCreateReferent, a.createReferent),
		get("/api/referents", app.ActionReadDirectory, a.listReferents),
		get("/api/subjects", app.ActionSubjects, a.listSubjects),
		get("/api/communes", app.ActionCommunes, a.searchCommunes),
		get("/api/me", app.ActionMe, a.me),

		post("/api/needs", app.ActionCaptureNeed, a.captureNeed),
		get("/api/needs", app.ActionListNeeds, a.listNeeds),
		get("/api/needs/{id}", app.ActionReadNeed, a.getNeed),
		get("/api/needs/{id}/history", app.ActionReadNeed, a.history),
		get("/api/needs/{id}/suggestions", app.ActionSuggestions, a.suggestions),
		post("/api/needs/{id}/forward", app.ActionForwardNeed, a.forward),
		post("/api/needs/{id}/matches/{referent_id}", app.ActionChangeMatch, a.changeMatch),
		post("/api/needs/{id}/comments", app.ActionComment, a.comment),
		post("/api/needs/{id}/reminders", app.ActionRemind, a.remind),
		post("/api/needs/{id}/abandon", app.ActionAbandon, a.abandon),
		get("/api/inbox", app.ActionInbox, a.inbox),

		get("/api/stats", app.ActionStats, a.stats),
		get("/api/stats.csv", app.ActionStats, a.statsCSV),
		get("/api/stats.xlsx", app.ActionStats, a.statsXLSX),

		get("/api/events", app.ActionEvents, a.events),
		get("/api/projections", app.ActionProjections, a.listProjections),
		post("/api/projections/{name}/rebuild", app.ActionRebuild, a.rebuild),
		post("/api/erasures", app.ActionErase, a.erase),
		get("/api/notifications", app.ActionNotifications, a.listNotifications),
		post("/api/notifications/{id}/retry", app.ActionNotifications, a.retryNotification),

		upload("/api/imports/directory", app.ActionImportDirectory, MaxImportBytes, a.importDirectory),
		get("/api/directory", app.ActionReadDirectory, a.directory),
		get("/api/territories", app.ActionReadTerritories, a.territories),
		post("/api/territories/{zone}/open", app.ActionOpenTerritory, a.openTerritory),
		upload("/api/imports/signaux-faibles", app.ActionImportSF, MaxSFImportBytes, a.importSignauxFaibles),
		get("/api/signaux-faibles/companies", app.ActionSFCompanies, a.sfCompanies),
	}
}

// Routes returns the API's route table without its handlers: what tests
// walk to check that every route requires an action of the role matrix.
func Routes() []Route {
	var a *api // the handlers are method values never called here
	rs := a.routes()
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = r.Route
	}
	return out
}

// errNoAction is the start-up failure of a route registered without an
// action the role matrix knows.
var errNoAction = errors.New("route requires no known action")

// router registers routes behind the middleware their action calls for.
// Every route sets the security headers, counts against its address's rate
// and refuses bodies over its limit (MaxBodyBytes, or an upload's own);
// public routes need nothing more;
// every other route is behind authentication, its principal's rate, the
// role check of its action (before any body is read) and idempotency. A
// route without a known action is an error: deny by default.
func (a *api) router(routes []route) (chi.Router, error) {
	r := chi.NewRouter()
	r.Use(a.metrics.instrument, a.recoverPanic, securityHeaders, a.limitAddress)
	r.NotFound(limitBody(MaxBodyBytes, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "no route "+r.URL.Path))
	})).ServeHTTP)
	r.MethodNotAllowed(limitBody(MaxBodyBytes, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", r.Method+" "+r.URL.Path))
	})).ServeHTTP)
	seen := map[string]bool{}
	for _, rt := range routes {
		if !app.Known(rt.Action) {
			return nil, fmt.Errorf("%w: %s %s (action %q)", errNoAction, rt.Method, rt.Pattern, rt.Action)
		}
		k := rt.Method + " " + rt.Pattern
		if seen[k] {
			return nil, fmt.Errorf("route %s registered twice", k)
		}
		seen[k] = true
		limit := rt.maxBody
		if limit == 0 {
			limit = MaxBodyBytes
		}
		var h http.Handler = rt.handler
		if rt.Action != app.ActionPublic {
			h = a.authenticate(a.limitPrincipal(a.require(rt.Action, a.idempotentUpTo(h, limit))))
		}
		r.Method(rt.Method, rt.Pattern, limitBody(limit, h))
	}
	return r, nil
}

// require answers 403 unless the caller's role may attempt action. The
// service checks again in each operation; this check runs first so that a
// refused caller's body is never read.
func (a *api) require(action app.Action, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.d.Service.Authorize(principalOf(r.Context()), action); err != nil {
			a.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *api) serveMetrics(w http.ResponseWriter, r *http.Request) {
	a.metricsHandler.ServeHTTP(w, r)
}
