package keys_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib" // also registers "pgx"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// testMaster is the master key of the tests' keyrings.
var testMaster = mustMaster(1)

// mustMaster is a master key made of one repeated byte.
func mustMaster(b byte) *keys.Master {
	m, err := keys.NewMaster(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		panic(err)
	}
	return m
}

type backend struct {
	name string
	open func(t *testing.T) sqldb.DB
	// pool, when set, is given to UsePool (the server's PostgreSQL wiring).
	pool func(t *testing.T, db *sql.DB) keys.RowQuerier
}

var backends = []backend{
	{"sqlite", mustSQLite, nil},
	{"postgres", mustPostgres, nil},
	{"postgres-pool", mustPostgresPool, poolOf},
}

// pools remembers the pgx pool under each database mustPostgresPool opened.
var pools sync.Map // *sql.DB -> *pgxpool.Pool

func mustPostgresPool(t *testing.T) sqldb.DB {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.MustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { db.Close(); pool.Close() })
	pools.Store(db, pool)
	return sqldb.NewPostgres(db)
}

func poolOf(t *testing.T, db *sql.DB) keys.RowQuerier {
	p, ok := pools.Load(db)
	if !ok {
		t.Fatal("no pool for this database")
	}
	return p.(*pgxpool.Pool)
}

func mustSQLite(t *testing.T) sqldb.DB {
	t.Helper()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustPostgres(t *testing.T) sqldb.DB {
	t.Helper()
	db, err := sql.Open("pgx", pgtest.MustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return sqldb.NewPostgres(db)
}

func mustKeyring(t *testing.T, b backend) (*keys.Keyring, *sql.DB) {
	t.Helper()
	db := b.open(t)
	if err := keys.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	k, err := keys.New(context.Background(), db, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	if b.pool != nil {
		k.UsePool(b.pool(t, db.SQL()))
	}
	return k, db.SQL()
}

func mustSeal(t *testing.T, k *keys.Keyring, siret string, c keys.Contact) (uuid.UUID, []byte, string) {
	t.Helper()
	id := uuid.New()
	sc, err := k.Seal(context.Background(), id, siret, c)
	if err != nil {
		t.Fatal(err)
	}
	return id, sc.Ciphertext, sc.KeyID
}

func TestSealOpenErase(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			k, db := mustKeyring(t, b)
			alice := keys.Contact{Name: "Alice Martin", Email: "Alice.Martin@Example.fr", Phone: "+33 6 12 34 56 78"}
			n1, ct1, key1 := mustSeal(t, k, "73282932000074", alice)
			// Same person, same company, other case: one data subject, one key.
			_, _, key2 := mustSeal(t, k, "73282932000074", keys.Contact{Name: "A. Martin", Email: " alice.martin@example.fr"})
			if key1 != key2 {
				t.Errorf("same subject got keys %s and %s", key1, key2)
			}
			// Same person in another company: another key.
			_, _, key3 := mustSeal(t, k, "35600000000048", alice)
			if key3 == key1 {
				t.Error("another company shared the key")
			}
			bob := keys.Contact{Name: "Bob", Email: "bob@example.fr"}
			_, _, keyBob := mustSeal(t, k, "73282932000074", bob)

			for _, secret := range []string{alice.Name, alice.Email, "Alice", "alice.martin", alice.Phone} {
				if bytes.Contains(bytes.ToLower(ct1), bytes.ToLower([]byte(secret))) {
					t.Errorf("ciphertext contains %q", secret)
				}
			}
			got, err := k.Open(ctx, sealed(key1, ct1))
			if err != nil || got != alice {
				t.Fatalf("Open = %+v, %v; want %+v", got, err, alice)
			}
			// Tampered ciphertext or another key id does not authenticate.
			bad := bytes.Clone(ct1)
			bad[len(bad)-1] ^= 1
			if _, err := k.Open(ctx, sealed(key1, bad)); !errors.Is(err, keys.ErrCorrupt) {
				t.Errorf("tampered: %v, want ErrCorrupt", err)
			}
			if _, err := k.Open(ctx, sealed(keyBob, ct1)); !errors.Is(err, keys.ErrCorrupt) {
				t.Errorf("other key: %v, want ErrCorrupt", err)
			}

			// No plaintext in the key tables: the email is only a keyed hash.
			assertNoPlaintext(t, db, alice.Email, strings.ToLower(alice.Email), alice.Name)

			erased, err := k.EraseByEmail(ctx, "ALICE.martin@example.fr")
			if err != nil {
				t.Fatal(err)
			}
			if len(erased) != 2 {
				t.Errorf("erased %v, want the 2 keys of alice", erased)
			}
			if _, err := k.Open(ctx, sealed(key1, ct1)); !errors.Is(err, keys.ErrErased) {
				t.Errorf("after erase: %v, want ErrErased", err)
			}
			pending, err := k.Pending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(pending) != 3 { // two needs under key1, one under key3
				t.Fatalf("pending = %v, want 3", pending)
			}
			found := false
			for _, p := range pending {
				found = found || (p.NeedID == n1 && p.KeyID == key1)
			}
			if !found {
				t.Errorf("pending %v lacks need %s", pending, n1)
			}
			for _, p := range pending {
				if err := k.MarkErased(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			if pending, _ := k.Pending(ctx); len(pending) != 0 {
				t.Errorf("pending after mark = %v", pending)
			}
			// Bob is untouched until his company is erased.
			if _, err := k.Open(ctx, sealed(keyBob, mustCT(t, k, keyBob, bob))); err != nil {
				t.Errorf("bob: %v", err)
			}
			bySiret, err := k.EraseBySIRET(ctx, "73282932000074")
			if err != nil || len(bySiret) != 1 || bySiret[0] != keyBob {
				t.Errorf("EraseBySIRET = %v, %v; want [%s]", bySiret, err, keyBob)
			}
			// A new contact after erasure gets a fresh key.
			_, _, again := mustSeal(t, k, "73282932000074", alice)
			if again == key1 {
				t.Error("erased key id reused")
			}
		})
	}
}

func TestSecretStable(t *testing.T) {
	t.Parallel()
	db := mustSQLite(t)
	ctx := context.Background()
	if err := keys.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	k1, err := keys.New(ctx, db, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	c := keys.Contact{Email: "x@example.fr"}
	_, _, key1 := mustSeal(t, k1, "73282932000074", c)
	k2, err := keys.New(ctx, db, testMaster) // a restart
	if err != nil {
		t.Fatal(err)
	}
	_, _, key2 := mustSeal(t, k2, "73282932000074", c)
	if key1 != key2 {
		t.Errorf("after restart the subject got another key: %s vs %s", key1, key2)
	}
}

func sealed(keyID string, ct []byte) domain.SealedContact {
	return domain.SealedContact{KeyID: keyID, Ciphertext: ct}
}

// mustCT seals c again and checks it lands under keyID.
func mustCT(t *testing.T, k *keys.Keyring, keyID string, c keys.Contact) []byte {
	t.Helper()
	_, ct, got := mustSeal(t, k, "73282932000074", c)
	if got != keyID {
		t.Fatalf("sealed under %s, want %s", got, keyID)
	}
	return ct
}

// assertNoPlaintext scans every text column of the key tables.
func assertNoPlaintext(t *testing.T, db *sql.DB, secrets ...string) {
	t.Helper()
	for _, q := range []string{
		`SELECT key_id || siret || subject_hash || key_hex FROM reso_contact_keys`,
		`SELECT name || value FROM reso_settings`,
		`SELECT key_id || need_id FROM reso_contact_key_needs`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			for _, secret := range secrets {
				if strings.Contains(strings.ToLower(s), strings.ToLower(secret)) {
					t.Errorf("%q found in %s", secret, q)
				}
			}
		}
		rows.Close()
	}
}

// TestConcurrentSeal: writers sealing the same new subject at once agree on
// one key.
func TestConcurrentSeal(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			k, _ := mustKeyring(t, b)
			const writers = 16
			ids := make(chan string, writers)
			errs := make(chan error, writers)
			for range writers {
				go func() {
					sc, err := k.Seal(context.Background(), uuid.New(), "73282932000074", keys.Contact{Email: "same@example.fr"})
					errs <- err
					ids <- sc.KeyID
				}()
			}
			seen := map[string]bool{}
			for range writers {
				if err := <-errs; err != nil {
					t.Error(err)
				}
				seen[<-ids] = true
			}
			if len(seen) != 1 {
				t.Errorf("one subject got %d keys: %v", len(seen), seen)
			}
		})
	}
}

