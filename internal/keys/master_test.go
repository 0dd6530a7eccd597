package keys_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/sqldb"
)

func TestParseMaster(t *testing.T) {
	t.Parallel()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	var ids []string
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw) + "\n",
		base64.URLEncoding.EncodeToString(raw),
	} {
		m, err := keys.ParseMaster(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		ids = append(ids, m.ID())
	}
	if ids[0] != ids[1] || ids[1] != ids[2] || len(ids[0]) != 16 {
		t.Fatalf("one key, ids %v", ids)
	}
	if mustMaster(2).ID() == ids[0] {
		t.Fatal("two keys share an id")
	}
	for _, bad := range []string{"", "c2hvcnQ=", base64.StdEncoding.EncodeToString(make([]byte, 31)), "not base64 at all!"} {
		if _, err := keys.ParseMaster(bad); !errors.Is(err, keys.ErrBadMasterKey) {
			t.Errorf("%q: %v, want ErrBadMasterKey", bad, err)
		}
	}
}

func TestGenerateMasterFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "master.key")
	m, err := keys.GenerateMasterFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	back, err := keys.LoadMasterFile(path)
	if err != nil || back.ID() != m.ID() {
		t.Fatalf("loaded %v, %v", back, err)
	}
	if _, err := keys.GenerateMasterFile(path); err == nil {
		t.Fatal("a second generation overwrote the key file")
	}
}

