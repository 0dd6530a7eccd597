package backup_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/backup"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/internal/verify"
	"github.com/reso-fr/reso/projections/readmodels"
)

var ctx = context.Background()

type sealer struct{ k *keys.Keyring }

func (s sealer) Seal(ctx context.Context, needID uuid.UUID, siret string, c simulate.Contact) (domain.SealedContact, error) {
	return s.k.Seal(ctx, needID, siret, keys.Contact(c))
}

func quiet() readmodels.Options {
	return readmodels.Options{RetryDelay: 20 * time.Millisecond, StandbyRetry: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// testMaster wraps the tests' contact keys, whatever store they reopen.
var testMaster = func() *keys.Master {
	m, err := keys.GenerateMaster()
	if err != nil {
		panic(err)
	}
	return m
}()

func mustOpen(t *testing.T, cfg backend.Config) *backend.Backend {
	t.Helper()
	cfg.Projections = quiet()
	cfg.Masters = []*keys.Master{testMaster}
	b, err := backend.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// mustSimulate writes needs with contacts sealed by b's keyring.
func mustSimulate(t *testing.T, b *backend.Backend, seed int64, needs int) {
	t.Helper()
	if _, err := simulate.Run(ctx, b.Events, simulate.Options{Seed: seed, Months: 2, TotalNeeds: needs, Sealer: sealer{b.Keys}}); err != nil {
		t.Fatal(err)
	}
}

func mustPgTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			if pgtest.Required() {
				t.Fatalf("%s required: %v", tool, err)
			}
			t.Skipf("%s missing", tool)
		}
	}
}

// TestBackupRestoreVerify backs an embedded store up while a writer
// appends to it, restores the backup into an empty directory, verifies the
// copy, and checks it is a snapshot of the source: every stream a prefix of
// the source's.
func TestBackupRestoreVerify(t *testing.T) {
	t.Parallel()
	src := backend.Config{DataDir: filepath.Join(t.TempDir(), "src")}
	testBackupRestoreVerify(t, src, backend.Config{DataDir: filepath.Join(t.TempDir(), "dst")}, false)
}

// TestBackupRestoreVerifyPostgres does the same with pg_dump and
// pg_restore, into another database of the source's cluster, and from the
// main test server into a cluster of the test's own, whose transaction ids
// are behind (the log is renumbered). Restores run in that cluster: a
// restore is one long transaction, which would hold back the readers of
// every other test on the main server.
func TestBackupRestoreVerifyPostgres(t *testing.T) {
	t.Parallel()
	mustPgTools(t)
	c := pgtest.MustCluster(t)
	t.Run("same cluster", func(t *testing.T) {
		t.Parallel()
		src := pgtest.WithSearchPath(t, c.MustCreateDatabase(t, "src"), "public")
		dst := pgtest.WithSearchPath(t, c.MustCreateDatabase(t, "dst"), "public")
		testBackupRestoreVerify(t, backend.Config{DatabaseURL: src}, backend.Config{DatabaseURL: dst}, false)
	})
	t.Run("into another cluster", func(t *testing.T) {
		t.Parallel()
		src := pgtest.MustSchema(t)
		dst := pgtest.WithSearchPath(t, c.MustCreateDatabase(t, "other"), searchPath(t, src))
		testBackupRestoreVerify(t, backend.Config{DatabaseURL: src}, backend.Config{DatabaseURL: dst}, true)
	})
}

func testBackupRestoreVerify(t *testing.T, srcCfg, dstCfg backend.Config, rebased bool) {
	src := mustOpen(t, srcCfg)
	mustSimulate(t, src, 5, 40)
	if _, err := verify.Run(ctx, src, verify.Options{}); err != nil { // read models at the head
		t.Fatal(err)
	}
	// A writer goes on during the backup.
	writing := make(chan error, 1)
	go func() {
		_, err := simulate.Run(ctx, src.Events, simulate.Options{Seed: 6, Months: 2, TotalNeeds: 40, Writers: 1})
		writing <- err
	}()
	file := filepath.Join(t.TempDir(), "reso.backup")
	res, err := backup.Backup(ctx, srcCfg, file)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-writing; err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(file); err != nil || st.Size() != res.Bytes || res.Bytes == 0 {
		t.Fatalf("backup file: %v, %v, result %+v", st, err, res)
	}
	if _, err := backup.Backup(ctx, srcCfg, file); !errors.Is(err, backup.ErrExists) {
		t.Errorf("a second backup to the same file: %v", err)
	}

	restored, err := backup.Restore(ctx, dstCfg, file, false)
	if err != nil {
		t.Fatal(err)
	}
	if restored.Rebased != rebased {
		t.Errorf("rebased = %v, want %v", restored.Rebased, rebased)
	}
	if _, err := backup.Restore(ctx, dstCfg, file, false); !errors.Is(err, backup.ErrExists) {
		t.Errorf("a restore over a store without force: %v", err)
	}
	dst := mustOpen(t, dstCfg)
	r, err := verify.Run(ctx, dst, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Needs < 40 {
		var sb strings.Builder
		r.Write(&sb)
		t.Fatalf("verify of the restored store:\n%s", sb.String())
	}
	mustBePrefix(t, src.Events, dst.Events)
	mustOpenContacts(t, dst)
	mustAcceptCommands(t, dst)
}

func searchPath(t *testing.T, u string) string {
	t.Helper()
	_, q, _ := strings.Cut(u, "search_path=")
	q, _, _ = strings.Cut(q, "&")
	if q == "" {
		t.Fatalf("%s has no search_path", u)
	}
	return q
}

// mustBePrefix checks that every stream of dst is the first events of the
// same stream of src (a snapshot taken while src was written).
func mustBePrefix(t *testing.T, src, dst eventstore.Store) {
	t.Helper()
	evs, err := dst.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string][]eventstore.Event{}
	for _, e := range evs {
		streams[e.StreamID] = append(streams[e.StreamID], e)
	}
	for id, got := range streams {
		want, err := src.ReadStream(ctx, id, 1, int(len(got)))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for i := range got {
			if i >= len(want) || got[i].ID != want[i].ID || string(got[i].Data) != string(want[i].Data) || got[i].Version != want[i].Version {
				t.Fatalf("%s: restored event %d is not the source's", id, i+1)
			}
		}
	}
	t.Logf("restored %d events in %d streams", len(evs), len(streams))
}

