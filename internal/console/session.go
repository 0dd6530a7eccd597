package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/websession"
)

// cookieName names the session cookie.
const cookieName = "reso_session"

// secure reports whether the browser reached us over TLS (directly or
// through a proxy that says so): the cookie is then Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setSession gives the browser the signed cookie of a session.
func (c *console) setSession(w http.ResponseWriter, r *http.Request, s websession.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: c.d.Sessions.Cookie(s.ID), Path: "/", Expires: s.Expires,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode,
	})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

// lookup returns the session a request's cookie names: websession's
// ErrNoSession without a valid cookie, ErrExpired for an ended session.
func (c *console) lookup(r *http.Request) (websession.Session, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return websession.Session{}, websession.ErrNoSession
	}
	id, err := c.d.Sessions.FromCookie(ck.Value)
	if err != nil {
		return websession.Session{}, err
	}
	return c.d.Sessions.Get(r.Context(), id)
}

// session returns the caller's principal; without a live session it sends
// the browser to sign-in, with the page to come back to, and reports
// false.
func (c *console) session(w http.ResponseWriter, r *http.Request) (app.Principal, bool) {
	s, err := c.lookup(r)
	if err == nil {
		return s.Principal, true
	}
	if !errors.Is(err, websession.ErrNoSession) && !errors.Is(err, websession.ErrExpired) {
		c.fail(w, r, app.Principal{}, err)
		return app.Principal{}, false
	}
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		// A form posted after the session ended comes back to the page it
		// was sent from; what it carried is not sent again.
		back = sameSiteReferer(r)
	}
	q := url.Values{}
	if back != "/" && back != "" {
		q.Set("retour", back)
	}
	if errors.Is(err, websession.ErrExpired) {
		clearSession(w, r)
		q.Set("motif", "expiree")
	}
	target := "/connexion"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return app.Principal{}, false
}

// optionalPrincipal is the caller's principal when a live session exists,
// the zero one otherwise (error pages show the header either way).
func (c *console) optionalPrincipal(r *http.Request) app.Principal {
	s, err := c.lookup(r)
	if err != nil {
		return app.Principal{}
	}
	return s.Principal
}

// sameSiteReferer is the path of the page a request came from when it is
// one of ours, else "/".
func sameSiteReferer(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host {
		return "/"
	}
	return safeReturn(u.RequestURI())
}

// safeReturn keeps a return address only when it is a path of this site:
// never another origin ("//x", "\\x", "https://x").
func safeReturn(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return "/"
	}
	if strings.HasPrefix(s, "/connexion") || strings.HasPrefix(s, "/deconnexion") {
		return "/"
	}
	return s
}
