package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// ErrErased means the contact's key was deleted: the data is gone for good.
var ErrErased = errors.New("contact erased")

// ErrCorrupt means a sealed contact did not decrypt under its key, or a
// stored key under its master.
var ErrCorrupt = errors.New("sealed contact does not decrypt")

// ErrUnavailable means a contact's key is wrapped under a master key this
// keyring was not given: the contact exists but cannot be read here.
var ErrUnavailable = errors.New("contact key wrapped under another master key")

// Contact is a contact's personal data in plaintext.
type Contact struct {
	Name  string `json:"n"`
	Email string `json:"e"`
	Phone string `json:"p"`
}

// Keyring seals and opens contacts. It is safe for concurrent use.
type Keyring struct {
	db       sqldb.DB
	postgres bool
	secret   []byte // HMAC key of the look-up hashes
	pool     RowQuerier
	// masters wrap the keys: the first wraps what is written, every one
	// unwraps what it wrapped (a previous master, during a rotation).
	masters []*Master
	// cache keeps needs' keys while erasures can reach it (cache.go).
	cache needKeyCache
	// watching, when set (tests), is called with the connection's process
	// id each time Watch listens.
	watching func(pid uint32)
}

// RowQuerier runs a one-row query; *pgxpool.Pool is one.
type RowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// UsePool makes the one-statement reads and writes of every request (Seal
// on PostgreSQL, Open, KeyOfNeed) go through pool, the pgx pool under db,
// instead of database/sql: on a need read, the key read through
// database/sql cost more CPU than the stream's through pgx (its own
// connection handling on top of the pool's). Call it before any use.
func (k *Keyring) UsePool(pool RowQuerier) { k.pool = pool }

// queryRow runs a one-row query through the pool when there is one;
// sql.ErrNoRows means no row either way.
func (k *Keyring) queryRow(ctx context.Context, query string, args ...any) scanner {
	if k.pool != nil {
		return pgxRow{k.pool.QueryRow(ctx, query, args...)}
	}
	return k.db.SQL().QueryRowContext(ctx, query, args...)
}

type scanner interface{ Scan(dest ...any) error }

type pgxRow struct{ pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	return err
}

// Settings of the keyring in reso_settings.
const (
	secretSetting = "contact_hash_secret"
	// masterSetting is the id of the master every key is wrapped under
	// (a rotation moves it once every key is re-wrapped).
	masterSetting = "master_key_id"
)

// New returns the keyring of db, whose key tables Migrate created, with
// its master keys: the first wraps new keys, the others (previous masters,
// during a rotation) only unwrap. The first start with a master key wraps
// every key an earlier version stored in clear. It returns ErrNoMasterKey
// without a master, an error wrapping ErrWrongMasterKey when the store's
// keys are wrapped under another master, one wrapping sqlmigrate.ErrPending
// when db was not migrated, and the database error.
func New(ctx context.Context, db sqldb.DB, masters ...*Master) (*Keyring, error) {
	if len(masters) == 0 || masters[0] == nil {
		return nil, fmt.Errorf("keys: %w", ErrNoMasterKey)
	}
	if err := sqlmigrate.Check(ctx, db, Migrations); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	k := &Keyring{db: db, postgres: db.Dialect() == sqldb.Postgres, masters: masters}
	if err := k.adopt(ctx); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return k, nil
}

// master returns the master of id among the keyring's.
func (k *Keyring) master(id string) *Master {
	for _, m := range k.masters {
		if m.id == id {
			return m
		}
	}
	return nil
}

// ids lists the keyring's master ids, for messages.
func (k *Keyring) ids() string {
	ids := make([]string, len(k.masters))
	for i, m := range k.masters {
		ids[i] = m.id
	}
	return strings.Join(ids, ", ")
}

