package keys_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/sqldb"
)

// countingPool counts the one-row queries a keyring sends.
type countingPool struct {
	pool *pgxpool.Pool
	n    atomic.Int64
}

func (c *countingPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.n.Add(1)
	return c.pool.QueryRow(ctx, sql, args...)
}

// replica is one server's keyring on a shared schema, counting its queries;
// listening receives the listening connection's process id each time its
// watch (if started) listens.
type replica struct {
	k         *keys.Keyring
	q         *countingPool
	listening chan uint32
}

func mustReplica(t *testing.T, db sqldb.DB, pool *pgxpool.Pool, watch bool) *replica {
	t.Helper()
	k, err := keys.New(context.Background(), db, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{k: k, q: &countingPool{pool: pool}, listening: make(chan uint32, 8)}
	k.UsePool(r.q)
	if watch {
		keys.OnWatching(k, func(pid uint32) { r.listening <- pid })
		t.Cleanup(k.Watch(pool, nil))
	}
	return r
}

// mustListen waits until r listens (again) and returns the connection's
// process id.
func (r *replica) mustListen(t *testing.T) uint32 {
	t.Helper()
	select {
	case pid := <-r.listening:
		return pid
	case <-time.After(testwait.Scale(10 * time.Second)):
		t.Fatal("the keyring never listened for erasures")
		return 0
	}
}

// keyOf returns whether r opens need id's key, and how many queries that
// took.
func (r *replica) keyOf(t *testing.T, id uuid.UUID, sc []byte, keyID string) (opened bool, queries int64) {
	t.Helper()
	before := r.q.n.Load()
	nk, err := r.k.KeyOfNeed(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.k.OpenWith(context.Background(), sealed(keyID, sc), nk)
	switch {
	case errors.Is(err, keys.ErrErased):
		return false, r.q.n.Load() - before
	case err != nil:
		t.Fatal(err)
	}
	if c.Name == "" {
		t.Fatal("opened an empty contact")
	}
	return true, r.q.n.Load() - before
}

// TestNeedKeyCacheAcrossReplicas runs two replicas of the server's keyring
// on one PostgreSQL schema: keys are read once, then served from memory,
// and an erasure on one replica reaches the other's cache, even across a
// lost listening connection.
func TestNeedKeyCacheAcrossReplicas(t *testing.T) {
	t.Parallel()
	db := mustPostgresPool(t)
	pool := poolOf(t, db.SQL()).(*pgxpool.Pool)
	if err := keys.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	a := mustReplica(t, db, pool, true)
	b := mustReplica(t, db, pool, true)
	unwatched := mustReplica(t, db, pool, false)
	a.mustListen(t)
	pidB := b.mustListen(t)

	alice := keys.Contact{Name: "Alice Martin", Email: "alice@example.fr"}
	bob := keys.Contact{Name: "Bob Durand", Email: "bob@example.fr"}
	na, cta, keyA := mustSeal(t, a.k, "73282932000074", alice)
	nb, ctb, keyB := mustSeal(t, a.k, "73282932000074", bob)

	// The replica that sealed opens without a read; the other reads once.
	if ok, q := a.keyOf(t, na, cta, keyA); !ok || q != 0 {
		t.Errorf("sealing replica: opened %v with %d queries, want true with 0", ok, q)
	}
	for i, want := range []int64{1, 0} {
		if ok, q := b.keyOf(t, na, cta, keyA); !ok || q != want {
			t.Errorf("other replica, read %d: opened %v with %d queries, want true with %d", i+1, ok, q, want)
		}
	}
	// A keyring that hears no erasure never keeps a key.
	for i := range 2 {
		if ok, q := unwatched.keyOf(t, na, cta, keyA); !ok || q != 1 {
			t.Errorf("unwatched keyring, read %d: opened %v with %d queries, want true with 1", i+1, ok, q)
		}
	}

	// An erasure on A: A forgets at once, B once the notification arrives.
	if _, err := a.k.EraseByEmail(context.Background(), alice.Email); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.keyOf(t, na, cta, keyA); ok {
		t.Error("the erasing replica still opens the erased contact")
	}
	testwait.MustEventually(t, 10*time.Second, func() error {
		if ok, _ := b.keyOf(t, na, cta, keyA); ok {
			return errors.New("the other replica still opens the erased contact")
		}
		return nil
	})
	// Bob's key was not erased; B caches it again.
	b.keyOf(t, nb, ctb, keyB)
	if ok, q := b.keyOf(t, nb, ctb, keyB); !ok || q != 0 {
		t.Errorf("other replica, Bob: opened %v with %d queries, want true with 0", ok, q)
	}

	// B's listening connection dies: what B cached may miss an erasure
	// meanwhile, so B reads the key again, and listens again.
	if _, err := pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, int32(pidB)); err != nil {
		t.Fatal(err)
	}
	if pid := b.mustListen(t); pid == pidB {
		t.Fatalf("listening again on the terminated connection %d", pid)
	}
	if ok, q := b.keyOf(t, nb, ctb, keyB); !ok || q != 1 {
		t.Errorf("after the reconnection: opened %v with %d queries, want true with 1", ok, q)
	}
	if ok, q := b.keyOf(t, nb, ctb, keyB); !ok || q != 0 {
		t.Errorf("listening again: opened %v with %d queries, want true with 0", ok, q)
	}
	// And it hears erasures again.
	if _, err := a.k.EraseByEmail(context.Background(), bob.Email); err != nil {
		t.Fatal(err)
	}
	testwait.MustEventually(t, 10*time.Second, func() error {
		if ok, _ := b.keyOf(t, nb, ctb, keyB); ok {
			return errors.New("after the reconnection, the other replica still opens an erased contact")
		}
		return nil
	})
}
