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
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
)

// ErrErased means the contact's key was deleted: the data is gone for good.
var ErrErased = errors.New("contact erased")

// ErrCorrupt means a sealed contact did not decrypt under its key.
var ErrCorrupt = errors.New("sealed contact does not decrypt")

// Contact is a contact's personal data in plaintext.
type Contact struct {
	Name  string `json:"n"`
	Email string `json:"e"`
	Phone string `json:"p"`
}

// Keyring seals and opens contacts. It is safe for concurrent use.
type Keyring struct {
	db       *sql.DB
	postgres bool
	secret   []byte // HMAC key of the look-up hashes
}

const secretSetting = "contact_hash_secret"

// New migrates the key tables in db and loads (or, the first time, creates)
// the look-up secret. dialect is "sqlite" or "postgres"; the SQL is the same
// but an erasure compacts storage differently. It returns the database error
// when the tables cannot be created.
func New(ctx context.Context, db *sql.DB, dialect string) (*Keyring, error) {
	if err := Migrate(ctx, db); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("generate key secret: %w", err)
	}
	// Two processes starting at once both try; the first insert wins and
	// both read it back.
	if _, err := db.ExecContext(ctx,
		`INSERT INTO reso_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		secretSetting, hex.EncodeToString(secret)); err != nil {
		return nil, fmt.Errorf("store key secret: %w", err)
	}
	var stored string
	if err := db.QueryRowContext(ctx, `SELECT value FROM reso_settings WHERE name = $1`, secretSetting).Scan(&stored); err != nil {
		return nil, fmt.Errorf("load key secret: %w", err)
	}
	secret, err := hex.DecodeString(stored)
	if err != nil || len(secret) != 32 {
		return nil, fmt.Errorf("load key secret: %w", ErrCorrupt)
	}
	return &Keyring{db: db, postgres: strings.Contains(strings.ToLower(dialect), "postgres"), secret: secret}, nil
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
	tx, err := k.db.BeginTx(ctx, nil)
	if err != nil {
		return domain.SealedContact{}, fmt.Errorf("seal contact: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	keyID, key, err := keyFor(ctx, tx, siret, subject)
	if err != nil {
		return domain.SealedContact{}, err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO reso_contact_key_needs (key_id, need_id) VALUES ($1, $2) ON CONFLICT (key_id, need_id) DO NOTHING`,
		keyID, needID.String()); err != nil {
		return domain.SealedContact{}, fmt.Errorf("link key to need %s: %w", needID, err)
	}
	if err := tx.Commit(); err != nil {
		return domain.SealedContact{}, fmt.Errorf("seal contact: %w", err)
	}
	ct, err := encrypt(key, keyID, plain)
	if err != nil {
		return domain.SealedContact{}, err
	}
	return domain.SealedContact{KeyID: keyID, Ciphertext: ct}, nil
}

// keyFor returns the live key of a data subject, creating it if needed.
func keyFor(ctx context.Context, tx *sql.Tx, siret, subject string) (string, []byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		var keyID, keyHex string
		err := tx.QueryRowContext(ctx,
			`SELECT key_id, key_hex FROM reso_contact_keys WHERE siret = $1 AND subject_hash = $2`,
			siret, subject).Scan(&keyID, &keyHex)
		if err == nil {
			key, derr := hex.DecodeString(keyHex)
			if derr != nil || len(key) != 32 {
				return "", nil, fmt.Errorf("key %s: %w", keyID, ErrCorrupt)
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
		// A concurrent Seal of the same subject may win the insert (on
		// PostgreSQL this one waits for it to commit); the next loop turn
		// then reads its key.
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO reso_contact_keys (key_id, siret, subject_hash, key_hex, created_at)
			 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (siret, subject_hash) DO NOTHING`,
			id.String(), siret, subject, hex.EncodeToString(key), time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return "", nil, fmt.Errorf("store contact key: %w", err)
		}
	}
	return "", nil, fmt.Errorf("store contact key: lost the insert race twice")
}

// Open decrypts a sealed contact. It returns ErrErased when its key was
// deleted and ErrCorrupt when the ciphertext does not authenticate.
func (k *Keyring) Open(ctx context.Context, sc domain.SealedContact) (Contact, error) {
	var keyHex string
	err := k.db.QueryRowContext(ctx, `SELECT key_hex FROM reso_contact_keys WHERE key_id = $1`, sc.KeyID).Scan(&keyHex)
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, ErrErased
	}
	if err != nil {
		return Contact{}, fmt.Errorf("load key %s: %w", sc.KeyID, err)
	}
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != 32 {
		return Contact{}, fmt.Errorf("key %s: %w", sc.KeyID, ErrCorrupt)
	}
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
