package e2e

import (
	"net/http"
	"strings"
	"testing"
)

type tokenBody struct {
	ID        string  `json:"id"`
	Token     string  `json:"token"`
	ExpiresAt string  `json:"expires_at"`
	LastUsed  *string `json:"last_used_at"`
	RevokedAt *string `json:"revoked_at"`
	Current   bool    `json:"current"`
}

// testTokens: a new user issues a second token, lists both (never their
// secrets), revokes the first, which is refused at once with a 401 that
// says why; another user cannot see or revoke them.
func testTokens(t *testing.T, e *env) {
	var u idBody
	e.admin.must(t, http.StatusCreated, "POST", "/api/users", map[string]any{
		"name": "Théo Jetons", "email": "theo@tokens.test", "role": "advisor", "organisation_id": e.orgA}).json(t, &u)
	owner := e.admin.as(u.Token)
	var issued tokenBody
	owner.must(t, http.StatusCreated, "POST", "/api/users/"+u.ID+"/tokens", map[string]any{}).json(t, &issued)
	if !strings.HasPrefix(issued.Token, "reso_") || issued.ID == "" || issued.ExpiresAt == "" {
		t.Fatalf("issued %+v", issued)
	}
	second := e.admin.as(issued.Token)
	var list struct {
		Tokens []tokenBody `json:"tokens"`
	}
	r := second.must(t, http.StatusOK, "GET", "/api/users/"+u.ID+"/tokens", nil)
	if strings.Contains(string(r.body), "reso_") {
		t.Fatal("a token list shows a token")
	}
	r.json(t, &list)
	var first string
	for _, tk := range list.Tokens {
		if tk.Current != (tk.ID == issued.ID) {
			t.Errorf("token %s current %v", tk.ID, tk.Current)
		}
		if tk.ID != issued.ID {
			first = tk.ID
		}
	}
	if len(list.Tokens) < 2 || first == "" {
		t.Fatalf("tokens %+v", list.Tokens)
	}
	// Another user neither lists nor revokes them.
	e.advisor1.do(t, "GET", "/api/users/"+u.ID+"/tokens", nil).mustProblem(t, http.StatusForbidden, "")
	e.advisor1.do(t, "DELETE", "/api/tokens/"+first, nil).mustProblem(t, http.StatusNotFound, "")
	// Revoking the first token with the second: the first is refused.
	var revoked tokenBody
	second.must(t, http.StatusOK, "DELETE", "/api/tokens/"+first, nil).json(t, &revoked)
	if revoked.RevokedAt == nil {
		t.Fatalf("revoked %+v", revoked)
	}
	p := owner.do(t, "GET", "/api/me", nil).mustProblem(t, http.StatusUnauthorized, "")
	if !strings.Contains(p.Detail, "revoked") {
		t.Errorf("401 detail %q does not say the token was revoked", p.Detail)
	}
	second.must(t, http.StatusOK, "GET", "/api/me", nil)
	// An admin lists and revokes anyone's.
	e.admin.must(t, http.StatusOK, "GET", "/api/users/"+u.ID+"/tokens", nil)
	e.admin.must(t, http.StatusOK, "DELETE", "/api/tokens/"+issued.ID, nil)
	second.do(t, "GET", "/api/me", nil).mustProblem(t, http.StatusUnauthorized, "")
}
