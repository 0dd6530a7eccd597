package compat

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/servertest"
	"github.com/reso-fr/reso/internal/testwait"
)

// mustServe starts a server on cfg at 127.0.0.1:0, waits until its read
// models have caught up with the log, and returns its base URL. The server
// stops when the test ends.
func mustServe(t testing.TB, cfg server.Config) (*server.Server, string) {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := servertest.Start(t, cfg)
	mustCatchUp(t, srv)
	return srv, "http://" + srv.Addr()
}

// mustCatchUp waits until the read models reach the log's head.
func mustCatchUp(t testing.TB, srv *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Scale(2*time.Minute))
	defer cancel()
	b := srv.Backend()
	head, err := b.Events.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Projections.WaitFor(ctx, head); err != nil {
		t.Fatalf("read models did not reach %s: %v", head, err)
	}
}

// mustMaster is a fresh master key.
func mustMaster(t testing.TB) *keys.Master {
	t.Helper()
	m, err := keys.GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	return m
}
