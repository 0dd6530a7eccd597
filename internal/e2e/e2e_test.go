package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/servertest"
)

// mustServer starts the real server on port 0 on the given store and
// returns the environment with its fixtures.
func mustServer(t *testing.T, store string) *env {
	t.Helper()
	var tok [32]byte
	_, _ = rand.Read(tok[:])
	e := &env{store: store}
	master, err := keys.GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	// Every role's client runs from this one address, faster than people:
	// the rate limits have tests of their own (internal/server).
	cfg := server.Config{
		MasterKeys: []*keys.Master{master}, Limits: server.Limits{Off: true},
		Addr:       "127.0.0.1:0",
		AdminToken: hex.EncodeToString(tok[:]),
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	switch store {
	case "sqlite":
		e.dir = t.TempDir()
		cfg.DataDir = e.dir
	case "postgres":
		e.dsn = pgtest.MustSchema(t)
		cfg.DatabaseURL = e.dsn
	}
	srv := servertest.Start(t, cfg)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	e.admin = client{base: "http://" + srv.Addr(), token: cfg.AdminToken, hc: hc}
	mustFixture(t, e)
	return e
}

// testWriter sends the server's warnings to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestEndToEnd runs the whole suite on each store.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			e := mustServer(t, store)
			t.Run("lifecycle", func(t *testing.T) { testLifecycle(t, e) })
			t.Run("pagination", func(t *testing.T) { testPagination(t, e) })
			t.Run("roles", func(t *testing.T) { testRoles(t, e) })
			t.Run("bad input", func(t *testing.T) { testBadInput(t, e) })
			t.Run("new user", func(t *testing.T) { testNewUser(t, e) })
			t.Run("tokens", func(t *testing.T) { testTokens(t, e) })
			t.Run("idempotency", func(t *testing.T) { testIdempotency(t, e) })
			t.Run("concurrency", func(t *testing.T) { testConcurrency(t, e) })
			t.Run("erasure", func(t *testing.T) { testErasure(t, e) })
			t.Run("erasure by SIRET", func(t *testing.T) { testErasureBySIRET(t, e) })
			t.Run("foreign key", func(t *testing.T) { testForeignKey(t, e) })
			t.Run("exports", func(t *testing.T) { testExports(t, e) })
			t.Run("admin", func(t *testing.T) { testAdmin(t, e) })
			t.Run("rollout", func(t *testing.T) { testRollout(t, e) })
			t.Run("signaux faibles", func(t *testing.T) { testSignauxFaibles(t, e) })
		})
	}
}