// adopt checks that the store's keys are wrapped under one of the
// keyring's masters and loads the look-up secret. On a store whose keys
// no master wraps yet (new, or written by an earlier version in clear), it
// wraps them all under the first master, in one transaction that one
// process wins: the others wait for it and find the work done.
func (k *Keyring) adopt(ctx context.Context) error {
	return k.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		primary := k.masters[0]
		res, err := tx.ExecContext(ctx,
			`INSERT INTO reso_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, masterSetting, primary.id)
		if err != nil {
			return fmt.Errorf("record master key: %w", err)
		}
		first, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record master key: %w", err)
		}
		var current string
		if err := tx.QueryRowContext(ctx, `SELECT value FROM reso_settings WHERE name = $1`, masterSetting).Scan(&current); err != nil {
			return fmt.Errorf("read master key id: %w", err)
		}
		if k.master(current) == nil {
			return fmt.Errorf("%w: this store's contact keys are wrapped under master key %s, and the one given is %s; give the store's own master key (RESO_MASTER_KEY or --master-key-file)",
				ErrWrongMasterKey, current, k.ids())
		}
		if err := k.loadSecret(ctx, tx.Tx); err != nil {
			return err
		}
		if first == 0 {
			return nil
		}
		// The first start with a master key: wrap what is in clear.
		n, err := k.rewrap(ctx, tx.Tx, 0)
		if err != nil {
			return err
		}
		if n > 0 {
			slog.InfoContext(ctx, "contact keys wrapped under the master key", "keys", n, "master", primary.id)
		}
		return nil
	})
}

// loadSecret reads the look-up secret, creating it wrapped under the
// first master the first time, and wrapping it when an earlier version
// stored it in clear.
func (k *Keyring) loadSecret(ctx context.Context, tx *sql.Tx) error {
	primary := k.masters[0]
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return fmt.Errorf("generate key secret: %w", err)
	}
	wrapped, err := primary.wrap(secretSetting, fresh)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO reso_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, secretSetting, wrapped); err != nil {
		return fmt.Errorf("store key secret: %w", err)
	}
	var stored string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM reso_settings WHERE name = $1`, secretSetting).Scan(&stored); err != nil {
		return fmt.Errorf("load key secret: %w", err)
	}
	secret, err := k.fromStore(secretSetting, stored)
	if err != nil {
		return fmt.Errorf("load key secret: %w", err)
	}
	k.secret = secret
	if wrappedBy(stored) == "" {
		w, err := primary.wrap(secretSetting, secret)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reso_settings SET value = $1 WHERE name = $2`, w, secretSetting); err != nil {
			return fmt.Errorf("wrap key secret: %w", err)
		}
	}
	return nil
}

// toStore is a contact key as stored: wrapped under the first master,
// bound to its id.
func (k *Keyring) toStore(keyID string, key []byte) (string, error) {
	return k.masters[0].wrap("contact key "+keyID, key)
}

// keyFromStore reads a stored contact key. It returns ErrUnavailable when
// no master of the keyring wrapped it and ErrCorrupt when it does not
// unwrap.
func (k *Keyring) keyFromStore(keyID, stored string) ([]byte, error) {
	key, err := k.fromStore("contact key "+keyID, stored)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", keyID, err)
	}
	return key, nil
}

// fromStore unwraps a stored 32-byte value bound to aad; a value in clear
// (hex, written by an earlier version) is read as it is.
func (k *Keyring) fromStore(aad, stored string) ([]byte, error) {
	var b []byte
	var err error
	switch id := wrappedBy(stored); {
	case id == "":
		b, err = hex.DecodeString(stored)
	case k.master(id) == nil:
		return nil, ErrUnavailable
	default:
		b, err = k.master(id).unwrap(aad, stored)
	}
	if err != nil || len(b) != 32 {
		return nil, ErrCorrupt
	}
	return b, nil
}

// NormaliseEmail is the form under which emails are compared.
func NormaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// subjectHash identifies a data subject without storing who they are. A
// contact without email is identified by name, so two nameless-emailless
// contacts of one company share a key: erasing by SIRET still reaches them.
func (k *Keyring) subjectHash(c Contact) string {
	m := hmac.New(sha256.New, k.secret)
	if e := NormaliseEmail(c.Email); e != "" {
		m.Write([]byte("email:" + e))
	} else {
		m.Write([]byte("name:" + strings.ToLower(strings.TrimSpace(c.Name))))
	}
	return hex.EncodeToString(m.Sum(nil))
}

func (k *Keyring) emailHash(email string) string {
	return k.subjectHash(Contact{Email: email})
}

// Seal encrypts c under the key of its data subject (created on first use)
// and records that needID uses that key, in one transaction. It returns the
// database error when the key cannot be stored.
func (k *Keyring) Seal(ctx context.Context, needID uuid.UUID, siret string, c Contact) (domain.SealedContact, error) {
	siret = strings.TrimSpace(siret)
	subject := k.subjectHash(c)
	plain, err := json.Marshal(c)
	if err != nil {
		return domain.SealedContact{}, fmt.Errorf("seal contact: %w", err)
	}
	var keyID string
	var key []byte
	epoch := k.cache.begin()
	if k.postgres {
		keyID, key, err = k.keyForNeed(ctx, needID, siret, subject)
	} else {
		keyID, key, err = k.keyForNeedTx(ctx, needID, siret, subject)
	}
	if err != nil {
		return domain.SealedContact{}, err
	}
	ct, err := encrypt(key, keyID, plain)
	if err != nil {
		return domain.SealedContact{}, err
	}
	// The need's next reads and commands open its contact with this key.
	k.cache.put(needID, NeedKey{id: keyID, key: key}, epoch)
	return domain.SealedContact{KeyID: keyID, Ciphertext: ct}, nil
}

// sqlKeyForNeed finds or creates the subject's key and links the need to it
// in one PostgreSQL statement: one round trip and one commit, where the
// explicit transaction of keyForNeedTx takes six round trips. All parts see
// the statement's snapshot, so the SELECT arm cannot see the row the INSERT
// arm adds, and k has at most one row. When a concurrent Seal of the same
// subject commits its key after this statement's snapshot was taken, the
// INSERT waits for it and does nothing, the SELECT does not see it either,
// and no row comes back: keyForNeed runs the statement again, under a new
// snapshot that sees that key.
const sqlKeyForNeed = `WITH new AS (
	INSERT INTO reso_contact_keys (key_id, siret, subject_hash, key_hex, created_at)
	VALUES ($1, $2, $3, $4, $5) ON CONFLICT (siret, subject_hash) DO NOTHING
	RETURNING key_id, key_hex
), k AS (
	SELECT key_id, key_hex FROM new
	UNION ALL
	SELECT key_id, key_hex FROM reso_contact_keys WHERE siret = $2 AND subject_hash = $3
	LIMIT 1
), link AS (
	INSERT INTO reso_contact_key_needs (key_id, need_id) SELECT key_id, $6 FROM k
	ON CONFLICT (key_id, need_id) DO NOTHING
)
SELECT key_id, key_hex FROM k`

// keyForNeed is keyForNeedTx in one statement, for PostgreSQL.
func (k *Keyring) keyForNeed(ctx context.Context, needID uuid.UUID, siret, subject string) (string, []byte, error) {
	for attempt := 0; attempt < 3; attempt++ {
		id, err := uuid.NewV7()
		if err != nil {
			return "", nil, fmt.Errorf("new key id: %w", err)
		}
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return "", nil, fmt.Errorf("new key: %w", err)
		}
		stored, err := k.toStore(id.String(), fresh)
		if err != nil {
			return "", nil, err
		}
		var keyID, keyHex string
		err = k.queryRow(ctx, sqlKeyForNeed, id.String(), siret, subject, stored,
			time.Now().UTC().Format(time.RFC3339Nano), needID.String()).Scan(&keyID, &keyHex)
		if errors.Is(err, sql.ErrNoRows) {
			continue // lost the insert race to a key this snapshot cannot see
		}
		if err != nil {
			return "", nil, fmt.Errorf("seal contact of need %s: %w", needID, err)
		}
		key, err := k.keyFromStore(keyID, keyHex)
		if err != nil {
			return "", nil, err
		}
		return keyID, key, nil
	}
	return "", nil, fmt.Errorf("store contact key: lost the insert race three times")
}

// keyForNeedTx finds or creates the subject's key and links the need to it
// in one transaction (SQLite, whose CTEs cannot hold an INSERT; its round
// trips are function calls).
func (k *Keyring) keyForNeedTx(ctx context.Context, needID uuid.UUID, siret, subject string) (keyID string, key []byte, err error) {
	err = k.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		if keyID, key, err = k.keyFor(ctx, tx.Tx, siret, subject); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO reso_contact_key_needs (key_id, need_id) VALUES ($1, $2) ON CONFLICT (key_id, need_id) DO NOTHING`,
			keyID, needID.String()); err != nil {
			return fmt.Errorf("link key to need %s: %w", needID, err)
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("seal contact: %w", err)
	}
	return keyID, key, nil
}

