package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/testwait"
)

func TestServeAndShutdown(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  func(t *testing.T) server.Config
	}{
		{"sqlite", func(t *testing.T) server.Config { return server.Config{DataDir: filepath.Join(t.TempDir(), "data")} }},
		{"postgres", func(t *testing.T) server.Config {
			return server.Config{DataDir: t.TempDir(), DatabaseURL: pgtest.MustSchema(t)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := c.cfg(t)
			cfg.MasterKeys = mustMasters(t)
			cfg.AdminToken = "reso_test_admin_token_of_the_" + c.name + "_server"
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv, err := server.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, ln) }()
			<-srv.Started()
			base := "http://" + srv.Addr()
			if got := mustStatus(t, base+"/healthz"); got != http.StatusOK {
				t.Errorf("/healthz = %d", got)
			}
			testwait.MustEventually(t, 5*time.Second, func() error {
				if got := mustStatus(t, base+"/readyz"); got != http.StatusOK {
					return fmt.Errorf("/readyz = %d, want 200", got)
				}
				return nil
			})
			// A serving process keeps contact keys in memory on
			// PostgreSQL, once it hears erasures (internal/keys).
			testwait.MustEventually(t, 5*time.Second, func() error {
				if got, want := srv.Backend().Keys.Caching(), c.name == "postgres"; got != want {
					return fmt.Errorf("keys kept in memory: %v, want %v", got, want)
				}
				return nil
			})
			p, err := srv.Service().Authenticate(ctx, cfg.AdminToken)
			if err != nil || p.Role != domain.RoleAdmin {
				t.Errorf("admin token: %+v, %v", p, err)
			}
			cancel() // what SIGTERM does in cmd/reso
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return after cancel")
			}
			if _, err := http.Get(base + "/healthz"); err == nil {
				t.Error("still serving after shutdown")
			}
			if err := srv.Backend().Ready(context.Background()); err == nil {
				t.Error("storage still open after shutdown")
			}
			// The admin survives a restart on the same storage, once.
			cfg2 := cfg
			srv2, err := server.New(context.Background(), cfg2)
			if err != nil {
				t.Fatal(err)
			}
			defer srv2.Shutdown(context.Background())
			p2, err := srv2.Service().Authenticate(context.Background(), cfg.AdminToken)
			if err != nil || p2.UserID != p.UserID {
				t.Errorf("after restart: %+v, %v; want user %s", p2, err, p.UserID)
			}
		})
	}
}

func mustStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
