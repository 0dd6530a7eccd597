package console

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/reso-fr/reso/internal/app"
)

// Route is one entry of the console's route table: a method, a chi
// pattern and the action of the role matrix it requires (app.ActionPublic
// for the sign-in pages, the accessibility statement and static files).
type Route struct {
	Method  string
	Pattern string
	Action  app.Action
}

// page handles a signed-in request with the caller's principal.
type page func(w http.ResponseWriter, r *http.Request, p app.Principal)

type route struct {
	Route
	public http.HandlerFunc // for ActionPublic
	page   page             // for every other action
}

func get(pattern string, action app.Action, h page) route {
	return route{Route: Route{http.MethodGet, pattern, action}, page: h}
}

func post(pattern string, action app.Action, h page) route {
	return route{Route: Route{http.MethodPost, pattern, action}, page: h}
}

func public(method, pattern string, h http.HandlerFunc) route {
	return route{Route: Route{method, pattern, app.ActionPublic}, public: h}
}

// routes is the console's whole route table; URLs are French, as users
// read them.
func (c *console) routes() []route {
	return []route{
		public(http.MethodGet, "/static/*", c.static),
		public(http.MethodGet, "/connexion", c.signInPage),
		public(http.MethodPost, "/connexion/demo", c.signInDemo),
		public(http.MethodPost, "/connexion/courriel", c.signInEmail),
		public(http.MethodGet, "/connexion/lien", c.linkPage),
		public(http.MethodPost, "/connexion/lien", c.linkUse),
		public(http.MethodPost, "/deconnexion", c.signOut),
		public(http.MethodGet, "/accessibilite", c.accessibility),

		get("/", app.ActionSubjects, c.home),
		get("/communes", app.ActionSubjects, c.communes),

		get("/besoins", app.ActionListNeeds, c.needList),
		get("/besoins/nouveau", app.ActionCaptureNeed, c.captureForm),
		post("/besoins/nouveau", app.ActionCaptureNeed, c.capture),
		get("/besoins/{id}", app.ActionReadNeed, c.needPage),
		get("/besoins/{id}/mise-en-relation", app.ActionSuggestions, c.forwardForm),
		post("/besoins/{id}/mise-en-relation", app.ActionForwardNeed, c.forward),
		post("/besoins/{id}/positionnement", app.ActionChangeMatch, c.position),
		post("/besoins/{id}/commentaires", app.ActionComment, c.comment),
		post("/besoins/{id}/relances", app.ActionRemind, c.remind),
		post("/besoins/{id}/abandon", app.ActionAbandon, c.abandon),
		get("/besoins/{id}/historique", app.ActionReadNeed, c.history),

		get("/boite", app.ActionInbox, c.inbox),
		get("/tableau-de-bord", app.ActionDashboard, c.dashboard),
		get("/entreprises-a-visiter", app.ActionSFCompanies, c.sfCompanies),

		get("/statistiques", app.ActionStats, c.stats),
		get("/statistiques.csv", app.ActionStats, c.statsCSV),
		get("/statistiques.xlsx", app.ActionStats, c.statsXLSX),

		get("/admin/annuaire", app.ActionReadUsers, c.directory),
		get("/admin/projections", app.ActionProjections, c.projections),
		get("/admin/projections/etat", app.ActionProjections, c.projectionsState),
		post("/admin/projections/{name}/reconstruction", app.ActionRebuild, c.rebuild),
		get("/admin/notifications", app.ActionNotifications, c.notifications),
		post("/admin/notifications/{id}/reessayer", app.ActionNotifications, c.retryNotification),
		get("/admin/notifications/courriels/{id}", app.ActionOutbox, c.outboxMail),
		get("/admin/effacement", app.ActionErase, c.eraseForm),
		post("/admin/effacement", app.ActionErase, c.erase),
	}
}

// Routes returns the console's route table without its handlers: what
// tests walk to check that every route requires an action of the role
// matrix.
func Routes() []Route {
	var c *console // the handlers are method values never called here
	rs := c.routes()
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = r.Route
	}
	return out
}

var errNoAction = errors.New("route requires no known action")

// router registers routes: public ones as they are, every other behind the
// session (a browser without one goes to sign-in and comes back) and the
// role check of its action. A route without a known action is an error:
// deny by default.
func (c *console) router(routes []route) (http.Handler, error) {
	r := chi.NewRouter()
	r.Use(c.recoverPanic, c.limitAddress, c.limitBody)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, c.optionalPrincipal(r), http.StatusNotFound, "Page introuvable",
			"Cette adresse ne correspond à aucune page de Réso.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, c.optionalPrincipal(r), http.StatusMethodNotAllowed, "Action impossible",
			"Cette page ne s'utilise pas ainsi.")
	})
	seen := map[string]bool{}
	for _, rt := range routes {
		if !app.Known(rt.Action) {
			return nil, fmt.Errorf("%w: %s %s (action %q)", errNoAction, rt.Method, rt.Pattern, rt.Action)
		}
		if (rt.Action == app.ActionPublic) != (rt.public != nil) {
			return nil, fmt.Errorf("route %s %s: public handlers go with ActionPublic only", rt.Method, rt.Pattern)
		}
		k := rt.Method + " " + rt.Pattern
		if seen[k] {
			return nil, fmt.Errorf("route %s registered twice", k)
		}
		seen[k] = true
		if rt.Action == app.ActionPublic {
			r.Method(rt.Method, rt.Pattern, rt.public)
			continue
		}
		r.Method(rt.Method, rt.Pattern, c.signedIn(rt.Action, rt.page))
	}
	return r, nil
}

// signedIn runs a page for the session's principal once its role may
// attempt action; the service checks again, and decides the scope.
func (c *console) signedIn(action app.Action, h page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := c.session(w, r)
		if !ok {
			return
		}
		if !c.allowPrincipal(w, r, p) {
			return
		}
		if err := c.d.Service.Authorize(p, action); err != nil {
			c.fail(w, r, p, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, p)
	})
}
