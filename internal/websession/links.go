package websession

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// LinkTTL is how long a one-time sign-in link stays valid.
const LinkTTL = 15 * time.Minute

// LinkPath is the console's page a sign-in link opens.
const LinkPath = "/connexion/lien"

// Errors of sign-in links.
var (
	ErrLinkUnknown = errors.New("sign-in link unknown")
	ErrLinkExpired = errors.New("sign-in link expired")
	ErrLinkUsed    = errors.New("sign-in link already used")
)

// IssueLink creates a one-time sign-in link token for a user, valid
// LinkTTL, and returns it with its expiry; only its hash is kept. This is
// the call that sends a sign-in mail starts with (then LinkURL). It
// returns the database's error.
func (s *Store) IssueLink(ctx context.Context, userID uuid.UUID) (string, time.Time, error) {
	tok, err := randomHex(32)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	exp := now.Add(LinkTTL)
	if _, err := s.exec(ctx, `INSERT INTO websession_links (token_hash, user_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)`,
		hash(tok), userID.String(), now.UnixMilli(), exp.UnixMilli()); err != nil {
		return "", time.Time{}, fmt.Errorf("issue sign-in link: %w", err)
	}
	return tok, exp, nil
}

// LinkURL is the address of a sign-in link on the console at base (such as
// "https://reso.example.fr"): {base}/connexion/lien?jeton=TOKEN.
func LinkURL(base, token string) string {
	return strings.TrimRight(base, "/") + LinkPath + "?jeton=" + url.QueryEscape(token)
}

// ConsumeLink uses a sign-in link token once and returns the user it was
// issued for. It returns ErrLinkUnknown, ErrLinkExpired, ErrLinkUsed, and
// the database's error.
func (s *Store) ConsumeLink(ctx context.Context, token string) (uuid.UUID, error) {
	if token == "" {
		return uuid.Nil, ErrLinkUnknown
	}
	h := hash(token)
	now := s.now().UnixMilli()
	res, err := s.exec(ctx, `UPDATE websession_links SET used_ms = $2 WHERE token_hash = $1 AND used_ms = 0 AND expires_ms > $2`, h, now)
	if err != nil {
		return uuid.Nil, fmt.Errorf("use sign-in link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return uuid.Nil, fmt.Errorf("use sign-in link: %w", err)
	}
	var user string
	var expires, used int64
	err = s.db.SQL().QueryRowContext(ctx, `SELECT user_id, expires_ms, used_ms FROM websession_links WHERE token_hash = $1`, h).Scan(&user, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, ErrLinkUnknown
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("use sign-in link: %w", err)
	}
	switch {
	case n == 1:
		id, err := uuid.Parse(user)
		if err != nil {
			return uuid.Nil, fmt.Errorf("sign-in link user %q: %w", user, err)
		}
		return id, nil
	case used != 0:
		return uuid.Nil, ErrLinkUsed
	default:
		return uuid.Nil, ErrLinkExpired
	}
}
