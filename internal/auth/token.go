package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// tokenPrefix makes a leaked token recognisable by secret scanners.
const tokenPrefix = "reso_"

// NewToken returns a fresh bearer token: 256 random bits.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken is what the credentials table stores. A plain SHA-256 is the
// right tool here, unlike for passwords: a token carries 256 bits of
// randomness, so there is no dictionary to try and a slow or salted hash
// would add nothing but latency to every request, while a stolen table still
// cannot be turned back into tokens. It also lets a lookup be an index hit.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
