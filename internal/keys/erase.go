package keys

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/sqldb"
)

// KeyNeed is a need whose contact was sealed under a key.
type KeyNeed struct {
	KeyID  string
	NeedID uuid.UUID
}

// EraseByEmail deletes the keys of every contact with this email (in any
// company) and returns their ids. It returns the database error, if any.
func (k *Keyring) EraseByEmail(ctx context.Context, email string) ([]string, error) {
	e := NormaliseEmail(email)
	if e == "" {
		return nil, nil
	}
	return k.erase(ctx, `subject_hash = $1`, k.emailHash(e))
}

// EraseBySIRET deletes the keys of every contact of a company and returns
// their ids. It returns the database error, if any.
func (k *Keyring) EraseBySIRET(ctx context.Context, siret string) ([]string, error) {
	s := strings.TrimSpace(siret)
	if s == "" {
		return nil, nil
	}
	return k.erase(ctx, `siret = $1`, s)
}

func (k *Keyring) erase(ctx context.Context, where string, arg string) ([]string, error) {
	ids, err := k.eraseTx(ctx, where, arg)
	// Whatever the outcome (a failed commit may still have committed),
	// no cached key may outlive the attempt here; other replicas hear of
	// it from the transaction's notification.
	k.cache.empty()
	if err == nil && len(ids) > 0 {
		k.compact(ctx)
	}
	return ids, err
}

// eraseTx is erase's transaction. compact runs after it, not inside: each
// is a write through the DB, which on SQLite takes its turn among the
// file's writers (a turn is not reentrant).
func (k *Keyring) eraseTx(ctx context.Context, where string, arg string) (ids []string, err error) {
	err = k.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		ids, err = eraseIn(ctx, tx, where, arg)
		if err != nil || len(ids) == 0 || !k.postgres {
			return err
		}
		// Delivered to every listening replica when, and only if, the
		// deletion commits (watch.go).
		_, err = tx.ExecContext(ctx, `SELECT pg_notify($1, current_schema())`, erasedChannel)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("erase keys: %w", err)
	}
	return ids, nil
}

// eraseIn is eraseTx's transaction.
func eraseIn(ctx context.Context, tx *sqldb.Tx, where string, arg string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT key_id FROM reso_contact_keys WHERE `+where, arg)
	if err != nil {
		return nil, fmt.Errorf("erase keys: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("erase keys: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("erase keys: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("erase keys: %w", err)
	}
	for _, id := range ids {
		// Overwrite before deleting, with as many characters as a wrapped
		// key: SQLite rewrites the cell in place, so the wrapped key does
		// not linger in a free page.
		if _, err := tx.ExecContext(ctx,
			`UPDATE reso_contact_keys SET key_hex = $1, subject_hash = $2 WHERE key_id = $3`,
			strings.Repeat("0", wrappedLen), "erased:"+id, id); err != nil {
			return nil, fmt.Errorf("erase key %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM reso_contact_keys WHERE key_id = $1`, id); err != nil {
			return nil, fmt.Errorf("erase key %s: %w", id, err)
		}
	}
	return ids, nil
}

// compact pushes deleted rows out of the files: the SQLite WAL still holds
// the old pages until a checkpoint, PostgreSQL keeps dead tuples until a
// vacuum. Failure only delays that; the key is already unreachable.
func (k *Keyring) compact(ctx context.Context) {
	var err error
	if k.postgres {
		_, err = k.db.Exec(ctx, `VACUUM reso_contact_keys`)
	} else {
		_, err = k.db.Exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if err != nil {
		slog.WarnContext(ctx, "compact erased keys", "err", err)
	}
}

// Pending lists the needs whose key is erased but which are not yet marked
// done with MarkErased: the caller still owes them a ContactErased event.
// It returns the database error, if any.
func (k *Keyring) Pending(ctx context.Context) ([]KeyNeed, error) {
	rows, err := k.db.SQL().QueryContext(ctx, `
		SELECT kn.key_id, kn.need_id FROM reso_contact_key_needs kn
		WHERE kn.erased_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM reso_contact_keys k WHERE k.key_id = kn.key_id)
		ORDER BY kn.key_id, kn.need_id`)
	if err != nil {
		return nil, fmt.Errorf("pending erasures: %w", err)
	}
	defer rows.Close()
	var out []KeyNeed
	for rows.Next() {
		var keyID, needID string
		if err := rows.Scan(&keyID, &needID); err != nil {
			return nil, fmt.Errorf("pending erasures: %w", err)
		}
		id, err := uuid.Parse(needID)
		if err != nil {
			return nil, fmt.Errorf("pending erasures: need id %q: %w", needID, err)
		}
		out = append(out, KeyNeed{KeyID: keyID, NeedID: id})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending erasures: %w", err)
	}
	return out, nil
}

// MarkErased records that the need got its ContactErased event. It returns
// the database error, if any.
func (k *Keyring) MarkErased(ctx context.Context, kn KeyNeed) error {
	_, err := k.db.Exec(ctx,
		`UPDATE reso_contact_key_needs SET erased_at = $1 WHERE key_id = $2 AND need_id = $3`,
		time.Now().UTC().Format(time.RFC3339Nano), kn.KeyID, kn.NeedID.String())
	if err != nil {
		return fmt.Errorf("mark %s erased: %w", kn.NeedID, err)
	}
	return nil
}
