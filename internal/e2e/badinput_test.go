package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// testBadInput sends every kind of bad input and checks the problem.
func testBadInput(t *testing.T, e *env) {
	n := e.mustForwarded(t, lille, e.r1)
	need := "/api/needs/" + n.ID
	capture := func(mut func(b map[string]any)) map[string]any {
		b := e.captureBody(t, lille)
		mut(b)
		return b
	}
	valid := mustSIRET(t, 999_999)
	badSIRET := valid[:13] + string('0'+(valid[13]-'0'+1)%10)
	cases := []struct {
		name   string
		c      client
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"malformed JSON", e.advisor1, "POST", "/api/needs", `{"siret": "1234`, 400, ""},
		{"not an object", e.advisor1, "POST", "/api/needs", `["a"]`, 400, ""},
		{"empty body", e.advisor1, "POST", "/api/needs", ``, 400, ""},
		{"unknown field", e.advisor1, "POST", "/api/needs", capture(func(b map[string]any) { b["colour"] = "blue" }), 400, "colour"},
		{"wrong JSON type", e.advisor1, "POST", "/api/needs", capture(func(b map[string]any) { b["siret"] = 12 }), 422, "siret"},
		{"bad SIRET", e.advisor1, "POST", "/api/needs", capture(func(b map[string]any) { b["siret"] = badSIRET }), 422, "siret"},
		{"short SIRET", e.advisor1, "POST", "/api/needs", capture(func(b map[string]any) { b["siret"] = "123" }), 422, "siret"},
		{"unknown commune", e.advisor1, "POST", "/api/needs", capture(func(b map[string]any) { b["commune"] = "99999" }), 422, "commune"},
		{"unknown subject", e.advisor1, "POST", "/api/needs", capture(func(b map[string]any) { b["subject"] = "astrology" }), 422, "subject"},
		{"oversize body", e.advisor1, "POST", "/api/needs", capture(func(b map[string]any) { b["description"] = strings.Repeat("é", 1<<20) }), 413, ""},
		{"unknown referent", e.advisor1, "POST", need + "/forward", map[string]any{"referent_ids": []string{"0190c0de-0000-7000-8000-000000000000"}}, 422, "referent_ids"},
		{"referent id not an id", e.advisor1, "POST", need + "/forward", map[string]any{"referent_ids": []string{"bob"}}, 422, "referent_ids[0]"},
		{"no referent", e.advisor1, "POST", need + "/forward", map[string]any{"referent_ids": []string{}}, 422, "referent_ids"},
		{"already matched", e.advisor1, "POST", need + "/forward", map[string]any{"referent_ids": []string{e.r1}}, 409, ""},
		{"unknown action", e.ref1, "POST", need + "/matches/" + e.r1, map[string]any{"action": "dance"}, 422, "action"},
		{"refused transition", e.ref1, "POST", need + "/matches/" + e.r1, map[string]any{"action": "done"}, 409, ""},
		{"unknown reminder", e.anim59, "POST", need + "/reminders", map[string]any{"kind": "shout"}, 422, "kind"},
		{"empty comment", e.advisor1, "POST", need + "/comments", map[string]any{"text": " "}, 422, "text"},
		{"unknown need", e.admin, "GET", "/api/needs/0190c0de-0000-7000-8000-000000000000", nil, 404, ""},
		{"need id not an id", e.admin, "GET", "/api/needs/not-a-uuid", nil, 404, ""},
		{"unknown need command", e.admin, "POST", "/api/needs/0190c0de-0000-7000-8000-000000000000/comments", map[string]any{"text": "x"}, 404, ""},
		{"match of a referent not matched", e.admin, "POST", need + "/matches/" + e.r3, map[string]any{"action": "take_charge"}, 404, ""},
		{"bad as_of", e.advisor1, "GET", need + "?as_of=yesterday", nil, 422, "as_of"},
		{"bad cursor", e.advisor1, "GET", "/api/needs?cursor=%25%25garbage", nil, 422, "cursor"},
		{"bad limit", e.advisor1, "GET", "/api/needs?limit=100000", nil, 422, "limit"},
		{"bad status filter", e.advisor1, "GET", "/api/needs?status=sleeping", nil, 422, "status"},
		{"bad basket", e.anim59, "GET", "/api/needs?basket=full", nil, 422, "basket"},
		{"bad min_position", e.advisor1, "GET", "/api/needs?min_position=12", nil, 422, "min_position"},
		{"bad min_position on suggestions", e.advisor1, "GET", need + "/suggestions?min_position=12", nil, 422, "min_position"},
		{"bad tab", e.ref1, "GET", "/api/inbox?tab=spam", nil, 422, "tab"},
		{"bad group_by", e.funder, "GET", "/api/stats?group_by=month,colour", nil, 422, "group_by"},
		{"repeated group_by", e.funder, "GET", "/api/stats?group_by=month,month", nil, 422, "group_by"},
		{"bad month", e.funder, "GET", "/api/stats?from=2026-13", nil, 422, "from"},
		{"bad group_by in csv", e.funder, "GET", "/api/stats.csv?group_by=colour", nil, 422, "group_by"},
		{"bad after", e.admin, "GET", "/api/events?after=zzz", nil, 422, "after"},
		{"unknown projection", e.admin, "POST", "/api/projections/nope/rebuild", map[string]any{}, 404, ""},
		{"bad role", e.admin, "POST", "/api/users", map[string]any{"name": "X", "email": "x@users.test", "role": "king"}, 422, "role"},
		{"bad organisation kind", e.admin, "POST", "/api/organisations", map[string]any{"name": "X", "kind": "guild"}, 422, "kind"},
		{"erasure needs one key", e.admin, "POST", "/api/erasures", map[string]any{}, 422, ""},
		{"unknown route", e.admin, "GET", "/api/nothing", nil, 404, ""},
		{"wrong method", e.admin, "DELETE", "/api/needs", nil, 405, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.c.do(t, c.method, c.path, c.body).mustProblem(t, c.status, c.field)
		})
	}
	// A position the projections will not reach within 5 s: 503, retry later.
	far := e.advisor1.do(t, "GET", "/api/needs?min_position=7fffffffffffffff-0000000000000000", nil)
	far.mustProblem(t, http.StatusServiceUnavailable, "")
	if far.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	// None of the refused commands changed the need.
	var after needView
	e.admin.must(t, http.StatusOK, "GET", need, nil).json(t, &after)
	if after.Version != n.Version {
		t.Fatalf("refused commands moved the need from version %d to %d", n.Version, after.Version)
	}
}
