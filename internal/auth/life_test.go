package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/auth"
)

// clock is a settable clock shared by stores playing replicas.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestTokenLife: a token expires after its lifetime, records its last use
// (once a minute at most), is listed without its secret, and once revoked
// is refused at once where it was revoked and within CacheTTL on another
// replica.
func TestTokenLife(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, events, db := mustStoreDB(t)
	// A second store on the same database: another replica.
	b, err := auth.New(ctx, db, events)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 12, 14, 5, 0, 0, time.UTC)}
	a.UseClock(c.now)
	b.UseClock(c.now)
	a.UseTokenTTL(10 * 24 * time.Hour)
	u := auth.User{ID: uuid.New(), Name: "Fanny", Role: domain.RoleFunder}
	tok, info, err := a.NewToken(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if info.ExpiresAt.Sub(info.CreatedAt) != 10*24*time.Hour || info.ID == "" {
		t.Fatalf("new token %+v", info)
	}
	for _, s := range []*auth.Store{a, b} {
		if got, err := s.Authenticate(ctx, tok); err != nil || got.ID != u.ID || got.TokenID != info.ID {
			t.Fatalf("authenticate: %+v, %v", got, err)
		}
	}
	list, err := a.Tokens(ctx, u.ID)
	if err != nil || len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(c.now()) {
		t.Fatalf("tokens %+v, %v: want one, used now", list, err)
	}
	// Used again within the minute: the time is not written again.
	c.add(30 * time.Second)
	if _, err := b.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if list, _ = a.Tokens(ctx, u.ID); !list[0].LastUsedAt.Equal(c.now().Add(-30 * time.Second)) {
		t.Fatalf("last used %v, want the first use", list[0].LastUsedAt)
	}
	c.add(2 * time.Minute)
	if _, err := b.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if list, _ = a.Tokens(ctx, u.ID); !list[0].LastUsedAt.Equal(c.now()) {
		t.Fatalf("last used %v, want now", list[0].LastUsedAt)
	}

	// Revoked on replica a: refused there at once, on b once its cache
	// entry (at most CacheTTL old) is gone.
	if _, err := b.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked token on its replica: %v", err)
	}
	c.add(auth.CacheTTL)
	if _, err := b.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked token on another replica after %v: %v", auth.CacheTTL, err)
	}
	if auth.CacheTTL >= time.Second {
		t.Fatalf("CacheTTL %v: a revocation must reach every replica within 1 s", auth.CacheTTL)
	}
	if list, _ = a.Tokens(ctx, u.ID); list[0].RevokedAt == nil {
		t.Fatalf("listed %+v, want it revoked", list[0])
	}
	if _, err := a.Revoke(ctx, "no-such-token"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}

	// Expiry.
	tok2, _, err := a.NewToken(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	c.add(10*24*time.Hour - time.Second)
	if _, err := a.Authenticate(ctx, tok2); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	c.add(time.Second)
	if _, err := b.Authenticate(ctx, tok2); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
	// The replica that cached it a second before must not serve it either.
	if _, err := a.Authenticate(ctx, tok2); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("expired token from the cache: %v", err)
	}
}

func TestAdminTokenLength(t *testing.T) {
	t.Parallel()
	s, _ := mustStore(t)
	if _, err := s.EnsureAdmin(context.Background(), strings.Repeat("x", 31)); !errors.Is(err, auth.ErrWeakToken) {
		t.Fatalf("31 characters: %v, want ErrWeakToken", err)
	}
	if _, err := s.EnsureAdmin(context.Background(), strings.Repeat("x", 32)); err != nil {
		t.Fatalf("32 characters: %v", err)
	}
}
