package console

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/websession"
)

type signInData struct {
	Return    string
	Expired   bool
	Demo      []DemoUser
	CanMail   bool
	Sent      bool
	Email     string
	Errors    formErrors
	LinkError string
}

func (c *console) demoUsers(r *http.Request) ([]DemoUser, error) {
	if c.d.DemoUsers == nil {
		return nil, nil
	}
	return c.d.DemoUsers(r.Context())
}

// signInPage is the sign-in page: the demo's users with --demo, else the
// request of a one-time link by email.
func (c *console) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, err := c.lookup(r); err == nil {
		http.Redirect(w, r, safeReturn(r.URL.Query().Get("retour")), http.StatusSeeOther)
		return
	}
	users, err := c.demoUsers(r)
	if err != nil {
		c.fail(w, r, app.Principal{}, err)
		return
	}
	d := signInData{Return: safeReturn(r.URL.Query().Get("retour")), Expired: r.URL.Query().Get("motif") == "expiree",
		Demo: users, CanMail: c.d.SendLink != nil, Sent: r.URL.Query().Get("envoi") == "1"}
	c.render(w, r, app.Principal{}, http.StatusOK, "signin", "Connexion", d)
}

// open starts a session for a user and sends the browser on.
func (c *console) open(w http.ResponseWriter, r *http.Request, userID uuid.UUID, back string) {
	p, err := c.d.Service.PrincipalOfUser(r.Context(), userID)
	if err != nil {
		c.fail(w, r, app.Principal{}, err)
		return
	}
	s, err := c.d.Sessions.Open(r.Context(), p)
	if err != nil {
		c.fail(w, r, app.Principal{}, err)
		return
	}
	c.setSession(w, r, s)
	http.Redirect(w, r, safeReturn(back), http.StatusSeeOther)
}

// signInDemo signs in as one of the demo's users (only with --demo).
func (c *console) signInDemo(w http.ResponseWriter, r *http.Request) {
	users, err := c.demoUsers(r)
	if err != nil {
		c.fail(w, r, app.Principal{}, err)
		return
	}
	id, err := uuid.Parse(r.PostFormValue("utilisateur"))
	if err == nil {
		for _, u := range users {
			if u.UserID == id {
				c.open(w, r, id, r.PostFormValue("retour"))
				return
			}
		}
	}
	c.renderError(w, r, app.Principal{}, http.StatusNotFound, "Connexion impossible",
		"Cette connexion de démonstration n'existe pas.")
}

// signInEmail mails a one-time link to a known address. The answer is the
// same whether the address is known or not: the page must not tell who
// has an account.
func (c *console) signInEmail(w http.ResponseWriter, r *http.Request) {
	back := safeReturn(r.PostFormValue("retour"))
	email := strings.TrimSpace(r.PostFormValue("courriel"))
	if c.d.SendLink == nil {
		c.renderError(w, r, app.Principal{}, http.StatusNotFound, "Envoi impossible",
			"L'envoi des liens de connexion par courriel n'est pas configuré : demandez un lien à un administrateur.")
		return
	}
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") {
		d := signInData{Return: back, CanMail: true, Email: email}
		d.Errors.add("courriel", "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.")
		c.render(w, r, app.Principal{}, http.StatusUnprocessableEntity, "signin", "Connexion", d)
		return
	}
	u, err := c.d.Service.UserByEmail(r.Context(), email)
	switch {
	case err == nil:
		tok, _, err := c.d.Sessions.IssueLink(r.Context(), u.ID)
		if err != nil {
			c.fail(w, r, app.Principal{}, err)
			return
		}
		link := websession.LinkURL(c.baseURL(r), tok)
		if back != "/" {
			link += "&retour=" + urlQueryEscape(back)
		}
		if err := c.d.SendLink(r.Context(), email, link); err != nil {
			c.fail(w, r, app.Principal{}, err)
			return
		}
	case errors.Is(err, app.ErrNotFound):
		c.d.Logger.InfoContext(r.Context(), "sign-in link asked for an unknown address")
	default:
		c.fail(w, r, app.Principal{}, err)
		return
	}
	http.Redirect(w, r, "/connexion?envoi=1", http.StatusSeeOther)
}

func (c *console) baseURL(r *http.Request) string {
	if c.d.BaseURL != "" {
		return c.d.BaseURL
	}
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type linkData struct {
	Token, Return string
}

// linkPage is what a sign-in link opens: one button that uses the link.
// Opening the page uses nothing, so that a mail scanner that follows links
// does not spend it before its owner clicks.
func (c *console) linkPage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("jeton")
	if tok == "" {
		c.renderError(w, r, app.Principal{}, http.StatusBadRequest, "Lien incomplet",
			"Ce lien de connexion est incomplet : copiez-le en entier depuis le courriel reçu.")
		return
	}
	c.render(w, r, app.Principal{}, http.StatusOK, "link", "Connexion par lien",
		linkData{Token: tok, Return: safeReturn(r.URL.Query().Get("retour"))})
}

// linkUse spends a one-time link and opens the session.
func (c *console) linkUse(w http.ResponseWriter, r *http.Request) {
	id, err := c.d.Sessions.ConsumeLink(r.Context(), r.PostFormValue("jeton"))
	var msg string
	switch {
	case err == nil:
		c.open(w, r, id, r.PostFormValue("retour"))
		return
	case errors.Is(err, websession.ErrLinkExpired):
		msg = "Ce lien de connexion a expiré : il n'est valable que 15 minutes. Demandez-en un nouveau."
	case errors.Is(err, websession.ErrLinkUsed):
		msg = "Ce lien de connexion a déjà servi : chaque lien ne sert qu'une fois. Demandez-en un nouveau."
	case errors.Is(err, websession.ErrLinkUnknown):
		msg = "Ce lien de connexion n'est pas valable. Vérifiez que vous l'avez copié en entier."
	default:
		c.fail(w, r, app.Principal{}, err)
		return
	}
	c.renderError(w, r, app.Principal{}, http.StatusGone, "Lien de connexion refusé", msg)
}

// signOut ends the session.
func (c *console) signOut(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); err == nil {
		if id, err := c.d.Sessions.FromCookie(ck.Value); err == nil {
			if err := c.d.Sessions.Revoke(r.Context(), id); err != nil {
				c.fail(w, r, app.Principal{}, err)
				return
			}
		}
	}
	clearSession(w, r)
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
}
