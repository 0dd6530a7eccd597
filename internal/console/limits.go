package console

import (
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
