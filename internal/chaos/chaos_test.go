package chaos_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/chaos"
	"github.com/reso-fr/reso/internal/pgtest"
)

// The tests start this very binary as the server (the real server package,
// as reso serve runs it), so that they can kill it without building reso.
func TestMain(m *testing.M) {
	if os.Getenv(chaos.ServeEnv) == "1" {
		os.Exit(chaos.ServeFromEnv())
	}
	os.Exit(m.Run())
}

// newServer describes a server of this binary on store ("sqlite" or
// "postgres", whose URL is given), logging to a file of the test.
func newServer(t *testing.T, dbURL string) *chaos.Server {
	t.Helper()
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		log.Close()
		if t.Failed() {
			if b, err := os.ReadFile(log.Name()); err == nil {
				t.Logf("server log (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
			}
		}
	})
	return &chaos.Server{
		Command: []string{os.Args[0]}, Env: []string{chaos.ServeEnv + "=1"},
		DataDir: filepath.Join(dir, "data"), DatabaseURL: dbURL, AdminToken: "reso_chaos_admin_token_0123456789", Log: log,
	}
}

func logFigures(t *testing.T, v any) {
	t.Helper()
	b, _ := json.MarshalIndent(v, "", "  ")
	t.Logf("figures: %s", b)
}

// TestCrash is the crash suite. RESO_CHAOS=short (CI) kills the server 10
// times within seconds of each start; RESO_CHAOS=long lets it run 2 to 8 s
// between kills.
func TestCrash(t *testing.T) {
	mode := os.Getenv("RESO_CHAOS")
	if mode == "" {
		t.Skip("set RESO_CHAOS=short or RESO_CHAOS=long to run the crash suite")
	}
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			var dbURL string
			if store == "postgres" {
				dbURL = pgtest.MustSchema(t)
			}
			o := chaos.CrashOptions{Server: newServer(t, dbURL), Seed: uint64(time.Now().UnixNano()), Logf: t.Logf}
			if mode == "long" {
				o.MinUp, o.MaxUp = 2*time.Second, 8*time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
			defer cancel()
			fig, err := chaos.Crash(ctx, o)
			logFigures(t, fig)
			if err != nil {
				t.Fatal(err)
			}
			if !fig.OK() || fig.Kills != 10 || fig.AfterRetry == 0 {
				t.Errorf("crash suite: %d lost, %d duplicates, %d read-model problems, %d unanswered, %d acknowledged after a retry (want some), %d kills",
					fig.Lost, fig.Duplicates, fig.Mismatches, fig.Unanswered, fig.AfterRetry, fig.Kills)
			}
		})
	}
}

// TestPostgresOutage stops the PostgreSQL server under load and starts it
// again, on a cluster of the test's own.
func TestPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts a PostgreSQL cluster: not under -short")
	}
	c := pgtest.MustCluster(t)
	s := newServer(t, pgtest.WithSearchPath(t, c.MustCreateDatabase(t, "reso"), "public"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fig, err := chaos.Outage(ctx, chaos.OutageOptions{
		Server: s, Seed: uint64(time.Now().UnixNano()), Logf: t.Logf,
		StopDatabase:  func() error { c.Stop(t); return nil },
		StartDatabase: func() error { c.Start(t); return nil },
	})
	logFigures(t, fig)
	if err != nil {
		t.Fatal(err)
	}
	if !fig.OK() {
		t.Errorf("outage: answers while down %v, while starting %v (%d not problem+json, %d without an answer, slowest %d ms); database up after %d ms, a command served after %d ms; %d lost, %d duplicates, %d read-model problems, %d unanswered",
			fig.WhileDown, fig.WhileStarting, fig.NotProblem, fig.NoAnswer, fig.SlowestWhileDownMS, fig.StartMS, fig.FirstCommandMS,
			fig.Lost, fig.Duplicates, fig.Mismatches, fig.Unanswered)
	}
	if fig.WhileDown[503] < 20 || fig.Acknowledged < 100 {
		t.Errorf("too little load to judge: %d answers while down, %d commands acknowledged", fig.WhileDown[503], fig.Acknowledged)
	}
}
