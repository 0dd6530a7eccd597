package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/httpapi"
)

// role names the fixtures' users.
type role string

const (
	admin    role = "admin"
	adv1     role = "advisor (author)"
	adv2     role = "advisor (other)"
	ref1     role = "referent (matched)"
	ref3     role = "referent (not matched)"
	anim59   role = "animateur (in scope)"
	anim80   role = "animateur (out of scope)"
	funder   role = "funder"
	nobody   role = "no token"
	badToken role = "bad token"
)

var allRoles = []role{admin, adv1, adv2, ref1, ref3, anim59, anim80, funder, nobody, badToken}

func (e *env) client(r role) client {
	switch r {
	case admin:
		return e.admin
	case adv1:
		return e.advisor1
	case adv2:
		return e.advisor2
	case ref1:
		return e.ref1
	case ref3:
		return e.ref3
	case anim59:
		return e.anim59
	case anim80:
		return e.anim80
	case funder:
		return e.funder
	case badToken:
		return e.admin.as("not-a-token")
	}
	return e.anon
}

// roleOf is the role of each fixture user (none for the unauthenticated).
var roleOf = map[role]domain.Role{
	admin: domain.RoleAdmin, adv1: domain.RoleAdvisor, adv2: domain.RoleAdvisor,
	ref1: domain.RoleReferent, ref3: domain.RoleReferent,
	anim59: domain.RoleAnimateur, anim80: domain.RoleAnimateur, funder: domain.RoleFunder,
}

// access is how to call one route of the API's table and what it answers
// to a role the matrix lets in. The status each role gets is derived: 401
// without a valid token, 403 when the role matrix refuses the route's
// action, otherwise scoped[role] when set (404 for a need outside one's
// scope: a refusal must not tell that it exists), otherwise ok.
type access struct {
	path   func(e *env, need needView) string // need: a fresh need in Lille, captured by advisor1, forwarded to r1
	body   func(t testing.TB, e *env) any
	ok     int
	scoped map[role]int
}

func needPath(suffix string) func(e *env, n needView) string {
	return func(e *env, n needView) string { return "/api/needs/" + n.ID + suffix }
}

func fixed(p string) func(e *env, n needView) string { return func(*env, needView) string { return p } }

func body(v any) func(t testing.TB, e *env) any { return func(testing.TB, *env) any { return v } }

// notAdvisor1 gives status to every role but admin and advisor1.
func notAdvisor1(status int) map[role]int {
	return map[role]int{adv2: status, ref1: status, ref3: status, anim59: status, anim80: status, funder: status}
}

// outOfScope are the users a need captured by advisor1 in Lille and
// forwarded to r1 does not concern.
var outOfScope = map[role]int{adv2: 404, ref3: 404, anim80: 404}

