// Package demo seeds a demonstration network into an empty store: a
// directory in Hauts-de-France and months of simulated history with real
// sealed contacts, then one token per role, printed and saved.
package demo

import (
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// TokensFile is the name of the saved tokens, in the data directory.
const TokensFile = "demo-tokens.txt"

// Options tunes the seeding.
type Options struct {
	Seed   int64
	Months int       // default 18
	Now    time.Time // end of the simulated period (default now)
	Out    io.Writer // where tokens are printed (nil: nowhere)
}

// Token is a demo user's credential.
type Token struct {
	Role   domain.Role
	Name   string
	UserID uuid.UUID
	Token  string
}

// Result says what Run did.
type Result struct {
	Seeded bool // false: the store had events, nothing was seeded
	Tokens []Token
	Events int
	Needs  int
	// Last is the position of the last seeded event.
	Last eventstore.Position
	// Organisations and Referents seeded; Users by role.
	Organisations, Referents int
	Users                    map[domain.Role]int
	Duration                 time.Duration
}
