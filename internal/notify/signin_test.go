package notify_test

import (
	"database/sql"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/notify"
)

var linkRE = regexp.MustCompile(`http://console\.reso\.test/connexion/lien\?jeton=([A-Za-z0-9_%-]+)`)

// A sign-in link works once, for 15 minutes, and only its hash is stored.
func TestSignInLinkIsOneTime(t *testing.T) {
	t.Parallel()
	e := mustEnv(t, envOptions{store: "sqlite"})
	n := e.srv.Notifier()
	// The read model must know the users before their email can be looked up.
	head, _ := e.srv.Backend().Events.Head(ctx)
	if err := e.srv.Backend().Projections.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	token := func(want int) string {
		t.Helper()
		msgs := e.mp.WaitCount(t, want, 20*time.Second)
		last := msgs[len(msgs)-1]
		for _, m := range msgs {
			if m.Created.After(last.Created) {
				last = m
			}
		}
		full := e.mp.Message(t, last.ID)
		if full.To[0].Address != e.advisorEmail || full.Subject != "Votre lien de connexion à Réso" {
			t.Fatalf("sign-in mail %+v", full.Summary)
		}
		m := linkRE.FindStringSubmatch(full.Text)
		if m == nil || !strings.Contains(full.HTML, "connexion/lien?jeton=") {
			t.Fatalf("no link in:\n%s", full.Text)
		}
		tok, err := url.QueryUnescape(m[1])
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	if err := n.SendSignInLink(ctx, "  ADELE.Conseil@users.test "); err != nil {
		t.Fatal(err)
	}
	tok := token(1)
	u, err := n.RedeemSignInLink(ctx, tok)
	if err != nil || u.ID != e.advisor.UserID || u.Role != e.advisor.Role {
		t.Fatalf("redeem: %+v, %v", u, err)
	}
	if _, err := n.RedeemSignInLink(ctx, tok); !errors.Is(err, notify.ErrSignInLink) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := n.RedeemSignInLink(ctx, "reso_made-up"); !errors.Is(err, notify.ErrSignInLink) {
		t.Fatalf("made-up token: %v", err)
	}

	// Expired after 15 minutes on the notifier's clock.
	if err := n.SendSignInLink(ctx, e.advisorEmail); err != nil {
		t.Fatal(err)
	}
	late := token(2)
	e.clock.AdvanceTo(time.Now().Add(notify.SignInTTL + time.Second))
	if _, err := n.RedeemSignInLink(ctx, late); !errors.Is(err, notify.ErrSignInLink) {
		t.Fatalf("expired link: %v", err)
	}

	// An unknown address sends nothing and says nothing.
	if err := n.SendSignInLink(ctx, "personne@nulle-part.test"); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.mp.Count(); c != 2 {
		t.Fatalf("%d mails, want 2", c)
	}

	// The table holds hashes, never a token.
	db, err := sql.Open("sqlite", "file:"+notify.SQLitePath(e.dir)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT token_hash FROM notify_signin_links`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	count := 0
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		if h == tok || h == late || len(h) != 64 {
			t.Errorf("stored %q", h)
		}
		count++
	}
	if count != 2 {
		t.Fatalf("%d links stored, want 2", count)
	}
}
