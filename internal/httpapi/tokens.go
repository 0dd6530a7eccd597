package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

func (a *api) listTokens(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ts, err := a.d.Service.Tokens(r.Context(), principalOf(r.Context()), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

func (a *api) newToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.d.Service.NewToken(r.Context(), principalOf(r.Context()), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request) {
	t, err := a.d.Service.RevokeToken(r.Context(), principalOf(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
