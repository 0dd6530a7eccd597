package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/app"
)

// positionHeader carries the global position of a command's last event, to
// pass back as min_position.
const positionHeader = "Reso-Position"

// pathID parses a path parameter; a malformed id names nothing, so it is a
// 404 like an unknown one.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(chi.URLParam(r, name))
	if err != nil {
		return uuid.Nil, newProblem(http.StatusNotFound, "not-found", "Not found", fmt.Sprintf("%s %q is not an id", name, chi.URLParam(r, name)))
	}
	return id, nil
}

// writeResult answers a need command.
func (a *api) writeResult(w http.ResponseWriter, r *http.Request, status int, res app.Result) {
	noteNeed(r.Context(), res.Need.ID)
	w.Header().Set(positionHeader, res.Position.String())
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/needs/"+res.Need.ID.String())
	}
	writeJSON(w, status, res.Need)
}

type contactBody struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type captureBody struct {
	SIRET       string      `json:"siret"`
	CompanyName string      `json:"company_name"`
	NAFCode     string      `json:"naf_code"`
	Commune     string      `json:"commune"`
	PostalCode  string      `json:"postal_code"`
	Subject     string      `json:"subject"`
	Description string      `json:"description"`
	Contact     contactBody `json:"contact"`
}

func (a *api) captureNeed(w http.ResponseWriter, r *http.Request) {
	var b captureBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := a.d.Service.CaptureNeed(r.Context(), principalOf(r.Context()), app.CaptureInput{
		SIRET: b.SIRET, CompanyName: b.CompanyName, NAFCode: b.NAFCode, Commune: b.Commune, PostalCode: b.PostalCode,
		Subject: b.Subject, Description: b.Description,
		Contact: app.Contact{Name: b.Contact.Name, Email: b.Contact.Email, Phone: b.Contact.Phone},
	}, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeResult(w, r, http.StatusCreated, res)
}

func (a *api) getNeed(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var asOf *time.Time
	t, err := timeParam(r, "as_of")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !t.IsZero() {
		asOf = &t
	}
	n, err := a.d.Service.GetNeed(r.Context(), principalOf(r.Context()), id, asOf)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

func (a *api) history(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	events, err := a.d.Service.History(r.Context(), principalOf(r.Context()), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if events == nil {
		events = []app.HistoryEvent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
}

func (a *api) suggestions(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// Suggestions come from the directory read model, which lags the
	// commands that register referents: min_position lets a client see the
	// referents it just created.
	pos, err := minPosition(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.d.Service.WaitForPosition(r.Context(), pos); err != nil {
		a.fail(w, r, err)
		return
	}
	cov, err := a.d.Service.Suggestions(r.Context(), principalOf(r.Context()), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"referents": suggestionViews(cov)})
}

type forwardBody struct {
	ReferentIDs []string `json:"referent_ids"`
}

func (a *api) forward(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var b forwardBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if len(b.ReferentIDs) == 0 {
		a.fail(w, r, invalidField("referent_ids", "at least one referent id"))
		return
	}
	ids := make([]uuid.UUID, len(b.ReferentIDs))
	for i, s := range b.ReferentIDs {
		if ids[i], err = uuid.Parse(s); err != nil {
			a.fail(w, r, invalidField(fmt.Sprintf("referent_ids[%d]", i), "not an id"))
			return
		}
	}
	res, err := a.d.Service.ForwardNeed(r.Context(), principalOf(r.Context()), id, ids, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeResult(w, r, http.StatusOK, res)
}

type matchBody struct {
	Action  string `json:"action"`
	Comment string `json:"comment"`
}

// matchActions are the actions of POST /api/needs/{id}/matches/{referent_id}.
var matchActions = []string{"take_charge", "decline", "done", "done_no_help", "done_not_reachable", "reopen"}

func (a *api) changeMatch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ref, err := pathID(r, "referent_id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var b matchBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if !contains(matchActions, b.Action) {
		a.fail(w, r, invalidField("action", "one of "+strings.Join(matchActions, ", ")))
		return
	}
	res, err := a.d.Service.ChangeMatch(r.Context(), principalOf(r.Context()), id, ref, b.Action, b.Comment, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeResult(w, r, http.StatusOK, res)
}

type commentBody struct {
	Text string `json:"text"`
}

func (a *api) comment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var b commentBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if strings.TrimSpace(b.Text) == "" {
		a.fail(w, r, invalidField("text", "must not be empty"))
		return
	}
	res, err := a.d.Service.Comment(r.Context(), principalOf(r.Context()), id, b.Text, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeResult(w, r, http.StatusOK, res)
}

type reminderBody struct {
	Kind string `json:"kind"`
}

func (a *api) remind(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var b reminderBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if b.Kind != "poke" && b.Kind != "last_chance" {
		a.fail(w, r, invalidField("kind", "one of poke, last_chance"))
		return
	}
	res, err := a.d.Service.Remind(r.Context(), principalOf(r.Context()), id, b.Kind, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeResult(w, r, http.StatusOK, res)
}

type abandonBody struct {
	Reason string `json:"reason"`
}

func (a *api) abandon(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var b abandonBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := a.d.Service.Abandon(r.Context(), principalOf(r.Context()), id, b.Reason, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeResult(w, r, http.StatusOK, res)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