// TestKeyOfNeed: the key read by need id opens that need's contact, a key
// of another subject falls back to the sealed key id, and an erased key
// reads as none and opens as erased.
func TestKeyOfNeed(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			k, _ := mustKeyring(t, b)
			alice := keys.Contact{Name: "Alice", Email: "alice@example.fr"}
			bob := keys.Contact{Name: "Bob", Email: "bob@example.fr"}
			na := uuid.New()
			sa, err := k.Seal(ctx, na, "73282932000074", alice)
			if err != nil {
				t.Fatal(err)
			}
			nb := uuid.New()
			sb, err := k.Seal(ctx, nb, "73282932000074", bob)
			if err != nil {
				t.Fatal(err)
			}
			ka, err := k.KeyOfNeed(ctx, na)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := k.OpenWith(ctx, sa, ka); err != nil || c != alice {
				t.Fatalf("OpenWith(own key) = %+v, %v; want %+v", c, err, alice)
			}
			// Alice's key is not Bob's: OpenWith reads Bob's by its id.
			if c, err := k.OpenWith(ctx, sb, ka); err != nil || c != bob {
				t.Fatalf("OpenWith(other key) = %+v, %v; want %+v", c, err, bob)
			}
			none, err := k.KeyOfNeed(ctx, uuid.New())
			if err != nil {
				t.Fatal(err)
			}
			if c, err := k.OpenWith(ctx, sa, none); err != nil || c != alice {
				t.Fatalf("OpenWith(no key) = %+v, %v; want %+v", c, err, alice)
			}
			if _, err := k.EraseByEmail(ctx, alice.Email); err != nil {
				t.Fatal(err)
			}
			after, err := k.KeyOfNeed(ctx, na)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.OpenWith(ctx, sa, after); !errors.Is(err, keys.ErrErased) {
				t.Fatalf("OpenWith after erasure: %v, want ErrErased", err)
			}
			// A key read before the erasure still decrypts: callers hold it
			// for one request only.
			if c, err := k.OpenWith(ctx, sb, ka); err != nil || c != bob {
				t.Fatalf("Bob after Alice's erasure = %+v, %v", c, err)
			}
		})
	}
}

// A keyring on a database nobody migrated is refused with ErrPending,
// before any table is missed.
func TestNewWantsMigratedTables(t *testing.T) {
	t.Parallel()
	if _, err := keys.New(context.Background(), mustSQLite(t), testMaster); !errors.Is(err, sqlmigrate.ErrPending) {
		t.Fatalf("New on an unmigrated database: %v, want ErrPending", err)
	}
}
