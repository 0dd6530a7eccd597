package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reso-fr/reso/internal/testwait"
)

// Cluster is a PostgreSQL cluster of one test's own, made with Debian's
// pg_createcluster on a free port: the test may stop and start it (a
// database outage) without disturbing the other tests, which use the main
// cluster. Its name starts with "reso_test_"; MustCluster drops it when the
// test ends (a test killed before leaves it: pg_lsclusters shows it, and
// pg_dropcluster --stop removes it).
type Cluster struct {
	Version, Name string
	Port          int
}

// MustCluster creates and starts a cluster (trust authentication, fsync
// off: it holds nothing to keep) and drops it when the test ends. It skips
// the test when pg_createcluster is missing, and fails instead when CI or
// RESO_REQUIRE_POSTGRES is set.
func MustCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("pg_createcluster"); err != nil {
		if Required() {
			t.Fatalf("pg_createcluster required but missing: %v", err)
		}
		t.Skipf("pg_createcluster missing (Debian's postgresql-common); set CI or RESO_REQUIRE_POSTGRES to fail instead")
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(versions) == 0 {
		t.Fatal("pg_createcluster is there but no PostgreSQL server under /usr/lib/postgresql")
	}
	slices.Sort(versions)
	var b [5]byte
	_, _ = rand.Read(b[:])
	c := &Cluster{
		Version: filepath.Base(filepath.Dir(filepath.Dir(versions[len(versions)-1]))),
		Name:    "reso_test_" + hex.EncodeToString(b[:]),
		Port:    freePort(t),
	}
	t.Cleanup(func() {
		if out, err := exec.Command("pg_dropcluster", "--stop", c.Version, c.Name).CombinedOutput(); err != nil {
			t.Errorf("drop cluster %s: %v: %s", c.Name, err, out)
		}
	})
	c.run(t, "pg_createcluster", "--start", "-p", fmt.Sprint(c.Port), "-o", "fsync=off",
		c.Version, c.Name, "--", "--auth-local=trust", "--auth-host=trust")
	c.mustAnswer(t)
	return c
}

// URL is a URL of database db ("postgres" always exists) in the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// MustCreateDatabase creates database name in the cluster and returns its
// URL.
func (c *Cluster) MustCreateDatabase(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	return c.URL(name)
}

// Stop stops the cluster at once, as a crash would (pg_ctlcluster stop -m
// immediate: no checkpoint, connections cut).
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	c.run(t, "pg_ctlcluster", "--skip-systemctl-redirect", c.Version, c.Name, "stop", "-m", "immediate")
}

// Start starts the stopped cluster and waits until it answers.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	c.run(t, "pg_ctlcluster", "--skip-systemctl-redirect", c.Version, c.Name, "start")
	c.mustAnswer(t)
}

func (c *Cluster) run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// mustAnswer waits until the cluster accepts a connection.
func (c *Cluster) mustAnswer(t testing.TB) {
	t.Helper()
	testwait.MustEventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err != nil {
			return fmt.Errorf("cluster %s does not answer on port %d: %w", c.Name, c.Port, err)
		}
		return conn.Close(ctx)
	})
}

// freePort returns a TCP port nothing listens on at the moment.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
