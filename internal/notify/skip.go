package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/reso-fr/reso/eventstore"
)

// txRunner runs fn in one transaction of the notifier's database.
type txRunner func(ctx context.Context, fn func(t txn) error) error

// enable makes the notifier's cursors exist: its checkpoint at the head of
// the log, the reminder scan at now, the digest at its last due time. It
// changes none that exists.
func enable(ctx context.Context, run txRunner, store eventstore.Store, now time.Time, loc *time.Location) error {
	head, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("notify: head of the log: %w", err)
	}
	return run(ctx, func(t txn) error {
		for name, v := range map[string]string{
			stateLog:       head.String(),
			stateReminders: formatMicros(now),
			stateDigest:    formatMicros(lastDigestDue(now, loc)),
		} {
			if _, err := t.exec(ctx, `INSERT INTO notify_state (name, value, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO NOTHING`, name, v, nowMicros()); err != nil {
				return fmt.Errorf("notify: enable %s: %w", name, err)
			}
		}
		return nil
	})
}

// skipTo moves the checkpoint to pos if it is behind.
func skipTo(ctx context.Context, run txRunner, pos eventstore.Position) error {
	return run(ctx, func(t txn) error {
		cur, err := readState(ctx, t, stateLog)
		if err != nil {
			return err
		}
		at, err := eventstore.ParsePosition(cur)
		if err != nil {
			return fmt.Errorf("notify: checkpoint: %w", err)
		}
		if !at.Less(pos) {
			return nil
		}
		return moveState(ctx, t, stateLog, cur, pos.String())
	})
}

// Enable makes the notifier's cursors exist: its checkpoint at the head of
// the log, the reminder scan at now, the digest at its last due time. When
// they exist already it changes nothing. Start calls it. It returns the
// store's or database's error.
func (n *Notifier) Enable(ctx context.Context) error {
	return enable(ctx, n.q.inTx, n.cfg.Store, n.cfg.Now(), n.cfg.Location)
}

// SkipTo moves the notifier's checkpoint to pos if it is behind, creating
// it there if the notifier was never enabled: the events up to pos will
// notify nobody. The server calls it after seeding the demo. It returns the
// database's error.
func (n *Notifier) SkipTo(ctx context.Context, pos eventstore.Position) error {
	if err := n.Enable(ctx); err != nil {
		return err
	}
	return skipTo(ctx, n.q.inTx, pos)
}

// SkipHistory is SkipTo for a command that appends history no one must be
// mailed about (an import), without a running notifier: it creates the
// notifier's tables if needed (in pool's schema on PostgreSQL, else in the
// SQLite file at sqlitePath) and moves its checkpoint past pos, the
// position of the last event appended. Call it before the server starts
// again. It returns the database's error.
func SkipHistory(ctx context.Context, store eventstore.Store, pool *pgxpool.Pool, sqlitePath string, pos eventstore.Position) error {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	var run txRunner
	if pool != nil {
		if err := MigratePostgres(ctx, pool, slog.Default()); err != nil {
			return err
		}
		run = func(ctx context.Context, fn func(t txn) error) error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return fn(pgTxn{tx}) })
		}
	} else {
		db, err := OpenSQLite(sqlitePath)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := MigrateSQLite(ctx, db, slog.Default()); err != nil {
			return err
		}
		run = func(ctx context.Context, fn func(t txn) error) error {
			tx, err := db.SQL().BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if err := fn(sqlTxn{tx}); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		}
	}
	if err := enable(ctx, run, store, time.Now(), paris); err != nil {
		return err
	}
	return skipTo(ctx, run, pos)
}
