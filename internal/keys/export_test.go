package keys

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/reso-fr/reso/sqldb"
)

// MustClear turns db into the store of a version before master keys: the
// key keyID and the look-up secret in clear hex, no master recorded.
func MustClear(t *testing.T, db sqldb.DB, keyID string, m *Master) {
	t.Helper()
	ctx := context.Background()
	k := &Keyring{db: db, masters: []*Master{m}}
	var stored, secret string
	if err := db.SQL().QueryRowContext(ctx, `SELECT key_hex FROM reso_contact_keys WHERE key_id = $1`, keyID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL().QueryRowContext(ctx, `SELECT value FROM reso_settings WHERE name = $1`, secretSetting).Scan(&secret); err != nil {
		t.Fatal(err)
	}
	key, err := k.keyFromStore(keyID, stored)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := k.fromStore(secretSetting, secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE reso_contact_keys SET key_hex = $1 WHERE key_id = $2`, []any{hex.EncodeToString(key), keyID}},
		{`UPDATE reso_settings SET value = $1 WHERE name = $2`, []any{hex.EncodeToString(sec), secretSetting}},
		{`DELETE FROM reso_settings WHERE name = $1`, []any{masterSetting}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
}

// OnWatching has f called with the listening connection's process id each
// time k's Watch starts listening (again).
// Call it before Watch.
func OnWatching(k *Keyring, f func(pid uint32)) { k.watching = f }
