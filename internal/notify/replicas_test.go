package notify_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/mailtest"
	"github.com/reso-fr/reso/internal/pgtest"
)

// Two server processes on one PostgreSQL database: one follows the log,
// both run deliveries, and each mail goes out once. When the follower
// stops, the other takes over.
func TestTwoServersOnePostgresSendEachMailOnce(t *testing.T) {
	t.Parallel()
	dsn := pgtest.MustSchema(t)
	mp := mailtest.Start(t, mailtest.Options{})
	a := mustEnv(t, envOptions{store: "postgres", dsn: dsn, mp: mp})
	// The second server starts while the first one's runners build their
	// indexes: the read models' DDL lock makes them take turns.
	b := mustEnv(t, envOptions{store: "postgres", dsn: dsn, mp: mp, noFixture: true})
	advisorB := a.principal(mustToken(t, a, a.advisor))
	forwardOn := func(e *env, p app.Principal, n int) []uuid.UUID {
		var ids []uuid.UUID
		for range n {
			id, _ := a.mustCaptureOn(e.svc, p)
			if _, err := e.svc.ForwardNeed(ctx, p, id, []uuid.UUID{a.ref1, a.ref2}, app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	ids := forwardOn(a, a.advisor, 3)
	ids = append(ids, forwardOn(b, advisorB, 3)...)
	mp.WaitCount(t, 12, 30*time.Second)
	a.waitIdle()
	b.waitIdle()
	assertOncePerReferent(t, mp, a, ids)

	// The follower stops: the other server follows the log on.
	if err := a.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	more := forwardOn(b, advisorB, 2)
	mp.WaitCount(t, 16, 30*time.Second)
	b.waitIdle()
	assertOncePerReferent(t, mp, a, append(ids, more...))
}

// mustToken issues a new token for p's user.
func mustToken(t *testing.T, e *env, p app.Principal) string {
	t.Helper()
	tok, err := e.srv.Backend().Auth.IssueToken(ctx, authUser(p))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// assertOncePerReferent checks Mailpit holds exactly one forward mail per
// (need, referent) for ids, and nothing else.
func assertOncePerReferent(t *testing.T, mp *mailtest.Server, e *env, ids []uuid.UUID) {
	t.Helper()
	seen := map[string]int{}
	msgs := mp.Messages(t)
	for _, m := range msgs {
		seen[m.Subject+" → "+m.To[0].Address]++
	}
	if len(msgs) != 2*len(ids) {
		t.Errorf("%d mails for %d needs forwarded to 2 referents", len(msgs), len(ids))
	}
	for i := range ids {
		for _, to := range []string{"chloe.nord@referents.test", "david.region@referents.test"} {
			k := fmt.Sprintf("Nouveau besoin : Boulangerie %d – Recruter un ou plusieurs salariés → %s", i+1, to)
			if seen[k] != 1 {
				t.Errorf("%s: %d mails", k, seen[k])
			}
		}
	}
}
