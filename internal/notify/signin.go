package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/mail"
	"github.com/reso-fr/reso/projections"
)

// SignInTTL is how long a sign-in link works.
const SignInTTL = 15 * time.Minute

// maxOpenLinks bounds the unused, unexpired links one user may have: more
// requests within SignInTTL send nothing.
const maxOpenLinks = 5

// ErrSignInLink means a sign-in token is unknown, expired or already used.
var ErrSignInLink = errors.New("sign-in link invalid, expired or already used")

// SendSignInLink mails a one-time sign-in link, valid SignInTTL, to the
// user registered with email: {BaseURL}/connexion/lien?jeton=<token>. Only
// the token's SHA-256 is stored. It is sent at once rather than through the
// queue, whose job would hold the token in clear. An unknown email, or a
// user with maxOpenLinks links still open, sends nothing and returns nil:
// the caller cannot tell who is registered. It returns the mail server's or
// database's error.
func (n *Notifier) SendSignInLink(ctx context.Context, email string) error {
	email = strings.TrimSpace(email)
	id, err := n.cfg.ReadModels.UserIDByEmail(ctx, email)
	if errors.Is(err, projections.ErrNotFound) {
		n.log.Info("sign-in link asked for an unknown email")
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify: sign-in link: %w", err)
	}
	u, err := n.people.user(ctx, id)
	if err != nil {
		return fmt.Errorf("notify: sign-in link: %w", err)
	}
	tok, err := auth.NewToken()
	if err != nil {
		return err
	}
	now := n.cfg.Now()
	var open int
	err = n.q.inTx(ctx, func(t txn) error {
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM notify_signin_links WHERE user_id = $1 AND used_at = 0 AND expires_at > $2`,
			id.String(), now.UnixMicro()).Scan(&open); err != nil {
			return err
		}
		if open >= maxOpenLinks {
			return nil
		}
		_, err := t.exec(ctx, `INSERT INTO notify_signin_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			auth.HashToken(tok), id.String(), now.UnixMicro(), now.Add(SignInTTL).UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("notify: sign-in link: %w", err)
	}
	if open >= maxOpenLinks {
		n.log.Warn("sign-in link refused: too many open links", "user_id", id)
		return nil
	}
	link := n.cfg.BaseURL + "/connexion/lien?jeton=" + url.QueryEscape(tok)
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

// RedeemSignInLink uses a sign-in token once: it returns the user it was
// sent to, and the token never works again. It returns ErrSignInLink for
// an unknown, expired or used token, and the database's error.
func (n *Notifier) RedeemSignInLink(ctx context.Context, token string) (auth.User, error) {
	now := n.cfg.Now().UnixMicro()
	var raw string
	err := n.q.inTx(ctx, func(t txn) error {
		return t.queryRow(ctx, `UPDATE notify_signin_links SET used_at = $1
			WHERE token_hash = $2 AND used_at = 0 AND expires_at > $1 RETURNING user_id`,
			now, auth.HashToken(strings.TrimSpace(token))).Scan(&raw)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, ErrSignInLink
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("notify: redeem sign-in link: %w", err)
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return auth.User{}, fmt.Errorf("notify: sign-in link user %q: %w", raw, err)
	}
	evs, err := n.people.first(ctx, domain.UserStream(id), false)
	if err != nil {
		return auth.User{}, fmt.Errorf("notify: sign-in link user: %w", err)
	}
	ur, ok := evs[0].(domain.UserRegistered)
	if !ok {
		return auth.User{}, fmt.Errorf("notify: sign-in link user %s: %w", id, errNoSuchPerson)
	}
	return auth.UserFromEvent(ur), nil
}
