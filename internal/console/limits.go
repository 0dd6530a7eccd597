package console

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/reso-fr/reso/internal/app"
)

// limitAddress answers 429, in French, to an address past its rate.
func (c *console) limitAddress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.d.Guard != nil {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			if ok, wait := c.d.Guard.PerAddress.Allow(host); !ok {
				c.tooMany(w, r, app.Principal{}, wait)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// allowPrincipal answers 429 to a principal past its rate and reports
// whether the page may go on.
func (c *console) allowPrincipal(w http.ResponseWriter, r *http.Request, p app.Principal) bool {
	if c.d.Guard == nil {
		return true
	}
	ok, wait := c.d.Guard.PerPrincipal.Allow(p.UserID.String())
	if !ok {
		c.tooMany(w, r, p, wait)
	}
	return ok
}

func (c *console) tooMany(w http.ResponseWriter, r *http.Request, p app.Principal, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	c.renderError(w, r, p, http.StatusTooManyRequests, "Trop de requêtes",
		fmt.Sprintf("Vous avez envoyé trop de requêtes en peu de temps. Réessayez dans %d s.", secs))
}

// MaxFormBytes bounds a form's body: the longest the console takes (a
// need's description, a comment) are a few kilobytes.
const MaxFormBytes = 64 << 10

// limitBody answers 413, in French, to a body over MaxFormBytes. The form
// is parsed here, so that a body cut short by the limit never reaches a
// handler as a form with fields missing (which would answer as if they
// were left empty).
func (c *console) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			if err := r.ParseForm(); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					c.renderError(w, r, app.Principal{}, http.StatusRequestEntityTooLarge, "Formulaire trop long",
						fmt.Sprintf("Ce formulaire dépasse %d Kio : raccourcissez le texte et envoyez-le de nouveau.", MaxFormBytes>>10))
					return
				}
				c.renderError(w, r, app.Principal{}, http.StatusBadRequest, "Formulaire illisible",
					"Ce formulaire n'a pas pu être lu ; rechargez la page et envoyez-le de nouveau.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
