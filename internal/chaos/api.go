package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/reso-fr/reso/domain"
)

// answer is what one HTTP request got.
type answer struct {
	status int // 0: no answer (the connection failed or was cut)
	body   []byte
	header http.Header
	err    error
	start  time.Time
	took   time.Duration
	// command: the answer to a command (not a read)
	command bool
}

// problem reports whether the answer is an application/problem+json.
func (a answer) problem() bool {
	return strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json")
}

// problemType is the answer's problem type, when it is a problem.
func (a answer) problemType() string {
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(a.body, &p)
	return p.Type
}

// api sends requests to a server.
type api struct {
	base   func() string
	client *http.Client
}

func newAPI(base func() string) *api {
	return &api{base: base, client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
	}}
}

// do sends one request. body is JSON-encoded when not nil; key, when set,
// is the Idempotency-Key.
func (c *api) do(ctx context.Context, method, path, token, key string, body any) answer {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		rd = bytes.NewReader(b)
	}
	a := answer{start: time.Now()}
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, rd)
	if err != nil {
		a.err = err
		return a
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		a.err, a.took = err, time.Since(a.start)
		return a
	}
	defer resp.Body.Close()
	a.body, a.err = io.ReadAll(resp.Body)
	a.status, a.header, a.took = resp.StatusCode, resp.Header, time.Since(a.start)
	if a.err != nil {
		a.status = 0 // cut in the middle of the answer
	}
	return a
}

// must sends a request that must answer want, and decodes its body into
// out (when not nil).
func (c *api) must(ctx context.Context, method, path, token string, body any, want int, out any) error {
	a := c.do(ctx, method, path, token, "", body)
	if a.err != nil {
		return fmt.Errorf("chaos: %s %s: %w", method, path, a.err)
	}
	if a.status != want {
		return fmt.Errorf("chaos: %s %s = %d, want %d: %s", method, path, a.status, want, a.body)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			return fmt.Errorf("chaos: %s %s: %w", method, path, err)
		}
	}
	return nil
}

// user is a principal of the network the suite builds.
type user struct {
	id, token  string
	referentID string // for referents
}

// network is the directory the clients work in: advisors capture needs in
// Lille and forward them to referents covering recruitment in Nord.
type network struct {
	admin     string
	advisors  []user
	referents []user
}

const (
	commune = "59350" // Lille, Nord
	subject = "recruitment"
)

// setup builds the network through the API: one organisation, four
// referents (and their users), and one advisor per client.
func setup(ctx context.Context, c *api, admin string, advisors int) (*network, error) {
	n := &network{admin: admin}
	var org struct {
		ID string `json:"id"`
	}
	if err := c.must(ctx, "POST", "/api/organisations", admin, map[string]string{"name": "CCI Chaos", "kind": "cci"}, http.StatusCreated, &org); err != nil {
		return nil, err
	}
	type zone struct {
		Level string `json:"level"`
		Code  string `json:"code"`
	}
	var created struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	for i := range 4 {
		if err := c.must(ctx, "POST", "/api/referents", admin, map[string]any{
			"organisation_id": org.ID, "name": fmt.Sprintf("Référent %d", i), "email": fmt.Sprintf("referent%d@chaos.test", i),
			"subjects": []string{subject}, "zones": []zone{{"departement", "59"}},
		}, http.StatusCreated, &created); err != nil {
			return nil, err
		}
		ref := created.ID
		if err := c.must(ctx, "POST", "/api/users", admin, map[string]any{
			"name": fmt.Sprintf("Référent %d", i), "email": fmt.Sprintf("referent%d.user@chaos.test", i), "role": "referent",
			"organisation_id": org.ID, "referent_id": ref,
		}, http.StatusCreated, &created); err != nil {
			return nil, err
		}
		n.referents = append(n.referents, user{id: created.ID, token: created.Token, referentID: ref})
	}
	for i := range advisors {
		if err := c.must(ctx, "POST", "/api/users", admin, map[string]any{
			"name": fmt.Sprintf("Conseiller %d", i), "email": fmt.Sprintf("advisor%d@chaos.test", i), "role": "advisor",
			"organisation_id": org.ID,
		}, http.StatusCreated, &created); err != nil {
			return nil, err
		}
		n.advisors = append(n.advisors, user{id: created.ID, token: created.Token})
	}
	return n, nil
}

// siret returns a valid SIRET made from n: the domain's check decides the
// last digit.
func siret(n int) string {
	base := fmt.Sprintf("%013d", 100000000000+n%900000000000)
	for check := '0'; check <= '9'; check++ {
		if s, err := domain.ParseSIRET(base + string(check)); err == nil {
			return string(s)
		}
	}
	panic("no check digit makes a valid SIRET")
}