// keyFor returns the live key of a data subject, creating it if needed.
func (k *Keyring) keyFor(ctx context.Context, tx *sql.Tx, siret, subject string) (string, []byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		var keyID, keyHex string
		err := tx.QueryRowContext(ctx,
			`SELECT key_id, key_hex FROM reso_contact_keys WHERE siret = $1 AND subject_hash = $2`,
			siret, subject).Scan(&keyID, &keyHex)
		if err == nil {
			key, err := k.keyFromStore(keyID, keyHex)
			if err != nil {
				return "", nil, err
			}
			return keyID, key, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("find contact key: %w", err)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return "", nil, fmt.Errorf("new key id: %w", err)
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return "", nil, fmt.Errorf("new key: %w", err)
		}
		stored, err := k.toStore(id.String(), key)
		if err != nil {
			return "", nil, err
		}
		// A concurrent Seal of the same subject may win the insert (on
		// PostgreSQL this one waits for it to commit); the next loop turn
		// then reads its key.
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO reso_contact_keys (key_id, siret, subject_hash, key_hex, created_at)
			 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (siret, subject_hash) DO NOTHING`,
			id.String(), siret, subject, stored, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return "", nil, fmt.Errorf("store contact key: %w", err)
		}
	}
	return "", nil, fmt.Errorf("store contact key: lost the insert race twice")
}

// Open decrypts a sealed contact. It returns ErrErased when its key was
// deleted, ErrUnavailable when its key is wrapped under a master the
// keyring lacks, and ErrCorrupt when the ciphertext or the stored key does
// not authenticate.
func (k *Keyring) Open(ctx context.Context, sc domain.SealedContact) (Contact, error) {
	var keyHex string
	err := k.queryRow(ctx, `SELECT key_hex FROM reso_contact_keys WHERE key_id = $1`, sc.KeyID).Scan(&keyHex)
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, ErrErased
	}
	if err != nil {
		return Contact{}, fmt.Errorf("load key %s: %w", sc.KeyID, err)
	}
	key, err := k.keyFromStore(sc.KeyID, keyHex)
	if err != nil {
		return Contact{}, err
	}
	return openWithKey(key, sc)
}

func openWithKey(key []byte, sc domain.SealedContact) (Contact, error) {
	plain, err := decrypt(key, sc.KeyID, sc.Ciphertext)
	if err != nil {
		return Contact{}, err
	}
	var c Contact
	if err := json.Unmarshal(plain, &c); err != nil {
		return Contact{}, fmt.Errorf("key %s: %w", sc.KeyID, ErrCorrupt)
	}
	return c, nil
}

// NeedKey is a need's contact key as KeyOfNeed read it; the zero value
// means none was found.
type NeedKey struct {
	id  string
	key []byte
}

// KeyOfNeed reads the live key linked to a need, so that a caller can read
// it at the same time as the need's stream instead of after it. It returns
// the zero NeedKey when the key is erased or the need has no linked key
// (OpenWith then asks Open), and the database error, if any.
//
// While erasures can reach the keyring's cache (cache.go), a key read once
// is served from memory.
func (k *Keyring) KeyOfNeed(ctx context.Context, needID uuid.UUID) (NeedKey, error) {
	if nk, ok := k.cache.get(needID); ok {
		return nk, nil
	}
	epoch := k.cache.begin()
	var id, keyHex string
	err := k.queryRow(ctx, `SELECT k.key_id, k.key_hex FROM reso_contact_key_needs kn
		JOIN reso_contact_keys k ON k.key_id = kn.key_id WHERE kn.need_id = $1 LIMIT 1`, needID.String()).Scan(&id, &keyHex)
	if errors.Is(err, sql.ErrNoRows) {
		return NeedKey{}, nil
	}
	if err != nil {
		return NeedKey{}, fmt.Errorf("load key of need %s: %w", needID, err)
	}
	key, err := k.keyFromStore(id, keyHex)
	if err != nil {
		// OpenWith then asks Open, which reports it.
		return NeedKey{}, nil
	}
	nk := NeedKey{id: id, key: key}
	k.cache.put(needID, nk, epoch)
	return nk, nil
}

// OpenWith is Open using a key KeyOfNeed read, when it is the one sc was
// sealed under; otherwise (none found, or another key) it is Open, which
// reads the key by its id. Errors are Open's.
func (k *Keyring) OpenWith(ctx context.Context, sc domain.SealedContact, nk NeedKey) (Contact, error) {
	if nk.id == "" || nk.id != sc.KeyID {
		return k.Open(ctx, sc)
	}
	return openWithKey(nk.key, sc)
}

// encrypt returns nonce || AES-256-GCM(plain), authenticated with the key id
// as additional data so a ciphertext cannot be passed off under another key.
func encrypt(key []byte, keyID string, plain []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, plain, []byte(keyID)), nil
}

func decrypt(key []byte, keyID string, ct []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(ct) < gcm.NonceSize()+gcm.Overhead() {
		return nil, fmt.Errorf("key %s: %w", keyID, ErrCorrupt)
	}
	plain, err := gcm.Open(nil, ct[:gcm.NonceSize()], ct[gcm.NonceSize():], []byte(keyID))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", keyID, ErrCorrupt)
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return gcm, nil
}