// accessTable has one entry per route of httpapi.Routes(), keyed by
// method and pattern; TestRouteTableCovered fails on a route without one.
var accessTable = map[string]access{
	"GET /api/needs/{id}":             {path: needPath(""), ok: 200, scoped: outOfScope},
	"GET /api/needs/{id}/history":     {path: needPath("/history"), ok: 200, scoped: outOfScope},
	"GET /api/needs/{id}/suggestions": {path: needPath("/suggestions"), ok: 200, scoped: outOfScope},
	"POST /api/needs/{id}/forward": {path: needPath("/forward"), ok: 200, scoped: outOfScope,
		body: func(_ testing.TB, e *env) any { return map[string]any{"referent_ids": []string{e.r2}} }},
	"POST /api/needs/{id}/matches/{referent_id}": {ok: 200, scoped: outOfScope,
		path: func(e *env, n needView) string { return "/api/needs/" + n.ID + "/matches/" + e.r1 },
		body: body(map[string]any{"action": "take_charge"})},
	"POST /api/needs/{id}/comments":  {path: needPath("/comments"), body: body(map[string]any{"text": "vu"}), ok: 200, scoped: outOfScope},
	"POST /api/needs/{id}/reminders": {path: needPath("/reminders"), body: body(map[string]any{"kind": "poke"}), ok: 200, scoped: outOfScope},
	"POST /api/needs/{id}/abandon":   {path: needPath("/abandon"), body: body(map[string]any{"reason": "injoignable"}), ok: 200, scoped: outOfScope},
	"POST /api/needs": {path: fixed("/api/needs"), ok: 201,
		body: func(t testing.TB, e *env) any { return e.captureBody(t, lille) }},
	"GET /api/needs": {path: fixed("/api/needs"), ok: 200},
	// An admin names the referent whose inbox to read.
	"GET /api/inbox":         {path: fixed("/api/inbox"), ok: 200, scoped: map[role]int{admin: 422}},
	"GET /api/subjects":      {path: fixed("/api/subjects"), ok: 200},
	"GET /api/organisations": {path: fixed("/api/organisations"), ok: 200},
	"GET /api/referents":     {path: fixed("/api/referents?subject=recruitment&commune=59350"), ok: 200},
	"GET /api/communes":      {path: fixed("/api/communes?q=lille"), ok: 200},
	"GET /api/me":            {path: fixed("/api/me"), ok: 200},
	// advisor1's tokens: theirs and an admin's to manage.
	"GET /api/users/{id}/tokens": {path: func(e *env, _ needView) string { return "/api/users/" + e.advisor1ID + "/tokens" },
		ok: 200, scoped: notAdvisor1(403)},
	"POST /api/users/{id}/tokens": {path: func(e *env, _ needView) string { return "/api/users/" + e.advisor1ID + "/tokens" },
		body: body(map[string]any{}), ok: 201, scoped: notAdvisor1(403)},
	// An unknown token: every role may try, and learns only that.
	"DELETE /api/tokens/{id}":              {path: fixed("/api/tokens/no-such-token"), ok: 404},
	"GET /api/stats":                       {path: fixed("/api/stats?group_by=month"), ok: 200},
	"GET /api/stats.csv":                   {path: fixed("/api/stats.csv?group_by=region"), ok: 200},
	"GET /api/stats.xlsx":                  {path: fixed("/api/stats.xlsx"), ok: 200},
	"GET /api/events":                      {path: fixed("/api/events?limit=5"), ok: 200},
	"GET /api/projections":                 {path: fixed("/api/projections"), ok: 200},
	"POST /api/projections/{name}/rebuild": {path: fixed("/api/projections/directory/rebuild"), body: body(map[string]any{}), ok: 202},
	"POST /api/users": {path: fixed("/api/users"), ok: 201,
		body: func(_ testing.TB, e *env) any {
			return map[string]any{"name": "Ines", "email": "ines@users.test", "role": "funder"}
		}},
	"POST /api/organisations": {path: fixed("/api/organisations"), body: body(map[string]any{"name": "URSSAF Test", "kind": "urssaf"}), ok: 201},
	"POST /api/referents": {path: fixed("/api/referents"), ok: 201,
		body: func(_ testing.TB, e *env) any {
			return map[string]any{"organisation_id": e.orgB, "name": "Jules", "email": "jules@referents.test",
				"subjects": []string{e.subject}, "zones": []zone{{"national", ""}}}
		}},
	"POST /api/erasures":     {path: fixed("/api/erasures"), body: body(map[string]any{"contact_email": "nobody@nowhere.test"}), ok: 200},
	"GET /api/notifications": {path: fixed("/api/notifications?status=failed"), ok: 200},
	// An unknown delivery: an admin learns only that.
	"POST /api/notifications/{id}/retry": {path: fixed("/api/notifications/0190c0de-0000-7000-8000-000000000000/retry"), body: body(map[string]any{}), ok: 404},
	"POST /api/imports/directory": {path: fixed("/api/imports/directory?dry_run=true&filename=roles.csv"), ok: 200,
		body: body("Organisation;Nom;Email;Sujets;Départements\nCCI Roles;Jean Rôle;jean@roles.test;export;59\n")},
	"GET /api/directory":                {path: fixed("/api/directory"), ok: 200},
	"GET /api/territories":              {path: fixed("/api/territories"), ok: 200},
	"POST /api/territories/{zone}/open": {path: fixed("/api/territories/departement:80/open"), body: body(map[string]any{"at": "2026-01-05"}), ok: 200},
	// A list of its own period, so that it is new whenever the table runs.
	"POST /api/imports/signaux-faibles": {path: fixed("/api/imports/signaux-faibles"), ok: 201,
		body: body([]map[string]any{{"siren": "812345676", "score": 0.9, "alert": "F1", "periode": "2019-01"}})},
	"GET /api/signaux-faibles/companies": {path: fixed("/api/signaux-faibles/companies"), ok: 200},
	"GET /api/openapi.json":              {path: fixed("/api/openapi.json"), ok: 200},
	"GET /healthz":                       {path: fixed("/healthz"), ok: 200},
	"GET /readyz":                        {path: fixed("/readyz"), ok: 200},
	"GET /metrics":                       {path: fixed("/metrics"), ok: 200},
}

