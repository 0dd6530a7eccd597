package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/sqldb"
)

// sealer lets the simulator seal contacts with the real keyring, so the demo
// holds AES-GCM ciphertext that erasure can shred.
type sealer struct{ k *keys.Keyring }

func (s sealer) Seal(ctx context.Context, needID uuid.UUID, siret string, c simulate.Contact) (domain.SealedContact, error) {
	return s.k.Seal(ctx, needID, siret, keys.Contact(c))
}

// Roles that get a demo token, in the order they are printed.
var Roles = []domain.Role{domain.RoleAdmin, domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur, domain.RoleFunder}

func seed(ctx context.Context, b *backend.Backend, svc *app.Service, path string, opts Options) (Result, error) {
	start := time.Now()
	now := opts.Now
	if now.IsZero() {
		now = start.UTC()
	}
	months := opts.Months
	if months <= 0 {
		months = 18
	}
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -months+1, 0)
	writers := 4
	if b.DB.Dialect() == sqldb.Postgres {
		// PostgreSQL commits wait for fsync: more writers share each flush.
		writers = 12
	}
	sim, err := simulate.Run(ctx, b.Events, simulate.Options{
		Seed: opts.Seed, Start: first, Months: months, Now: now, Sealer: sealer{b.Keys}, Writers: writers,
		// A Signaux Faibles list each month, as the network receives them:
		// animateurs see flagged needs and companies to visit at once.
		SignauxFaibles: true,
	})
	if err != nil {
		return Result{}, fmt.Errorf("simulate: %w", err)
	}
	res := Result{Seeded: true, Events: int(sim.Events), Needs: sim.Needs, Last: sim.Last, Organisations: len(sim.Organisations),
		Referents: len(sim.Referents), Users: map[domain.Role]int{}}
	for role, ids := range sim.Users {
		res.Users[role] = len(ids)
	}
	for _, role := range Roles {
		ids := sim.Users[role]
		if len(ids) == 0 {
			return res, fmt.Errorf("demo: the simulation made no %s", role)
		}
		u, err := user(ctx, b.Events, ids[0])
		if err != nil {
			return res, err
		}
		tok, err := svc.IssueToken(ctx, u)
		if err != nil {
			return res, err
		}
		res.Tokens = append(res.Tokens, Token{Role: role, Name: u.Name, UserID: u.ID, Token: tok})
	}
	text := format(res.Tokens, now)
	// On PostgreSQL nothing else created the data directory.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return res, fmt.Errorf("demo tokens: %w", err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return res, fmt.Errorf("demo tokens: %w", err)
	}
	res.Duration = time.Since(start)
	if opts.Out != nil {
		fmt.Fprintf(opts.Out, "Demo seeded in %.1f s: %d needs, %d events. Tokens (saved in %s):\n%s",
			res.Duration.Seconds(), res.Needs, res.Events, path, text)
	}
	return res, nil
}

// user reads a user's principal data from their stream.
func user(ctx context.Context, store eventstore.Store, id uuid.UUID) (auth.User, error) {
	raw, err := store.ReadStream(ctx, domain.UserStream(id), 1, 1)
	if err != nil {
		return auth.User{}, fmt.Errorf("demo user %s: %w", id, err)
	}
	e, err := domain.Unmarshal(raw[0].Type, raw[0].SchemaVersion, raw[0].Data)
	if err != nil {
		return auth.User{}, fmt.Errorf("demo user %s: %w", id, err)
	}
	ur, ok := e.(domain.UserRegistered)
	if !ok {
		return auth.User{}, fmt.Errorf("demo user %s: %w", id, errors.New("first event is not UserRegistered"))
	}
	return auth.UserFromEvent(ur), nil
}

func format(tokens []Token, at time.Time) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Réso demo tokens, created %s. Use: curl -H \"Authorization: Bearer TOKEN\" ...\n", at.Format(time.RFC3339))
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	for _, t := range tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Role, t.Name, t.Token)
	}
	tw.Flush()
	return sb.String()
}
