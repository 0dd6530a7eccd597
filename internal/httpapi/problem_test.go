package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
)

func TestToProblem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err    error
		status int
		field  string
	}{
		{&domain.ValidationError{Field: "siret", Message: "bad checksum"}, 422, "siret"},
		{fmt.Errorf("capture: %w", &domain.ValidationError{Field: "commune", Message: "unknown"}), 422, "commune"},
		{fmt.Errorf("change: %w", &domain.TransitionError{From: domain.MatchDone, To: domain.MatchNotForMe}), 409, ""},
		{domain.ErrAbandonRefused, 409, ""},
		{domain.ErrAlreadyMatched, 409, ""},
		{domain.ErrNotForwarded, 409, ""},
		{fmt.Errorf("comment: %w", app.ErrConflict), 409, ""},
		{domain.ErrNeedAbandoned, 409, ""},
		{fmt.Errorf("get: %w", app.ErrNotFound), 404, ""},
		{domain.ErrNeedNotFound, 404, ""},
		{fmt.Errorf("read: %w", eventstore.ErrNotFound), 404, ""},
		{&eventstore.ConcurrencyError{Stream: "need-x"}, 409, ""},
		{app.ErrForbidden, 403, ""},
		{&app.ForbiddenError{Role: domain.RoleFunder, Action: app.ActionListNeeds, Reason: "role funder may not list needs"}, 403, ""},
		{fmt.Errorf("list: %w", app.ErrLagging), 503, ""},
		{fmt.Errorf("read: %w", app.ErrUnavailable), 503, ""},
		{fmt.Errorf("rebuild: %w", app.ErrRebuildRunning), 409, ""},
		{app.ErrUnauthenticated, 401, ""},
		{fmt.Errorf("%w: bad zone", domain.ErrValidation), 422, ""},
		{invalidField("as_of", "bad"), 422, "as_of"},
		{tooLargeFor(MaxBodyBytes), 413, ""},
		{errors.New("disk on fire"), 500, ""},
		{fmt.Errorf("authenticate: %w", app.ErrUnavailable), 503, ""},
		{fmt.Errorf("read: %w", &pgconn.PgError{Code: "42P01", Message: "relation does not exist"}), 500, ""},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			writeProblem(w, httptest.NewRequest(http.MethodGet, "/x", nil), nil, c.err)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d", w.Code, c.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			var p Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Status != c.status || p.Type == "" || p.Title == "" {
				t.Fatalf("problem %+v", p)
			}
			if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field) {
				t.Fatalf("errors %+v, want field %s", p.Errors, c.field)
			}
			if c.status == 500 && p.Detail == "disk on fire" {
				t.Fatal("internal error details leaked to the client")
			}
			if c.status == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if c.status == 503 && w.Header().Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
			var fe *app.ForbiddenError
			if errors.As(c.err, &fe) && p.Detail != fe.Reason {
				t.Fatalf("403 detail %q, want the reason %q", p.Detail, fe.Reason)
			}
		})
	}
}

func TestRecoverPanic(t *testing.T) {
	t.Parallel()
	a := &api{d: Deps{Logger: slog.New(slog.DiscardHandler)}}
	h := a.recoverPanic(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
	if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, content type %q", w.Code, w.Header().Get("Content-Type"))
	}
	if strings.Contains(w.Body.String(), "boom") {
		t.Fatal("panic value leaked to the client")
	}
}