// TestRouteTableCovered fails when a route of the API has no entry in the
// role matrix test, or an entry names a route that no longer exists.
func TestRouteTableCovered(t *testing.T) {
	t.Parallel()
	routed := map[string]bool{}
	for _, rt := range httpapi.Routes() {
		k := rt.Method + " " + rt.Pattern
		routed[k] = true
		if _, ok := accessTable[k]; !ok {
			t.Errorf("route %s (action %s) has no case in accessTable", k, rt.Action)
		}
	}
	for k := range accessTable {
		if !routed[k] {
			t.Errorf("accessTable has %s, which is not routed", k)
		}
	}
}

// wantStatus is the status r must get on rt, derived from the role matrix.
func wantStatus(rt httpapi.Route, a access, r role) int {
	switch {
	case rt.Action == app.ActionPublic:
		return a.ok
	case r == nobody || r == badToken:
		return http.StatusUnauthorized
	case !app.Allowed(roleOf[r], rt.Action):
		return http.StatusForbidden
	case a.scoped[r] != 0:
		return a.scoped[r]
	}
	return a.ok
}

// testRoles calls every route of the API's table as every role and checks
// the status the role matrix gives.
func testRoles(t *testing.T, e *env) {
	for _, rt := range httpapi.Routes() {
		a, ok := accessTable[rt.Method+" "+rt.Pattern]
		if !ok {
			continue // TestRouteTableCovered reports it
		}
		t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
			for _, r := range allRoles {
				want := wantStatus(rt, a, r)
				var n needView
				if a.path(e, needView{ID: "x"}) != a.path(e, needView{ID: "y"}) {
					n = e.mustForwarded(t, lille, e.r1)
				}
				var b any
				if a.body != nil {
					b = a.body(t, e)
				}
				got := e.client(r).do(t, rt.Method, a.path(e, n), b)
				if got.status != want {
					t.Errorf("%s %s as %s: status %d, want %d: %s", rt.Method, a.path(e, n), r, got.status, want, got.body)
					continue
				}
				if want >= 400 {
					p := got.mustProblem(t, want, "")
					roleRefused := rt.Action != app.ActionPublic && !app.Allowed(roleOf[r], rt.Action)
					if want == http.StatusForbidden && (p.Detail == "" || (roleRefused && !strings.Contains(p.Detail, "may not"))) {
						t.Errorf("%s %s as %s: refusal %q does not say what was refused", rt.Method, a.path(e, n), r, p.Detail)
					}
				}
			}
		})
	}
	// What the roles' scopes let them list.
	n := e.mustForwarded(t, lille, e.r1)
	var last historyBody
	e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/history", nil).json(t, &last)
	pos := last.Events[len(last.Events)-1].Position
	for _, c := range []struct {
		r    role
		sees bool
	}{{admin, true}, {adv1, true}, {adv2, false}, {ref1, true}, {ref3, false}, {anim59, true}, {anim80, false}} {
		var page pageBody
		e.client(c.r).must(t, http.StatusOK, "GET", fmt.Sprintf("/api/needs?commune=%s&limit=500&min_position=%s", lille, pos), nil).json(t, &page)
		sees := false
		for _, it := range page.Items {
			sees = sees || it.ID == n.ID
		}
		if sees != c.sees {
			t.Errorf("%s sees need %s in the list: %v, want %v", c.r, n.ID, sees, c.sees)
		}
	}
	// A need outside one's scope answers as a need that does not exist.
	hidden := e.advisor2.do(t, "GET", "/api/needs/"+n.ID, nil).mustProblem(t, http.StatusNotFound, "")
	unknown := e.advisor2.do(t, "GET", "/api/needs/0190a1b2-0000-7000-8000-000000000000", nil).mustProblem(t, http.StatusNotFound, "")
	if hidden.Detail != unknown.Detail || hidden.Type != unknown.Type {
		t.Errorf("out of scope %+v, unknown %+v: a refusal tells the need exists", hidden, unknown)
	}
	// An admin reads any referent's inbox by naming it.
	e.admin.must(t, http.StatusOK, "GET", "/api/inbox?referent="+e.r1, nil)
	e.ref3.do(t, "GET", "/api/inbox?referent="+e.r1, nil).mustProblem(t, http.StatusForbidden, "")
}
