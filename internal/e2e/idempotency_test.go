package e2e

import (
	"net/http"
	"testing"
)

// testIdempotency repeats keyed POSTs.
func testIdempotency(t *testing.T, e *env) {
	body := e.captureBody(t, lille)
	first := e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", body, "Idempotency-Key", "capture-1")
	var n needView
	first.json(t, &n)
	again := e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", body, "Idempotency-Key", "capture-1")
	var n2 needView
	again.json(t, &n2)
	if n2.ID != n.ID || n2.Version != n.Version || again.header.Get("Reso-Position") != first.header.Get("Reso-Position") ||
		again.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("replay %+v %v, first %+v %v", n2, again.header, n, first.header)
	}
	if n2.Contact == nil || n2.Contact.Email != n.Contact.Email {
		t.Fatalf("replayed contact %+v, want %+v", n2.Contact, n.Contact)
	}
	if string(again.body) != string(first.body) {
		t.Fatalf("replay is not the first response byte for byte:\n%s\n%s", again.body, first.body)
	}
	// Same key, another body: refused, nothing appended.
	other := e.captureBody(t, lille)
	e.advisor1.do(t, "POST", "/api/needs", other, "Idempotency-Key", "capture-1").mustProblem(t, http.StatusUnprocessableEntity, "Idempotency-Key")
	// Another user's key space is their own.
	var n3 needView
	e.advisor2.must(t, http.StatusCreated, "POST", "/api/needs", body, "Idempotency-Key", "capture-1").json(t, &n3)
	if n3.ID == n.ID {
		t.Fatal("a key was shared across users")
	}

	// A repeated command appends nothing, even after later commands.
	fwd := map[string]any{"referent_ids": []string{e.r1}}
	r1 := e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/forward", fwd, "Idempotency-Key", "fwd-1")
	e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/comments", map[string]any{"text": "suite"}, "Idempotency-Key", "comment-1")
	r2 := e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/forward", fwd, "Idempotency-Key", "fwd-1")
	var f1, f2 needView
	r1.json(t, &f1)
	r2.json(t, &f2)
	if f1.Version != f2.Version || r1.header.Get("Reso-Position") != r2.header.Get("Reso-Position") {
		t.Fatalf("replayed forward %+v, first %+v", f2, f1)
	}
	e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/comments", map[string]any{"text": "suite"}, "Idempotency-Key", "comment-1")
	var h historyBody
	e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/history", nil).json(t, &h)
	if len(h.Events) != 3 {
		t.Fatalf("history has %d events after repeats, want 3 (captured, forwarded, comment)", len(h.Events))
	}
	// A refusal is a response too: its repeat is the same refusal.
	bad := map[string]any{"referent_ids": []string{e.r1}}
	e.advisor1.do(t, "POST", "/api/needs/"+n.ID+"/forward", bad, "Idempotency-Key", "fwd-2").mustProblem(t, http.StatusConflict, "")
	e.advisor1.do(t, "POST", "/api/needs/"+n.ID+"/forward", bad, "Idempotency-Key", "fwd-2").mustProblem(t, http.StatusConflict, "")
	// Directory commands too.
	org := map[string]any{"name": "Région Test", "kind": "region"}
	var o1, o2 idBody
	e.admin.must(t, http.StatusCreated, "POST", "/api/organisations", org, "Idempotency-Key", "org-1").json(t, &o1)
	e.admin.must(t, http.StatusCreated, "POST", "/api/organisations", org, "Idempotency-Key", "org-1").json(t, &o2)
	if o1.ID != o2.ID {
		t.Fatalf("organisation created twice: %s, %s", o1.ID, o2.ID)
	}
	user := map[string]any{"name": "Karim", "email": "karim@users.test", "role": "funder"}
	var u1, u2 idBody
	e.admin.must(t, http.StatusCreated, "POST", "/api/users", user, "Idempotency-Key", "user-1").json(t, &u1)
	e.admin.must(t, http.StatusCreated, "POST", "/api/users", user, "Idempotency-Key", "user-1").json(t, &u2)
	if u1 != u2 || u1.Token == "" {
		t.Fatalf("user replay %+v, first %+v", u2, u1)
	}
	e.admin.as(u1.Token).must(t, http.StatusOK, "GET", "/api/stats", nil)
}
