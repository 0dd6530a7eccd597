package notify_test

import (
	"strings"
	"testing"
	"time"
)

// A sign-in link the console issued goes to the user of the address, once,
// in text and HTML; an unknown address gets nothing, and the call says
// nothing of it. (The link's one use and 15 minutes are the console's
// sessions': internal/websession and the console's tests.)
func TestSignInLinkMailed(t *testing.T) {
	t.Parallel()
	e := mustEnv(t, envOptions{store: "sqlite"})
	n := e.srv.Notifier()
	// The read model must know the users before their email can be looked up.
	head, _ := e.srv.Backend().Events.Head(ctx)
	if err := e.srv.Backend().Projections.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	const link = "http://console.reso.test/connexion/lien?jeton=reso_Ab-12"
	if err := n.SendSignInLink(ctx, "  ADELE.Conseil@users.test ", link); err != nil {
		t.Fatal(err)
	}
	msgs := e.mp.WaitCount(t, 1, 20*time.Second)
	full := e.mp.Message(t, msgs[0].ID)
	if full.To[0].Address != e.advisorEmail || full.Subject != "Votre lien de connexion à Réso" {
		t.Fatalf("sign-in mail %+v", full.Summary)
	}
	if !strings.Contains(full.Text, link) || !strings.Contains(full.HTML, "connexion/lien?jeton=reso_Ab-12") {
		t.Fatalf("the link is not in the mail:\n%s", full.Text)
	}
	if err := n.SendSignInLink(ctx, "personne@nulle-part.test", link); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.mp.Count(); c != 1 {
		t.Fatalf("%d mails, want only the known user's", c)
	}
}
