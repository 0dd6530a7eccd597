package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// step is one step of a need's timeline, in words.
type step struct {
	Version  int64
	At       time.Time
	Label    string
	Actor    string
	Role     domain.Role
	Details  []string
	Selected bool // the state shown is as of this step
}

type historyData struct {
	Need     app.NeedView // today
	Steps    []step
	AsOf     *time.Time
	AsOfText string // the instant field, as typed or set
	State    *app.NeedView
	Matches  []matchLine // of State
	Errors   formErrors
	Before   bool // the instant is before the need existed
}

// eventData is the union of the fields of need events, for the timeline.
type eventData struct {
	SIRET       string `json:"siret"`
	CompanyName string `json:"company_name"`
	Commune     string `json:"commune"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
	Referents   []struct {
		ReferentID uuid.UUID `json:"referent_id"`
	} `json:"referents"`
	ReferentID uuid.UUID `json:"referent_id"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Comment    string    `json:"comment"`
	Text       string    `json:"text"`
	Kind       string    `json:"kind"`
	Reason     string    `json:"reason"`
}

// describe says what a step did.
func describe(h app.HistoryEvent, names map[uuid.UUID]string) []string {
	var e eventData
	if err := json.Unmarshal(h.Data, &e); err != nil {
		return nil
	}
	name := func(id uuid.UUID) string {
		if n := names[id]; n != "" {
			return n
		}
		return "référent " + id.String()[:8]
	}
	switch h.Type {
	case domain.TypeNeedCaptured:
		return []string{e.CompanyName + " (SIRET " + domain.SIRET(e.SIRET).Display() + ")",
			"Sujet : " + subjectLabel(e.Subject), "Commune : " + communeName(e.Commune)}
	case domain.TypeNeedForwarded:
		var ns []string
		for _, r := range e.Referents {
			ns = append(ns, name(r.ReferentID))
		}
		return []string{"Transmis à " + strings.Join(ns, ", ")}
	case domain.TypeMatchStatusChanged:
		out := []string{name(e.ReferentID) + " : " + matchStatusLabel(e.From) + " → " + matchStatusLabel(e.To)}
		if e.Comment != "" {
			out = append(out, "« "+e.Comment+" »")
		}
		return out
	case domain.TypeCommentAdded:
		return []string{"« " + e.Text + " »"}
	case domain.TypeReminderSent:
		return []string{reminderLabel(e.Kind)}
	case domain.TypeNeedAbandoned:
		return []string{"Motif : " + e.Reason}
	case domain.TypeContactErased:
		return []string{"Les coordonnées du contact ont été effacées (RGPD)."}
	}
	return nil
}

// parseInstant reads the instant of ?au=: a step's exact instant
// (RFC 3339) or a datetime-local field's value (Paris time).
func parseInstant(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	return parseLocalInput(s)
}

// history is a need's full history as a timeline, and its state at any
// past instant.
func (c *console) history(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, err := needID(r)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	ctx := r.Context()
	n, err := c.d.Service.GetNeed(ctx, p, id, nil)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	hist, err := c.d.Service.History(ctx, p, id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	names := map[uuid.UUID]string{}
	orgs := map[uuid.UUID]string{}
	if app.Allowed(p.Role, app.ActionReadDirectory) {
		refs, err := c.d.Service.Referents(ctx, p)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		for _, rf := range refs {
			names[rf.ID], orgs[rf.OrganisationID] = rf.Name, rf.OrganisationName
		}
	}
	d := historyData{Need: n}
	status := http.StatusOK
	if s := r.URL.Query().Get("au"); s != "" {
		if t, ok := parseInstant(s); ok {
			d.AsOf = &t
			d.AsOfText = toLocalInput(t)
		} else {
			d.AsOfText = s
			d.Errors.add("au", "Saisissez une date et une heure, par exemple 12/03/2026 14:05.")
			status = http.StatusUnprocessableEntity
		}
	}
	for _, h := range hist {
		st := step{Version: h.Version, At: h.OccurredAt, Label: eventLabel(h.Type), Actor: h.Actor.Name, Role: h.Actor.Role,
			Details: describe(h, names)}
		if label, details, ok := notificationStep(h); ok {
			st.Label, st.Details = label, details
		}
		if d.AsOf != nil && !h.OccurredAt.After(*d.AsOf) {
			// The last step at or before the instant is the one shown.
			for i := range d.Steps {
				d.Steps[i].Selected = false
			}
			st.Selected = true
		}
		d.Steps = append(d.Steps, st)
	}
	if d.AsOf != nil {
		state, err := c.d.Service.GetNeed(ctx, p, id, d.AsOf)
		switch {
		case err == nil:
			d.State = &state
			for _, m := range state.Matches {
				d.Matches = append(d.Matches, matchLine{MatchView: m, Name: names[m.ReferentID], OrganisationName: orgs[m.OrganisationID]})
			}
		case errors.Is(err, app.ErrNotFound):
			d.Before = true
		default:
			c.fail(w, r, p, err)
			return
		}
	}
	c.render(w, r, p, status, "history", "Historique du besoin – "+n.CompanyName, d)
}
