package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// MinAdminTokenLen is the shortest admin token accepted. Tokens are stored
// as an unsalted SHA-256, which is only safe for high-entropy tokens: use
// something like `openssl rand -hex 32`.
const MinAdminTokenLen = 32

// ErrWeakToken means a configured token is too short to be stored safely.
var ErrWeakToken = errors.New("token too short")

// EnsureAdmin makes token an admin's token: on first use it registers an
// admin user (UserRegistered in the log) bound to it; later calls find the
// token and start its life again (an operator's token expires only when it
// stays unused through restarts for the token lifetime), so it is safe at
// every start. It returns the admin's user id, ErrWeakToken for a token
// shorter than MinAdminTokenLen, ErrUnauthenticated for a token an admin
// revoked, or the store or database error.
func (s *Store) EnsureAdmin(ctx context.Context, token string) (uuid.UUID, error) {
	if len(token) < MinAdminTokenLen {
		return uuid.Nil, fmt.Errorf("ensure admin: %w (need at least %d characters)", ErrWeakToken, MinAdminTokenLen)
	}
	u, info, err := s.lookup(ctx, HashToken(token))
	if err == nil {
		if info.RevokedAt != nil {
			return uuid.Nil, fmt.Errorf("ensure admin: %w: RESO_ADMIN_TOKEN was revoked; set another", ErrUnauthenticated)
		}
		if _, err := s.db.Exec(ctx, `UPDATE reso_credentials SET expires_at = $1 WHERE token_id = $2`,
			stamp(s.now().Add(s.ttl)), info.ID); err != nil {
			return uuid.Nil, fmt.Errorf("ensure admin: %w", err)
		}
		return u.ID, nil
	}
	if !errors.Is(err, ErrUnauthenticated) {
		return uuid.Nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, fmt.Errorf("ensure admin: %w", err)
	}
	evID, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, fmt.Errorf("ensure admin: %w", err)
	}
	ev, err := domain.RegisterUser(domain.UserRegistration{
		UserID: id, Name: "Administrator", Email: "admin@reso.invalid", Role: domain.RoleAdmin,
	}, nil, domain.Actor{ID: id, Role: domain.RoleSystem}, s.now().UTC())
	if err != nil {
		return uuid.Nil, fmt.Errorf("ensure admin: %w", err)
	}
	typ, ver, data, err := domain.Marshal(ev)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := s.events.Append(ctx, domain.UserStream(id), eventstore.NoStream,
		eventstore.NewEvent{ID: evID, Type: typ, SchemaVersion: ver, Data: data,
			Metadata: eventstore.Metadata{ActorID: id.String(), ActorRole: string(domain.RoleSystem)}}); err != nil {
		return uuid.Nil, fmt.Errorf("ensure admin: %w", err)
	}
	if _, err := s.AddToken(ctx, UserFromEvent(ev), token); err != nil {
		return uuid.Nil, err
	}
	return id, nil
}
