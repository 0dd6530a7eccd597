package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/reso-fr/reso/internal/app"
)

type principalKey struct{}

// principalOf returns the caller authenticated by the authenticate
// middleware.
func principalOf(ctx context.Context) app.Principal {
	p, _ := ctx.Value(principalKey{}).(app.Principal)
	return p
}

// bearerToken extracts the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// authenticate puts the caller's principal in the request context, or
// answers 401.
func (a *api) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := bearerToken(r)
		if token == "" {
			a.fail(w, r, app.ErrUnauthenticated)
			return
		}
		p, err := a.d.Service.Authenticate(r.Context(), token)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}
