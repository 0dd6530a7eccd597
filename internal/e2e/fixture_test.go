package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Communes of the fixtures (INSEE codes, Hauts-de-France).
const (
	lille  = "59350" // Nord (59)
	amiens = "80021" // Somme (80)
)

// env is one running server with a small directory built through the API.
type env struct {
	store string // "sqlite" or "postgres"
	dsn   string // PostgreSQL URL, "" on SQLite
	dir   string // data directory on SQLite

	admin, advisor1, advisor2, ref1, ref2, ref3, anim59, anim80, funder, anon client

	orgA, orgB   string
	r1, r2, r3   string // referent ids
	advisor1ID   string
	subject      string
	otherSubject string
	names        map[string]string // user id -> name, for history checks
	sirets       atomic.Int64
}

type idBody struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

type zone struct {
	Level string `json:"level"`
	Code  string `json:"code,omitempty"`
}

// mustFixture builds the directory and the users of every role.
func mustFixture(t *testing.T, e *env) {
	t.Helper()
	var subjects []struct {
		Code string `json:"code"`
	}
	e.admin.must(t, http.StatusOK, "GET", "/api/subjects", nil).json(t, &subjects)
	if len(subjects) < 2 {
		t.Fatalf("only %d subjects", len(subjects))
	}
	e.subject, e.otherSubject = subjects[0].Code, subjects[1].Code
	e.names = map[string]string{}

	org := func(name, kind string) string {
		var b idBody
		e.admin.must(t, http.StatusCreated, "POST", "/api/organisations", map[string]any{"name": name, "kind": kind}).json(t, &b)
		return b.ID
	}
	e.orgA, e.orgB = org("CCI Test", "cci"), org("CMA Test", "cma")
	referent := func(orgID, name string, z zone) string {
		var b idBody
		e.admin.must(t, http.StatusCreated, "POST", "/api/referents", map[string]any{
			"organisation_id": orgID, "name": name, "email": name + "@referents.test",
			"subjects": []string{e.subject}, "zones": []zone{z},
		}).json(t, &b)
		return b.ID
	}
	e.r1 = referent(e.orgA, "ref-nord", zone{"departement", "59"})
	e.r2 = referent(e.orgB, "ref-region", zone{"region", "32"})
	e.r3 = referent(e.orgA, "ref-somme", zone{"departement", "80"})
	user := func(name, role string, extra map[string]any) client {
		login := strings.ToLower(strings.Fields(name)[0])
		body := map[string]any{"name": name, "email": login + "@users.test", "role": role}
		for k, v := range extra {
			body[k] = v
		}
		var b idBody
		e.admin.must(t, http.StatusCreated, "POST", "/api/users", body).json(t, &b)
		if b.ID == "" || b.Token == "" {
			t.Fatalf("user %s: %+v", name, b)
		}
		e.names[b.ID] = name
		if name == "Adèle Conseil" {
			e.advisor1ID = b.ID
		}
		return e.admin.as(b.Token)
	}
	e.advisor1 = user("Adèle Conseil", "advisor", map[string]any{"organisation_id": e.orgA})
	e.advisor2 = user("Bruno Conseil", "advisor", map[string]any{"organisation_id": e.orgB})
	e.ref1 = user("Chloé Nord", "referent", map[string]any{"organisation_id": e.orgA, "referent_id": e.r1})
	e.ref2 = user("David Région", "referent", map[string]any{"organisation_id": e.orgB, "referent_id": e.r2})
	e.ref3 = user("Emma Somme", "referent", map[string]any{"organisation_id": e.orgA, "referent_id": e.r3})
	e.anim59 = user("Fanny Animation", "animateur", map[string]any{"territories": []zone{{"departement", "59"}}})
	e.anim80 = user("Gilles Animation", "animateur", map[string]any{"territories": []zone{{"departement", "80"}}})
	e.funder = user("Hélène Financeur", "funder", nil)
	e.anon = e.admin.as("")
}

// needView is the need as the API returns it.
type needView struct {
	ID          string `json:"id"`
	Version     int64  `json:"version"`
	Status      string `json:"status"`
	SIRET       string `json:"siret"`
	CompanyName string `json:"company_name"`
	Commune     string `json:"commune"`
	Subject     string `json:"subject"`
	Contact     *struct {
		Name        string `json:"name"`
		Email       string `json:"email"`
		Phone       string `json:"phone"`
		Erased      bool   `json:"erased"`
		Unavailable bool   `json:"unavailable"`
	} `json:"contact"`
	CapturedAt time.Time `json:"captured_at"`
	Matches    []struct {
		ReferentID    string     `json:"referent_id"`
		Status        string     `json:"status"`
		SentAt        time.Time  `json:"sent_at"`
		TakenCareOfAt *time.Time `json:"taken_care_of_at"`
		ClosedAt      *time.Time `json:"closed_at"`
	} `json:"matches"`
}

func (n needView) match(t testing.TB, referent string) string {
	t.Helper()
	for _, m := range n.Matches {
		if m.ReferentID == referent {
			return m.Status
		}
	}
	t.Fatalf("need %s has no match with %s", n.ID, referent)
	return ""
}

// captureBody is a valid capture in commune.
func (e *env) captureBody(t testing.TB, commune string) map[string]any {
	t.Helper()
	n := int(e.sirets.Add(1))
	return map[string]any{
		"siret": mustSIRET(t, n), "company_name": fmt.Sprintf("Boulangerie %d", n), "commune": commune,
		"subject": e.subject, "description": "Recrutement d'un apprenti",
		"contact": map[string]string{"name": fmt.Sprintf("Contact %d", n), "email": fmt.Sprintf("contact%d@company.test", n), "phone": "0601020304"},
	}
}

// mustCapture captures a need as advisor1 in commune.
func (e *env) mustCapture(t testing.TB, commune string) (needView, string) {
	t.Helper()
	r := e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", e.captureBody(t, commune))
	var n needView
	r.json(t, &n)
	pos := r.header.Get("Reso-Position")
	if n.ID == "" || pos == "" {
		t.Fatalf("capture: id %q, position %q", n.ID, pos)
	}
	return n, pos
}

// mustForwarded captures a need in commune and forwards it to referents.
func (e *env) mustForwarded(t testing.TB, commune string, referents ...string) needView {
	t.Helper()
	n, _ := e.mustCapture(t, commune)
	var out needView
	e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/forward", map[string]any{"referent_ids": referents}).json(t, &out)
	return out
}
