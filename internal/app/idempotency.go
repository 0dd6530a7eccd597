package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// Need commands take effect at most once per idempotency key. The HTTP
// layer replays the answer it stored for a repeated Idempotency-Key, but a
// process can die after its append and before it stores the answer: the
// repeat then reaches the service again. So the service looks for its own
// earlier effect first: an event of the need's stream whose metadata holds
// the caller's key and user id means the command was done, and it answers
// with the need as it stands instead of deciding again. A capture has no
// stream yet: with a key, its need id is derived from the user and the key,
// so that a repeat finds the need its first run created.

// captureNamespace derives the ids of needs captured with a key.
var captureNamespace = uuid.MustParse("6d2f3c1e-6b0a-4d7e-9a51-3f0c2b8e7a19")

// captureID is the id of the need a capture by p with m creates: derived
// from p's user id and the key when there is one, a fresh UUIDv7 otherwise.
func captureID(p Principal, m CommandMeta) (uuid.UUID, error) {
	if m.IdempotencyKey == "" {
		return uuid.NewV7()
	}
	return uuid.NewSHA1(captureNamespace, []byte(p.UserID.String()+"\x00"+m.IdempotencyKey)), nil
}

// done returns the position of the event of l that p's command with key m
// appended, if one did.
func (l loaded) done(p Principal, m CommandMeta) (eventstore.Position, bool) {
	if m.IdempotencyKey == "" {
		return eventstore.Position{}, false
	}
	actor := p.UserID.String()
	for _, e := range l.raw {
		if e.Metadata.IdempotencyKey == m.IdempotencyKey && e.Metadata.ActorID == actor {
			return e.Position, true
		}
	}
	return eventstore.Position{}, false
}

// earlierCapture answers a capture with a key whose need exists: the need
// as it stands when p's capture with that key created it (ok), nothing when
// the need does not exist, and ErrConflict when another command created it.
func (s *Service) earlierCapture(ctx context.Context, p Principal, id uuid.UUID, m CommandMeta) (res Result, ok bool, err error) {
	key := s.keyAhead(ctx, id)
	l, err := s.loadNeed(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, err
	}
	pos, done := l.done(p, m)
	if !done || l.raw[0].Position != pos {
		return Result{}, false, fmt.Errorf("capture need %s: the need exists, not created with this key: %w", id, ErrConflict)
	}
	n, err := l.fold(id)
	if err != nil {
		return Result{}, false, err
	}
	v, err := s.view(ctx, n, key)
	if err != nil {
		return Result{}, false, err
	}
	return Result{Need: v, Position: pos}, true, nil
}

// isNeedCapture reports whether a capture failed because its stream exists.
func isNeedCapture(err error) bool {
	return errors.Is(err, eventstore.ErrConcurrency) || errors.Is(err, domain.ErrAlreadyCaptured)
}
