package keys

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// erasedChannel is the PostgreSQL notification channel an erasure's
// transaction notifies, with its schema as payload: replicas of other
// schemas of the same database ignore it.
const erasedChannel = "reso_contact_keys_erased"

// Watch turns on the cache of needs' keys (cache.go) for as long as this
// keyring hears every erasure committed in its PostgreSQL schema: it keeps
// a connection of its own (outside the pool, whose slots serve requests)
// listening for them, empties the cache at each, and turns the cache off
// while that connection is down, on again (empty) once it listens again.
// stop ends the watch and turns the cache off. Without Watch, and on
// SQLite, every key read reads the key row.
func (k *Keyring) Watch(pool *pgxpool.Pool, log *slog.Logger) (stop func()) {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		backoff := 100 * time.Millisecond
		for {
			listened, err := k.listen(ctx, pool.Config().ConnConfig.Copy())
			k.cache.reset(false)
			if ctx.Err() != nil {
				return
			}
			if listened {
				backoff = 100 * time.Millisecond // a new outage
			}
			log.Warn("listen for contact erasures; contact keys are read on every request until reconnected", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

// listen listens for erasures on a connection of cfg until ctx ends or the
// connection fails, and returns whether it got to listen, and why it
// stopped.
func (k *Keyring) listen(ctx context.Context, cfg *pgx.ConnConfig) (bool, error) {
	cfg.RuntimeParams["application_name"] = "reso keys watch"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return false, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{erasedChannel}.Sanitize()); err != nil {
		return false, err
	}
	// Erasures committed before LISTEN took effect were not heard: start
	// empty.
	k.cache.reset(true)
	if k.watching != nil {
		k.watching(conn.PgConn().PID())
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if n.Payload == schema {
			k.cache.empty()
		}
	}
}
