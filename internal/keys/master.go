package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Errors of master keys.
var (
	// ErrNoMasterKey: the keyring needs a master key and got none.
	ErrNoMasterKey = errors.New("no master key: set RESO_MASTER_KEY (32 bytes, base64; openssl rand -base64 32) or --master-key-file")
	// ErrWrongMasterKey: the master key given is not the one the store's
	// keys are wrapped under.
	ErrWrongMasterKey = errors.New("wrong master key")
	// ErrBadMasterKey: a master key that is not 32 bytes in base64.
	ErrBadMasterKey = errors.New("a master key is 32 bytes, base64-encoded")
)

// Master is a key-encryption key: it wraps every contact key and the
// look-up secret, so that the database alone opens no contact. It never
// lives in the database: operators give it through the environment or a
// file. Only its id, a one-way digest, is stored, to tell which master
// wrapped what.
type Master struct {
	id   string
	aead cipher.AEAD
}

// wrapPrefix starts every wrapped value: format version 1, then the id of
// the master that wrapped it.
const wrapPrefix = "w1:"

// NewMaster derives a master from 32 bytes of key material (HKDF-SHA256,
// one key to wrap, another for the id). It returns ErrBadMasterKey for
// another length.
func NewMaster(material []byte) (*Master, error) {
	if len(material) != 32 {
		return nil, ErrBadMasterKey
	}
	wrapKey, err := hkdf.Key(sha256.New, material, nil, "reso contact keys: wrap v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive master key: %w", err)
	}
	idKey, err := hkdf.Key(sha256.New, material, nil, "reso contact keys: id v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive master key id: %w", err)
	}
	block, err := aes.NewCipher(wrapKey)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	m := hmac.New(sha256.New, idKey)
	m.Write([]byte("reso master key"))
	return &Master{id: hex.EncodeToString(m.Sum(nil))[:16], aead: aead}, nil
}

// ParseMaster reads a master key written in base64 (standard or URL
// alphabet, padded or not). It returns ErrBadMasterKey.
func ParseMaster(s string) (*Master, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return NewMaster(b)
		}
	}
	return nil, ErrBadMasterKey
}

// LoadMasterFile reads a master key file (base64, as GenerateMasterFile
// writes it). It returns the file's error or ErrBadMasterKey.
func LoadMasterFile(path string) (*Master, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	m, err := ParseMaster(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return m, nil
}

// GenerateMasterFile writes a new random master key to path, readable by
// its owner only (mode 0600), and returns it. It refuses to overwrite a
// file.
func GenerateMasterFile(path string) (*Master, error) {
	material := make([]byte, 32)
	if _, err := rand.Read(material); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(material) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("master key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	return NewMaster(material)
}

// GenerateMaster returns a new random master key that lives in memory
// only: for benchmarks and tests, whose data dies with them.
func GenerateMaster() (*Master, error) {
	material := make([]byte, 32)
	if _, err := rand.Read(material); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	return NewMaster(material)
}

// ID is the master's public id: a digest that tells which master wrapped
// a value without revealing anything of it.
func (m *Master) ID() string { return m.id }

// wrap encrypts plain under the master, bound to aad (the key id or the
// setting's name) so that a wrapped value cannot be moved to another row.
func (m *Master) wrap(aad string, plain []byte) (string, error) {
	nonce := make([]byte, m.aead.NonceSize(), m.aead.NonceSize()+len(plain)+m.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	ct := m.aead.Seal(nonce, nonce, plain, []byte(aad))
	return wrapPrefix + m.id + ":" + base64.RawStdEncoding.EncodeToString(ct), nil
}

// wrappedLen is the length of a wrapped 32-byte key: an erasure overwrites
// one with as many zeros, in place.
var wrappedLen = len(wrapPrefix) + 16 + 1 + base64.RawStdEncoding.EncodedLen(12+32+16)

// wrappedBy returns the id of the master that wrapped s, or "" for a value
// that is not wrapped (a key stored in clear by an earlier version).
func wrappedBy(s string) string {
	rest, ok := strings.CutPrefix(s, wrapPrefix)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return id
}

// unwrap decrypts a value m wrapped. It returns ErrCorrupt when the value
// does not authenticate under m and aad.
func (m *Master) unwrap(aad, s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, wrapPrefix+m.id+":")
	if !ok {
		return nil, ErrCorrupt
	}
	ct, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(ct) < m.aead.NonceSize()+m.aead.Overhead() {
		return nil, ErrCorrupt
	}
	plain, err := m.aead.Open(nil, ct[:m.aead.NonceSize()], ct[m.aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}
