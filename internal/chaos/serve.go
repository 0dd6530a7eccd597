package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/server"
)

// ServeEnv is the environment variable that makes a binary holding
// ServeFromEnv serve instead of doing its own work: the suites start their
// own binary (a test binary, reso-bench) as the server, so that they can
// kill it without building reso.
const ServeEnv = "RESO_CHAOS_SERVE"

// ServeFromEnv runs the real server as reso serve does, configured by the
// variables Server sets (RESO_ADDR, RESO_DATA, RESO_DATABASE_URL,
// RESO_ADMIN_TOKEN, RESO_MASTER_KEY), without rate limits (clients at full
// speed are the point), until SIGINT or SIGTERM. It returns the process's
// exit code.
func ServeFromEnv() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	master, err := keys.ParseMaster(os.Getenv("RESO_MASTER_KEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve: RESO_MASTER_KEY:", err)
		return 1
	}
	srv, err := server.New(ctx, server.Config{
		Addr: os.Getenv("RESO_ADDR"), DataDir: os.Getenv("RESO_DATA"), DatabaseURL: os.Getenv("RESO_DATABASE_URL"),
		AdminToken: os.Getenv("RESO_ADMIN_TOKEN"), Logger: log, MasterKeys: []*keys.Master{master},
		Limits: server.Limits{Off: true},
	})
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}
