package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/reso-fr/reso/internal/mail"
	"github.com/reso-fr/reso/projections"
)

// SendSignInLink mails link, a one-time sign-in link the console issued
// (its tokens live with the console's sessions), to the user registered
// with email. It is sent at once rather than through the queue, whose job
// would hold the link in clear. An unknown email sends nothing and returns
// nil: the caller cannot tell who is registered. It returns the mail
// server's or the read models' error.
func (n *Notifier) SendSignInLink(ctx context.Context, email, link string) error {
	u, err := n.cfg.ReadModels.UserByEmail(ctx, strings.TrimSpace(email))
	if errors.Is(err, projections.ErrNotFound) {
		n.log.Info("sign-in link asked for an unknown email")
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify: sign-in link: %w", err)
	}
	d := mailData{
		Subject: "Votre lien de connexion à Réso", Greeting: greeting(u.Name),
		Lines:  []string{"Pour vous connecter à Réso, suivez ce lien. Il fonctionne une seule fois, pendant 15 minutes."},
		Action: "Se connecter", URL: link,
		Notes: []string{"Si vous n'avez pas demandé à vous connecter, ignorez ce message : personne ne peut se connecter sans ce lien."},
	}
	text, html, err := render(d)
	if err != nil {
		return fmt.Errorf("notify: sign-in link: %w", err)
	}
	msg := mail.Message{From: n.cfg.From, To: mail.Address{Name: u.Name, Email: u.Email}, Subject: d.Subject,
		Text: text, HTML: html, Headers: map[string]string{"X-Reso-Kind": "sign_in"}}
	if err := n.cfg.Sender.Send(ctx, msg, nil); err != nil {
		return fmt.Errorf("notify: sign-in link: %w", err)
	}
	return nil
}
