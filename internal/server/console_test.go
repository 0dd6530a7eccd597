package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/reso-fr/reso/internal/demo"
	"github.com/reso-fr/reso/internal/server"
)

// syncBuffer is a buffer the server writes to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestConsoleBesideAPI: the server prints the console's address, serves
// the console at / and the API under /api.
func TestConsoleBesideAPI(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, server.Config{DataDir: t.TempDir(), Out: out, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MasterKeys: mustMasters(t)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	<-srv.Started()
	base := "http://" + srv.Addr()
	if got := out.String(); got != "Console: "+base+"/\n" {
		t.Errorf("printed %q", got)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/connexion" {
		t.Errorf("GET /: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, err = hc.Get(base + "/connexion")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "<title>Connexion – Réso</title>") {
		t.Errorf("GET /connexion: %d", res.StatusCode)
	}
	res, err = hc.Get(base + "/api/needs")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("GET /api/needs without a token: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestDemoTokensOverHTTP: a demo server lists its users' tokens at
// /demo/tokens.txt, the lines of the saved file, and each works on the
// API; a server without --demo has no such page.
func TestDemoTokensOverHTTP(t *testing.T) {
	t.Parallel()
	srv, base := mustServe(t, server.Config{Demo: true, DemoOptions: demo.Options{Seed: 1, Months: 1}})
	res, err := http.Get(base + "/demo/tokens.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /demo/tokens.txt: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	roles := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("line %q: want role, name, token", line)
		}
		req, _ := http.NewRequest("GET", base+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+f[2])
		me, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		me.Body.Close()
		if me.StatusCode != http.StatusOK {
			t.Errorf("%s's token: GET /api/me %d", f[0], me.StatusCode)
		}
		roles[f[0]] = true
	}
	if want := len(srv.Demo().Tokens); len(roles) != want || want < 5 {
		t.Errorf("roles %v, want the %d the seeding made", roles, want)
	}

	_, plain := mustServe(t, server.Config{})
	res, err = http.Get(plain + "/demo/tokens.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusOK && strings.Contains(string(body), "reso_") {
		t.Fatalf("a server without --demo lists tokens: %q", body)
	}
}
