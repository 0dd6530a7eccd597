package console

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/ratelimit"
	"github.com/reso-fr/reso/internal/websession"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// DemoUser is a user the demo's sign-in page offers, one button each.
type DemoUser struct {
	UserID uuid.UUID
	Name   string
	Role   domain.Role
}

// Deps is what the console serves from. Service and Sessions are
// required.
type Deps struct {
	Service  *app.Service
	Sessions *websession.Store
	// DemoUsers, when set, lists the demo's users: the sign-in page then
	// offers one button per user instead of an email link.
	DemoUsers func(ctx context.Context) ([]DemoUser, error)
	// SendLink, when set, mails a one-time sign-in link (url) to email;
	// nil: the sign-in page says to ask an admin for a link (`reso users
	// link`).
	SendLink func(ctx context.Context, email, url string) error
	// BaseURL is the console's public address, for the links SendLink
	// mails ("" : taken from each request's host).
	BaseURL string
	Logger  *slog.Logger     // default slog.Default()
	Now     func() time.Time // default time.Now
	// Guard limits the rate of each address and principal (the API's
	// own: a caller's requests count once); nil: no limit.
	Guard *ratelimit.Guard
}

// console is the handlers' shared state.
type console struct {
	d     Deps
	pages pages
	geo   *communeIndex
}

// New returns the console's handler, behind cross-origin protection for
// every form post. It panics when Service or Sessions is nil, or when a
// route requires no known action: wiring mistakes that must stop the
// server at start-up.
func New(d Deps) http.Handler {
	if d.Service == nil || d.Sessions == nil {
		panic("console: Service and Sessions are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	c := &console{d: d, pages: mustParsePages(), geo: newCommuneIndex(d.Service.Geography())}
	h, err := c.router(c.routes())
	if err != nil {
		panic("console: " + err.Error())
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, app.Principal{}, http.StatusForbidden, "Requête refusée",
			"Ce formulaire a été envoyé depuis un autre site : pour votre sécurité, il n'a pas été pris en compte.")
	}))
	return securityHeaders(cop.Handler(h))
}

// staticFS is the embedded static files.
func staticFS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// csp allows the console's own files only: no inline script or style, no
// other origin.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every console answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
