package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/testwait"
)

// client calls the API as one user.
type client struct {
	base  string
	token string
	hc    *http.Client
}

// resp is a read response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// as returns a client with another token.
func (c client) as(token string) client { c.token = token; return c }

// do sends a request; body is JSON-encoded unless it is a string or []byte
// (sent as is). hdr holds header name/value pairs.
func (c client) do(t testing.TB, method, path string, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// must sends a request and fails the test unless it answers want.
func (c client) must(t testing.TB, want int, method, path string, body any, hdr ...string) resp {
	t.Helper()
	r := c.do(t, method, path, body, hdr...)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

// json decodes the body into v.
func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem is an error body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// mustProblem checks r is a problem+json of status want; when field is
// set, that the problem names it.
func (r resp) mustProblem(t testing.TB, want int, field string) problem {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	var p problem
	r.json(t, &p)
	if p.Status != want || p.Type == "" || p.Title == "" {
		t.Fatalf("problem %+v", p)
	}
	if field != "" {
		found := false
		for _, e := range p.Errors {
			found = found || e.Field == field
		}
		if !found {
			t.Fatalf("problem %s does not name field %s", r.body, field)
		}
	}
	return p
}

// mustSIRET returns a valid SIRET (Luhn) built from n.
func mustSIRET(t testing.TB, n int) string {
	t.Helper()
	base := fmt.Sprintf("%013d", 4_000_000_000_000+n)
	for d := 0; d <= 9; d++ {
		s := base + fmt.Sprint(d)
		if luhn(s) && !strings.HasPrefix(s, "356000000") {
			return s
		}
	}
	t.Fatalf("no SIRET for %d", n)
	return ""
}

func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// eventually retries check until it passes or 10 s elapse.
func eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	testwait.MustEventually(t, 10*time.Second, func() error {
		if err := check(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}
