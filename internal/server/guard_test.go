package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/ratelimit"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/servertest"
)

// mustServe starts a server on the embedded store with cfg's limits and
// timeouts and returns its base URL; it stops with the test.
func mustServe(t *testing.T, cfg server.Config) (*server.Server, string) {
	t.Helper()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.MasterKeys = mustMasters(t)
	cfg.AdminToken = "reso_test_admin_token_of_32_chars_at_least"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := servertest.Start(t, cfg)
	return srv, "http://" + srv.Addr()
}

// TestSlowHeadersAreCut sends a request's headers one byte at a time: the
// server closes the connection once its header timeout has passed, long
// before the headers are complete.
func TestSlowHeadersAreCut(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	srv, _ := mustServe(t, server.Config{Timeouts: server.Timeouts{ReadHeader: timeout}})
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan time.Time, 1)
	go func() {
		// Whatever the server says (nothing, or a 408), it then closes.
		_, _ = io.Copy(io.Discard, conn)
		closed <- time.Now()
	}()
	start := time.Now()
	req := "GET /healthz HTTP/1.1\r\nHost: reso\r\nX-Slow: " + string(make([]byte, 40)) + "\r\n\r\n"
	tick := time.NewTicker(100 * time.Millisecond) // 10 bytes a second: 7 s for the whole request
	defer tick.Stop()
	for i := 0; i < len(req); i++ {
		select {
		case at := <-closed:
			// The server's clock starts at accept, a moment before ours.
			if d := at.Sub(start); d < timeout-100*time.Millisecond || d > timeout+2*time.Second {
				t.Fatalf("cut after %v, want soon after %v", d, timeout)
			}
			return
		case <-tick.C:
		}
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			break // the server closed first: the reader reports when
		}
	}
	select {
	case at := <-closed:
		if at.Sub(start) > timeout+2*time.Second {
			t.Fatalf("cut after %v", at.Sub(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a client sending its headers slowly was never cut")
	}
}

// TestRateLimitPerPrincipal floods the API with one token at about 1,000
// requests a second: it gets 429s with Retry-After, while another token,
// from the same address, is served normally.
func TestRateLimitPerPrincipal(t *testing.T) {
	t.Parallel()
	srv, base := mustServe(t, server.Config{Limits: server.Limits{
		PerPrincipal: ratelimit.DefaultPerPrincipal,
		PerAddress:   ratelimit.Limit{Rate: -1}, // one machine plays both users
	}})
	ctx := context.Background()
	admin, err := srv.Service().Authenticate(ctx, "reso_test_admin_token_of_32_chars_at_least")
	if err != nil {
		t.Fatal(err)
	}
	var tokens [2]string
	for i := range tokens {
		_, tokens[i], _, err = srv.Service().RegisterUser(ctx, admin, app.UserInput{
			Name: "Fanny", Email: []string{"a@dge.fr", "b@dge.fr"}[i], Role: domain.RoleFunder}, app.CommandMeta{})
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/api/subjects", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	var ok, limited atomic.Int64
	var retryAfter atomic.Value
	stop := make(chan struct{})
	refused := make(chan struct{}) // closed at the 50th refusal
	var once sync.Once
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(8 * time.Millisecond) // 8 × 125/s = 1,000/s
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				switch code, ra := get(tokens[0]); code {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					retryAfter.Store(ra)
					if limited.Add(1) == 50 {
						once.Do(func() { close(refused) })
					}
				default:
					t.Errorf("flooding token: status %d", code)
				}
			}
		}()
	}
	// Once the flood is refused, the other token must still pass.
	select {
	case <-refused:
	case <-time.After(10 * time.Second):
		close(stop)
		wg.Wait()
		t.Fatalf("no refusal after 10 s of flooding: %d served", ok.Load())
	}
	for i := range 20 {
		if code, _ := get(tokens[1]); code != http.StatusOK {
			t.Errorf("the other token's request %d: status %d during the flood", i, code)
		}
	}
	close(stop)
	wg.Wait()
	if limited.Load() < 50 {
		t.Fatalf("only %d of %d requests refused", limited.Load(), limited.Load()+ok.Load())
	}
	if ra, _ := retryAfter.Load().(string); ra == "" {
		t.Error("429 without Retry-After")
	}
	if ok.Load() < int64(ratelimit.DefaultPerPrincipal.Burst) {
		t.Errorf("only %d requests served: the burst is %d", ok.Load(), ratelimit.DefaultPerPrincipal.Burst)
	}
}

// TestRateLimitPerAddress floods an unauthenticated route from one
// address: past its burst, 429.
func TestRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	_, base := mustServe(t, server.Config{Limits: server.Limits{PerAddress: ratelimit.Limit{Rate: 5, Burst: 10}}})
	codes := map[int]int{}
	for range 30 {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusOK] < 10 || codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("statuses %v: want the burst of 10 served, then 429s", codes)
	}
}

// mustMasters is one fresh master key.
func mustMasters(t *testing.T) []*keys.Master {
	t.Helper()
	m, err := keys.GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	return []*keys.Master{m}
}

// TestExpiredTokenRefused: on a server whose tokens live a nanosecond, a
// token is expired by its first use: 401 problem+json saying so, with the
// Bearer challenge.
func TestExpiredTokenRefused(t *testing.T) {
	t.Parallel()
	srv, base := mustServe(t, server.Config{TokenTTL: time.Nanosecond})
	admin := app.Principal{UserID: uuid.New(), Role: domain.RoleAdmin}
	_, token, _, err := srv.Service().RegisterUser(context.Background(), admin, app.UserInput{
		Name: "Fanny", Email: "fanny@dge.fr", Role: domain.RoleFunder}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUnauthorized || p.Status != http.StatusUnauthorized ||
		resp.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(p.Detail, "expired") || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("expired token: %d %s %+v %v", resp.StatusCode, resp.Header.Get("Content-Type"), p, resp.Header)
	}
}
