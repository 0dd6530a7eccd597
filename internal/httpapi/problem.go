package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
)

// problemBase prefixes the type URI of every problem this API returns.
const problemBase = "https://reso.fr/problems/"

// FieldError names one refused input.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem document. Handlers return it as an error
// when they refuse a request themselves.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
	// Report is the whole report of a refused directory import.
	Report *app.ImportReport `json:"report,omitempty"`
	// retryAfter, when set, becomes a Retry-After header (seconds).
	retryAfter string
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

func newProblem(status int, slug, title, detail string, fields ...FieldError) *Problem {
	return &Problem{Type: problemBase + slug, Title: title, Status: status, Detail: detail, Errors: fields}
}

// invalidField is the 422 of one bad input value.
func invalidField(field, message string) *Problem {
	return newProblem(http.StatusUnprocessableEntity, "validation", "Invalid value", field+": "+message,
		FieldError{Field: field, Message: message})
}

// badRequest is the 400 of a body that is not the expected JSON.
func badRequest(detail string, fields ...FieldError) *Problem {
	return newProblem(http.StatusBadRequest, "malformed", "Malformed request", detail, fields...)
}

// toProblem is the one place that maps an error to an HTTP problem; every
// handler's error goes through it.
func toProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var rejected *app.SFRejectedError
	if errors.As(err, &rejected) {
		return linesProblem(rejected)
	}
	var ves domain.ValidationErrors
	if errors.As(err, &ves) {
		fields := make([]FieldError, len(ves))
		for i, ve := range ves {
			fields[i] = FieldError{Field: ve.Field, Message: ve.Message}
		}
		return newProblem(http.StatusUnprocessableEntity, "validation", "Invalid value", ves.Error(), fields...)
	}
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		return newProblem(http.StatusUnprocessableEntity, "validation", "Invalid value", ve.Error(),
			FieldError{Field: ve.Field, Message: ve.Message})
	}
	var ire *app.ImportRefusedError
	if errors.As(err, &ire) {
		return importRefused(ire)
	}
	var te *domain.TransitionError
	switch {
	case errors.Is(err, app.ErrUnauthenticated):
		detail := "send Authorization: Bearer TOKEN with a valid token"
		var ue *app.UnauthenticatedError
		if errors.As(err, &ue) {
			detail = ue.Reason + "; " + detail
		}
		return newProblem(http.StatusUnauthorized, "unauthenticated", "Authentication required", detail)
	case errors.Is(err, app.ErrForbidden):
		return newProblem(http.StatusForbidden, "forbidden", "Forbidden", forbiddenDetail(err))
	case errors.Is(err, app.ErrNotFound), errors.Is(err, domain.ErrNeedNotFound),
		errors.Is(err, domain.ErrMatchNotFound), errors.Is(err, eventstore.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", "Not found", err.Error())
	case errors.As(err, &te), errors.Is(err, domain.ErrInvalidTransition):
		return newProblem(http.StatusConflict, "transition-refused", "Transition refused", err.Error())
	case errors.Is(err, domain.ErrAbandonRefused), errors.Is(err, domain.ErrAlreadyMatched),
		errors.Is(err, domain.ErrNeedAbandoned), errors.Is(err, domain.ErrAlreadyErased),
		errors.Is(err, domain.ErrAlreadyCaptured), errors.Is(err, domain.ErrNotForwarded),
		errors.Is(err, eventstore.ErrConcurrency), errors.Is(err, app.ErrConflict):
		return newProblem(http.StatusConflict, "conflict", "Refused by the rules", err.Error())
	case errors.Is(err, app.ErrRebuildRunning):
		return newProblem(http.StatusConflict, "rebuilding", "Rebuild in progress", err.Error())
	case errors.Is(err, app.ErrLagging):
		p := newProblem(http.StatusServiceUnavailable, "projection-lag", "Read models behind", err.Error()+"; retry")
		p.retryAfter = "1"
		return p
	case errors.Is(err, domain.ErrValidation), errors.Is(err, eventstore.ErrInvalidEvent):
		return newProblem(http.StatusUnprocessableEntity, "validation", "Invalid value", err.Error())
	case errors.Is(err, app.ErrMediaType):
		return newProblem(http.StatusUnsupportedMediaType, "media-type", "Unsupported media type", err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return newProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", "the request was cancelled or timed out")
	case errors.Is(err, app.ErrUnavailable):
		// The database is down, restarting or unreachable: retry.
		p := newProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", "the database cannot be reached; retry shortly")
		p.retryAfter = "1"
		return p
	}
	return newProblem(http.StatusInternalServerError, "internal", "Internal error", "see the server logs")
}

// importRefused is the 422 of a directory file with errors: one field
// error per error of a line ("line 4, Email"), and the whole report.
func importRefused(e *app.ImportRefusedError) *Problem {
	var fields []FieldError
	for _, l := range e.Report.Lines {
		for _, le := range l.Errors {
			fields = append(fields, FieldError{Field: fmt.Sprintf("line %d, %s", l.Line, le.Column), Message: le.Reason})
		}
	}
	p := newProblem(http.StatusUnprocessableEntity, "import-refused", "Import refused", e.Error(), fields...)
	p.Report = e.Report
	return p
}

// linesProblem is the 422 of a list file with refused lines: each one in
// errors, as field "line N" with its reason.
func linesProblem(e *app.SFRejectedError) *Problem {
	fields := make([]FieldError, len(e.Rejected))
	for i, r := range e.Rejected {
		fields[i] = FieldError{Field: "line " + strconv.Itoa(r.Line), Message: r.Reason}
	}
	return newProblem(http.StatusUnprocessableEntity, "invalid-lines", "Invalid lines", e.Error(), fields...)
}

// forbiddenDetail is a refusal's reason: a *app.ForbiddenError says what
// was refused and why; a bare ErrForbidden says only that.
func forbiddenDetail(err error) string {
	var fe *app.ForbiddenError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}

// writeProblem answers with the problem err maps to, logging server-side
// failures (never their details to the client).
func writeProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := toProblem(err)
	switch {
	case log == nil || p.Status < 500:
	case r.Context().Err() != nil:
		// The client went away: nothing failed on our side.
		log.DebugContext(r.Context(), "request cancelled", "method", r.Method, "path", r.URL.Path, "err", err)
	case errors.As(err, new(*Problem)), errors.Is(err, app.ErrLagging):
		// A refusal we chose (lagging read models, not ready): worth a
		// warning, not an error.
		log.WarnContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", p.Status, "detail", p.Detail)
	default:
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="reso"`)
	}
	if p.retryAfter != "" {
		w.Header().Set("Retry-After", p.retryAfter)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