func mustService(t *testing.T, b *backend.Backend) (*app.Service, app.Principal) {
	t.Helper()
	svc, err := app.New(app.Config{Store: b.Events, Keys: b.Keys, Auth: b.Auth, Suggester: b.Projections})
	if err != nil {
		t.Fatal(err)
	}
	token := "reso_backup_test_admin_" + uuid.NewString()
	if _, err := b.Auth.EnsureAdmin(ctx, token); err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return svc, p
}

// mustOpenContacts checks the keys came with the log: contacts open.
func mustOpenContacts(t *testing.T, b *backend.Backend) {
	t.Helper()
	svc, admin := mustService(t, b)
	evs, err := b.Events.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for _, e := range evs {
		if e.Type != domain.TypeNeedCaptured || opened == 5 {
			continue
		}
		_, id, _ := domain.ParseStream(e.StreamID)
		v, err := svc.GetNeed(ctx, admin, id, nil)
		if err != nil || v.Contact == nil || v.Contact.Erased || v.Contact.Email == "" {
			t.Fatalf("need %s: contact %+v, %v", id, v.Contact, err)
		}
		opened++
	}
}

// mustAcceptCommands checks the restored store takes new events, which
// the read models see after the restored ones.
func mustAcceptCommands(t *testing.T, b *backend.Backend) {
	t.Helper()
	svc, admin := mustService(t, b)
	id, pos, err := svc.CreateOrganisation(ctx, admin, "CCI après restauration", "cci", app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.Run(ctx, b, verify.Options{}); err != nil { // runs the projections to the head
		t.Fatal(err)
	}
	if err := b.Projections.WaitFor(ctx, pos); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Projections.Organisation(ctx, id); err != nil {
		t.Fatalf("the organisation created after the restore: %v", err)
	}
}

func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notBackup := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notBackup, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Restore(ctx, backend.Config{DataDir: filepath.Join(dir, "a")}, notBackup, false); !errors.Is(err, backup.ErrNoData) {
		t.Errorf("restore of a text file: %v", err)
	}
	if _, err := backup.Restore(ctx, backend.Config{DataDir: filepath.Join(dir, "a")}, filepath.Join(dir, "missing"), false); !errors.Is(err, backup.ErrNoData) {
		t.Errorf("restore of a missing file: %v", err)
	}
	if _, err := backup.Backup(ctx, backend.Config{DataDir: filepath.Join(dir, "empty")}, filepath.Join(dir, "b")); !errors.Is(err, backup.ErrNoData) {
		t.Errorf("backup of an empty data directory: %v", err)
	}
	if _, err := backup.Backup(ctx, backend.Config{EventStoreURL: "kurrentdb://x", DatabaseURL: "postgres://x"}, filepath.Join(dir, "c")); !errors.Is(err, backup.ErrUnsupported) {
		t.Errorf("backup of a KurrentDB store: %v", err)
	}
}

// With force, a restore keeps the store it replaces, WAL included, and the
// replaced one still opens with everything it held.
func TestRestoreForceKeepsTheReplacedStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := backend.Config{DataDir: filepath.Join(dir, "a")}
	b := mustOpen(t, a)
	mustSimulate(t, b, 7, 5)
	file := filepath.Join(dir, "a.backup")
	if _, err := backup.Backup(ctx, a, file); err != nil {
		t.Fatal(err)
	}
	mustSimulate(t, b, 8, 5) // more than the backup holds
	head, _ := b.Events.Head(ctx)
	b.Close()
	res, err := backup.Restore(ctx, a, file, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(res.Replaced), "reso.db.replaced-") {
		t.Fatalf("replaced = %q", res.Replaced)
	}
	old := filepath.Join(dir, "old")
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(res.Replaced, filepath.Join(old, backup.FileName)); err != nil {
		t.Fatal(err)
	}
	if wal := res.Replaced + "-wal"; fileExists(wal) {
		if err := os.Rename(wal, filepath.Join(old, backup.FileName+"-wal")); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := mustOpen(t, backend.Config{DataDir: old}).Events.Head(ctx); got != head {
		t.Errorf("the replaced store's head %s, was %s", got, head)
	}
	if got, _ := mustOpen(t, a).Events.Head(ctx); !got.Less(head) {
		t.Errorf("the restored store's head %s, not before %s", got, head)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
