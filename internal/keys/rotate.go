package keys

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/reso-fr/reso/sqldb"
)

// rotateBatch is how many keys one transaction of a rotation re-wraps: a
// short write, so that the server's own writes go on between batches.
const rotateBatch = 500

// rewrap re-wraps under the first master up to limit keys (0: all) that
// another master wrapped, or an earlier version stored in clear, in tx. It
// returns how many it re-wrapped. A key erased meanwhile is simply gone.
func (k *Keyring) rewrap(ctx context.Context, tx *sql.Tx, limit int) (int, error) {
	primary := k.masters[0]
	q := `SELECT key_id, key_hex FROM reso_contact_keys WHERE key_hex NOT LIKE $1`
	args := []any{wrapPrefix + primary.id + ":%"}
	if limit > 0 {
		q += ` ORDER BY key_id LIMIT $2`
		args = append(args, limit)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("list keys to wrap: %w", err)
	}
	type row struct{ id, stored string }
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.stored); err != nil {
			rows.Close()
			return 0, fmt.Errorf("list keys to wrap: %w", err)
		}
		todo = append(todo, r)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("list keys to wrap: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("list keys to wrap: %w", err)
	}
	for _, r := range todo {
		key, err := k.keyFromStore(r.id, r.stored)
		if err != nil {
			return 0, err
		}
		w, err := k.toStore(r.id, key)
		if err != nil {
			return 0, err
		}
		// The old value in the WHERE: a concurrent erasure or rotation
		// wins, and this one leaves the row alone.
		if _, err := tx.ExecContext(ctx, `UPDATE reso_contact_keys SET key_hex = $1 WHERE key_id = $2 AND key_hex = $3`,
			w, r.id, r.stored); err != nil {
			return 0, fmt.Errorf("wrap key %s: %w", r.id, err)
		}
	}
	return len(todo), nil
}

// RotateResult says what a rotation did.
type RotateResult struct {
	Keys int    `json:"keys"` // keys re-wrapped
	From string `json:"from"` // the master id the store was under
	To   string `json:"to"`   // the master id it is under now
}

// Rotate re-wraps every key, and the look-up secret, under the keyring's
// first master, in short transactions while the store serves: servers
// given the new master first and the old one after it read both meanwhile.
// Once every key is re-wrapped it records the new master as the store's:
// from then on a server given only the old one refuses to start. progress,
// when set, is called after each batch with the keys re-wrapped so far. It
// returns the database error, or ErrUnavailable / ErrCorrupt for a key no
// master of the keyring unwraps.
func (k *Keyring) Rotate(ctx context.Context, progress func(done int)) (RotateResult, error) {
	res := RotateResult{To: k.masters[0].id}
	if err := k.db.SQL().QueryRowContext(ctx, `SELECT value FROM reso_settings WHERE name = $1`, masterSetting).Scan(&res.From); err != nil {
		return res, fmt.Errorf("rotate: read master key id: %w", err)
	}
	for {
		var n int
		err := k.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var err error
			n, err = k.rewrap(ctx, tx.Tx, rotateBatch)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("rotate: %w", err)
		}
		res.Keys += n
		if progress != nil && n > 0 {
			progress(res.Keys)
		}
		if n < rotateBatch {
			break
		}
	}
	err := k.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		w, err := k.masters[0].wrap(secretSetting, k.secret)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reso_settings SET value = $1 WHERE name = $2`, w, secretSetting); err != nil {
			return fmt.Errorf("wrap key secret: %w", err)
		}
		// A key sealed under the old master after the last batch read its
		// list would be left behind: one last pass in this transaction.
		n, err := k.rewrap(ctx, tx.Tx, 0)
		if err != nil {
			return err
		}
		res.Keys += n
		_, err = tx.ExecContext(ctx, `UPDATE reso_settings SET value = $1 WHERE name = $2`, k.masters[0].id, masterSetting)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("rotate: %w", err)
	}
	return res, nil
}
