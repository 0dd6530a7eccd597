package e2e

import (
	"fmt"
	"net/http"
	"testing"
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

// access is one endpoint with the status each role gets; roles left out
// get 403, except the unauthenticated ones, which get 401 on /api.
type access struct {
	name    string
	method  string
	path    func(e *env, need needView) string // need: a fresh need in Lille, captured by advisor1, forwarded to r1
	body    func(t testing.TB, e *env) any
	allowed map[role]int
	public  bool // no token needed
}

func needPath(suffix string) func(e *env, n needView) string {
	return func(e *env, n needView) string { return "/api/needs/" + n.ID + suffix }
}

func fixed(p string) func(e *env, n needView) string { return func(*env, needView) string { return p } }

func body(v any) func(t testing.TB, e *env) any { return func(testing.TB, *env) any { return v } }

var accessTable = []access{
	{name: "get need", method: "GET", path: needPath(""),
		allowed: map[role]int{admin: 200, adv1: 200, ref1: 200, anim59: 200}},
	{name: "history", method: "GET", path: needPath("/history"),
		allowed: map[role]int{admin: 200, adv1: 200, ref1: 200, anim59: 200}},
	{name: "suggestions", method: "GET", path: needPath("/suggestions"),
		allowed: map[role]int{admin: 200, adv1: 200, anim59: 200}},
	{name: "forward", method: "POST", path: needPath("/forward"),
		body:    func(_ testing.TB, e *env) any { return map[string]any{"referent_ids": []string{e.r2}} },
		allowed: map[role]int{admin: 200, adv1: 200, anim59: 200}},
	{name: "take charge", method: "POST",
		path:    func(e *env, n needView) string { return "/api/needs/" + n.ID + "/matches/" + e.r1 },
		body:    body(map[string]any{"action": "take_charge"}),
		allowed: map[role]int{admin: 200, ref1: 200}},
	{name: "comment", method: "POST", path: needPath("/comments"), body: body(map[string]any{"text": "vu"}),
		allowed: map[role]int{admin: 200, adv1: 200, ref1: 200, anim59: 200}},
	{name: "remind", method: "POST", path: needPath("/reminders"), body: body(map[string]any{"kind": "poke"}),
		allowed: map[role]int{admin: 200, anim59: 200, anim80: 403}},
	{name: "abandon", method: "POST", path: needPath("/abandon"), body: body(map[string]any{"reason": "injoignable"}),
		allowed: map[role]int{admin: 200, anim59: 200}},
	{name: "capture", method: "POST", path: fixed("/api/needs"),
		body:    func(t testing.TB, e *env) any { return e.captureBody(t, lille) },
		allowed: map[role]int{admin: 201, adv1: 201, adv2: 201}},
	{name: "list needs", method: "GET", path: fixed("/api/needs"),
		allowed: map[role]int{admin: 200, adv1: 200, adv2: 200, ref1: 200, ref3: 200, anim59: 200, anim80: 200}},
	{name: "inbox", method: "GET", path: fixed("/api/inbox"),
		allowed: map[role]int{admin: 422, ref1: 200, ref3: 200}},
	{name: "subjects", method: "GET", path: fixed("/api/subjects"),
		allowed: map[role]int{admin: 200, adv1: 200, adv2: 200, ref1: 200, ref3: 200, anim59: 200, anim80: 200, funder: 200}},
	{name: "stats", method: "GET", path: fixed("/api/stats?group_by=month"),
		allowed: map[role]int{admin: 200, anim59: 200, anim80: 200, funder: 200}},
	{name: "stats.csv", method: "GET", path: fixed("/api/stats.csv?group_by=region"),
		allowed: map[role]int{admin: 200, anim59: 200, anim80: 200, funder: 200}},
	{name: "stats.xlsx", method: "GET", path: fixed("/api/stats.xlsx"),
		allowed: map[role]int{admin: 200, anim59: 200, anim80: 200, funder: 200}},
	{name: "events", method: "GET", path: fixed("/api/events?limit=5"), allowed: map[role]int{admin: 200}},
	{name: "projections", method: "GET", path: fixed("/api/projections"), allowed: map[role]int{admin: 200}},
	{name: "rebuild", method: "POST", path: fixed("/api/projections/directory/rebuild"), body: body(map[string]any{}),
		allowed: map[role]int{admin: 202}},
	{name: "create user", method: "POST", path: fixed("/api/users"),
		body: func(_ testing.TB, e *env) any {
			return map[string]any{"name": "Ines", "email": "ines@users.test", "role": "funder"}
		},
		allowed: map[role]int{admin: 201}},
	{name: "create organisation", method: "POST", path: fixed("/api/organisations"),
		body: body(map[string]any{"name": "URSSAF Test", "kind": "urssaf"}), allowed: map[role]int{admin: 201}},
	{name: "register referent", method: "POST", path: fixed("/api/referents"),
		body: func(_ testing.TB, e *env) any {
			return map[string]any{"organisation_id": e.orgB, "name": "Jules", "email": "jules@referents.test",
				"subjects": []string{e.subject}, "zones": []zone{{"national", ""}}}
		},
		allowed: map[role]int{admin: 201}},
	{name: "erasure", method: "POST", path: fixed("/api/erasures"),
		body: body(map[string]any{"contact_email": "nobody@nowhere.test"}), allowed: map[role]int{admin: 200}},
	{name: "openapi", method: "GET", path: fixed("/api/openapi.json"), public: true},
	{name: "healthz", method: "GET", path: fixed("/healthz"), public: true},
	{name: "readyz", method: "GET", path: fixed("/readyz"), public: true},
	{name: "metrics", method: "GET", path: fixed("/metrics"), public: true},
}

// testRoles checks every endpoint for every role, allowed and refused.
func testRoles(t *testing.T, e *env) {
	for _, a := range accessTable {
		t.Run(a.name, func(t *testing.T) {
			for _, r := range allRoles {
				want := http.StatusForbidden
				switch {
				case a.public:
					want = http.StatusOK
				case r == nobody || r == badToken:
					want = http.StatusUnauthorized
				case a.allowed[r] != 0:
					want = a.allowed[r]
				}
				var n needView
				if a.path(e, needView{ID: "x"}) != a.path(e, needView{ID: "y"}) {
					n = e.mustForwarded(t, lille, e.r1)
				}
				var b any
				if a.body != nil {
					b = a.body(t, e)
				}
				got := e.client(r).do(t, a.method, a.path(e, n), b)
				if got.status != want {
					t.Errorf("%s %s as %s: status %d, want %d: %s", a.method, a.path(e, n), r, got.status, want, got.body)
					continue
				}
				if want >= 400 {
					got.mustProblem(t, want, "")
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
	// An admin reads any referent's inbox by naming it.
	e.admin.must(t, http.StatusOK, "GET", "/api/inbox?referent="+e.r1, nil)
	e.ref3.do(t, "GET", "/api/inbox?referent="+e.r1, nil).mustProblem(t, http.StatusForbidden, "")
}
