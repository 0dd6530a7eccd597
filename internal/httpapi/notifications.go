package httpapi

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/reso-fr/reso/internal/app"
)

// listNotifications: GET /api/notifications?status=failed&limit=N (admin).
func (a *api) listNotifications(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, err := a.d.Service.ListNotifications(r.Context(), principalOf(r.Context()),
		app.NotificationFilter{Status: r.URL.Query().Get("status"), Limit: limit})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// retryNotification: POST /api/notifications/{id}/retry (admin).
func (a *api) retryNotification(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		a.fail(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "no delivery "+chi.URLParam(r, "id")))
		return
	}
	v, err := a.d.Service.RetryNotification(r.Context(), principalOf(r.Context()), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
