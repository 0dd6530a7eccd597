package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/auth"
)

// TokenView is what may be shown of an API token: never the token itself,
// except once, in Token, when it is issued.
type TokenView struct {
	auth.TokenInfo
	Token   string `json:"token,omitempty"`
	Current bool   `json:"current"` // the token of the request that lists it
}

// mayManageTokens decides whether p manages userID's tokens: their own, or
// an admin any. It returns a *ForbiddenError.
func (s *Service) mayManageTokens(p Principal, userID uuid.UUID) error {
	if err := s.Authorize(p, ActionTokens); err != nil {
		return err
	}
	if p.Role != domain.RoleAdmin && p.UserID != userID {
		return forbid(p, ActionTokens, "a user may only manage their own tokens")
	}
	return nil
}

// Tokens lists a user's API tokens, the newest first, revoked and expired
// ones included. A user lists their own, an admin anyone's. It returns a
// *ForbiddenError and the database error.
func (s *Service) Tokens(ctx context.Context, p Principal, userID uuid.UUID) ([]TokenView, error) {
	if err := s.mayManageTokens(p, userID); err != nil {
		return nil, err
	}
	infos, err := s.auth.Tokens(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]TokenView, len(infos))
	for i, info := range infos {
		out[i] = TokenView{TokenInfo: info, Current: info.ID == p.TokenID}
	}
	return out, nil
}

// NewToken issues a new API token to a user: their own, or an admin for
// anyone. The token is in the answer, and nowhere else ever. It returns a
// *ForbiddenError, ErrNotFound for an unknown user, and the store's errors.
func (s *Service) NewToken(ctx context.Context, p Principal, userID uuid.UUID) (TokenView, error) {
	if err := s.mayManageTokens(p, userID); err != nil {
		return TokenView{}, err
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return TokenView{}, err
	}
	tok, info, err := s.auth.NewToken(ctx, u)
	if err != nil {
		return TokenView{}, err
	}
	s.log.InfoContext(ctx, "token issued", "user", userID, "token_id", info.ID, "by", p.UserID)
	return TokenView{TokenInfo: info, Token: tok}, nil
}

// RevokeToken ends a token now: this server refuses it at once, every
// replica within a second. A user revokes their own, an admin anyone's. It
// returns a *ForbiddenError, ErrNotFound for an unknown token (or one of
// another user, which a non-admin may not know of), and the store's errors.
func (s *Service) RevokeToken(ctx context.Context, p Principal, tokenID string) (TokenView, error) {
	if err := s.Authorize(p, ActionTokens); err != nil {
		return TokenView{}, err
	}
	info, err := s.auth.Token(ctx, tokenID)
	if errors.Is(err, auth.ErrNotFound) || (err == nil && p.Role != domain.RoleAdmin && info.UserID != p.UserID) {
		return TokenView{}, fmt.Errorf("%w: token %s", ErrNotFound, tokenID)
	}
	if err != nil {
		return TokenView{}, err
	}
	info, err = s.auth.Revoke(ctx, tokenID)
	if err != nil {
		return TokenView{}, err
	}
	s.log.InfoContext(ctx, "token revoked", "user", info.UserID, "token_id", tokenID, "by", p.UserID)
	return TokenView{TokenInfo: info, Current: tokenID == p.TokenID}, nil
}

// user folds a user's registration from their stream. It returns
// ErrNotFound when the log has none.
func (s *Service) user(ctx context.Context, id uuid.UUID) (auth.User, error) {
	raw, err := s.store.ReadStream(ctx, domain.UserStream(id), 1, 1)
	if errors.Is(err, eventstore.ErrNotFound) || (err == nil && len(raw) == 0) {
		return auth.User{}, fmt.Errorf("%w: user %s", ErrNotFound, id)
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("read user %s: %w", id, err)
	}
	e, err := domain.Unmarshal(raw[0].Type, raw[0].SchemaVersion, raw[0].Data)
	if err != nil {
		return auth.User{}, fmt.Errorf("read user %s: %w", id, err)
	}
	reg, ok := e.(domain.UserRegistered)
	if !ok {
		return auth.User{}, fmt.Errorf("read user %s: first event is %s", id, raw[0].Type)
	}
	return auth.UserFromEvent(reg), nil
}