// mustMigrated is a migrated SQLite database in dir.
func mustMigrated(t *testing.T, path string) sqldb.DB {
	t.Helper()
	db, err := sqlite.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := keys.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestStolenDatabaseOpensNoContact: the key table holds only wrapped keys;
// a copy of the file started with another master key, or with none, is
// refused; and an attacker who forges the check row gets no further, the
// look-up secret being wrapped too.
func TestStolenDatabaseOpensNoContact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := mustMigrated(t, filepath.Join(dir, "reso.db"))
	k, err := keys.New(ctx, db, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	alice := keys.Contact{Name: "Alice", Email: "alice@example.fr"}
	mustSeal(t, k, "73282932000074", alice)
	rows, err := db.SQL().QueryContext(ctx, `SELECT key_hex FROM reso_contact_keys UNION ALL SELECT value FROM reso_settings WHERE name = 'contact_hash_secret'`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(v, "w1:"+testMaster.ID()+":") {
			t.Errorf("stored in clear or under another master: %q", v)
		}
		n++
	}
	rows.Close()
	if n != 2 {
		t.Fatalf("%d wrapped values, want the key and the secret", n)
	}
	// The copy, as a thief would take it (WAL checkpointed, then the file).
	if _, err := db.Exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	stolen := filepath.Join(t.TempDir(), "stolen.db")
	copyFile(t, filepath.Join(dir, "reso.db"), stolen)
	copyDB := mustMigrated(t, stolen)
	if _, err := keys.New(ctx, copyDB); !errors.Is(err, keys.ErrNoMasterKey) {
		t.Fatalf("no master key: %v, want ErrNoMasterKey", err)
	}
	thief := mustMaster(9)
	if _, err := keys.New(ctx, copyDB, thief); !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("another master key: %v, want ErrWrongMasterKey", err)
	}
	if _, err := copyDB.Exec(ctx, `DELETE FROM reso_settings WHERE name = 'master_key_id'`); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.New(ctx, copyDB, thief); !errors.Is(err, keys.ErrUnavailable) {
		t.Fatalf("with the check row forged: %v, want ErrUnavailable", err)
	}
	// The owner's keyring still opens its contact.
	k2, err := keys.New(ctx, db, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	_, ct, keyID := mustSeal(t, k2, "73282932000074", alice)
	if got, err := k2.Open(ctx, sealed(keyID, ct)); err != nil || got != alice {
		t.Fatalf("owner opens %+v, %v", got, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestClearKeysAreWrappedOnFirstStart: keys an earlier version stored in
// clear are wrapped by the first start with a master key, and still open.
func TestClearKeysAreWrappedOnFirstStart(t *testing.T) {
	t.Parallel()
	for _, b := range backends[:2] {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := b.open(t)
			if err := keys.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			k, err := keys.New(ctx, db, testMaster)
			if err != nil {
				t.Fatal(err)
			}
			alice := keys.Contact{Name: "Alice", Email: "alice@example.fr"}
			_, ct, keyID := mustSeal(t, k, "73282932000074", alice)
			// Make it the store of an earlier version: the key and the
			// secret in clear hex, no master recorded.
			keys.MustClear(t, db, keyID, testMaster)
			k2, err := keys.New(ctx, db, testMaster)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := k2.Open(ctx, sealed(keyID, ct)); err != nil || got != alice {
				t.Fatalf("after wrapping: %+v, %v", got, err)
			}
			var stored string
			if err := db.SQL().QueryRowContext(ctx, `SELECT key_hex FROM reso_contact_keys WHERE key_id = $1`, keyID).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stored, "w1:") {
				t.Fatalf("still in clear: %q", stored)
			}
			// The same subject gets the same key: the secret survived.
			_, _, again := mustSeal(t, k2, "73282932000074", alice)
			if again != keyID {
				t.Fatalf("the subject's key changed: %s, then %s (the look-up secret was lost)", keyID, again)
			}
		})
	}
}

// TestRotate re-wraps every key under a new master while a server given
// both keeps reading; afterwards the new master alone opens everything and
// the old one is refused.
func TestRotate(t *testing.T) {
	t.Parallel()
	for _, b := range backends[:2] {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := b.open(t)
			if err := keys.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			old, next := testMaster, mustMaster(3)
			k, err := keys.New(ctx, db, old)
			if err != nil {
				t.Fatal(err)
			}
			type sealedContact struct {
				c     keys.Contact
				ct    []byte
				keyID string
				siret string
			}
			var all []sealedContact
			for i := range 1200 { // more than two batches
				c := keys.Contact{Name: "Contact", Email: strings.Repeat("x", i%7+1) + "@" + string(rune('a'+i%26)) + ".fr"}
				c.Email = c.Email[:len(c.Email)-3] + string(rune('a'+i/26%26)) + ".fr"
				siret := []string{"73282932000074", "35600000000048"}[i%2]
				_, ct, id := mustSeal(t, k, siret, c)
				all = append(all, sealedContact{c: c, ct: ct, keyID: id, siret: siret})
			}
			// A server restarted with the new master first and the old one
			// after it: it reads keys of both while the rotation runs.
			both, err := keys.New(ctx, db, next, old)
			if err != nil {
				t.Fatal(err)
			}
			// Reads go on while the rotation runs.
			reading := make(chan error, 1)
			stop := make(chan struct{})
			go func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						reading <- nil
						return
					default:
					}
					s := all[i%len(all)]
					if got, err := both.Open(ctx, sealed(s.keyID, s.ct)); err != nil || got != s.c {
						reading <- fmt.Errorf("read during the rotation: %+v, %v", got, err)
						return
					}
				}
			}()
			var batches int
			res, err := both.Rotate(ctx, func(int) { batches++ })
			close(stop)
			if rerr := <-reading; rerr != nil {
				t.Fatal(rerr)
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.From != old.ID() || res.To != next.ID() || res.Keys == 0 || batches < 2 {
				t.Fatalf("rotation %+v in %d batches", res, batches)
			}
			onlyNew, err := keys.New(ctx, db, next)
			if err != nil {
				t.Fatalf("the new master alone after the rotation: %v", err)
			}
			for _, s := range all {
				if got, err := onlyNew.Open(ctx, sealed(s.keyID, s.ct)); err != nil || got != s.c {
					t.Fatalf("key %s after rotation: %+v, %v", s.keyID, got, err)
				}
			}
			if _, err := keys.New(ctx, db, old); !errors.Is(err, keys.ErrWrongMasterKey) {
				t.Fatalf("the old master alone after the rotation: %v, want ErrWrongMasterKey", err)
			}
			// Erasure keeps working on rotated keys.
			ids, err := onlyNew.EraseByEmail(ctx, all[0].c.Email)
			if err != nil || len(ids) == 0 {
				t.Fatalf("erase after rotation: %v, %v", ids, err)
			}
			if _, err := onlyNew.Open(ctx, sealed(all[0].keyID, all[0].ct)); !errors.Is(err, keys.ErrErased) {
				t.Fatalf("erased contact: %v", err)
			}
		})
	}
}
