package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

type directoryData struct {
	Orgs      []app.OrganisationRow
	Referents []app.ReferentRow
	Users     []app.UserRow
	Tab       string
}

// directory is the admins' directory: organisations, referents with
// their subjects and zones, users.
func (c *console) directory(w http.ResponseWriter, r *http.Request, p app.Principal) {
	ctx := r.Context()
	d := directoryData{Tab: r.URL.Query().Get("onglet")}
	var err error
	switch d.Tab {
	case "referents":
		d.Referents, err = c.d.Service.Referents(ctx, p)
	case "utilisateurs":
		d.Users, err = c.d.Service.Users(ctx, p)
	default:
		d.Tab = "organisations"
		d.Orgs, err = c.d.Service.Organisations(ctx, p)
	}
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, p, http.StatusOK, "directory", "Annuaire", d)
}

// projectionLine is a projection's status with its last rebuild.
type projectionLine struct {
	app.ProjectionStatus
	Rebuild *app.RebuildState
	Percent int
}

type projectionsData struct {
	Lines   []projectionLine
	Running bool
	Errors  formErrors
	Key     string
}

func (c *console) projectionLines(r *http.Request, p app.Principal) ([]projectionLine, bool, error) {
	sts, err := c.d.Service.ProjectionStatuses(r.Context(), p)
	if err != nil {
		return nil, false, err
	}
	rbs, err := c.d.Service.Rebuilds(p)
	if err != nil {
		return nil, false, err
	}
	running := false
	var out []projectionLine
	for _, s := range sts {
		l := projectionLine{ProjectionStatus: s}
		if rb, ok := rbs[s.Name]; ok {
			rb := rb
			l.Rebuild = &rb
			running = running || rb.Running
			if rb.Progress.Total > 0 {
				l.Percent = int(min(100, rb.Progress.Events*100/rb.Progress.Total))
			}
			if !rb.Running && rb.Err == "" {
				l.Percent = 100
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, running, nil
}

// projections shows each projection's position, lag and state, with a
// rebuild button and the progress of a rebuild under way.
func (c *console) projections(w http.ResponseWriter, r *http.Request, p app.Principal) {
	lines, running, err := c.projectionLines(r, p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, p, http.StatusOK, "projections", "Projections", projectionsData{Lines: lines, Running: running, Key: newKey()})
}

// rebuildJSON is what the script polls to show a rebuild's progress.
type rebuildJSON struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Lag      string `json:"lag"`
	Running  bool   `json:"running"`
	Percent  int    `json:"percent"`
	Text     string `json:"text"`
	Finished bool   `json:"finished"`
}

// projectionsState answers the progress script.
func (c *console) projectionsState(w http.ResponseWriter, r *http.Request, p app.Principal) {
	lines, _, err := c.projectionLines(r, p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	out := []rebuildJSON{}
	for _, l := range lines {
		out = append(out, rebuildJSON{Name: l.Name, State: stateLabel(l.State), Lag: lagText(l.ProjectionStatus),
			Running: l.Rebuild != nil && l.Rebuild.Running, Percent: l.Percent, Text: rebuildText(l.Rebuild),
			Finished: l.Rebuild != nil && !l.Rebuild.Running})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// stateLabel names a projection's state.
func stateLabel(s string) string {
	switch s {
	case "running":
		return "À jour en continu"
	case "stopped":
		return "Arrêtée"
	case "failed":
		return "En échec"
	case "rebuilding":
		return "En reconstruction"
	case "standby":
		return "En attente (une autre instance la tient)"
	}
	return s
}

// lagText is a projection's lag in words.
func lagText(s app.ProjectionStatus) string {
	if s.LagEvents == 0 {
		return "à jour"
	}
	return frInt(s.LagEvents) + " événements (" + frDecimal(s.LagSeconds, 1) + " s)"
}

// rebuildText says where a rebuild stands.
func rebuildText(rb *app.RebuildState) string {
	switch {
	case rb == nil:
		return ""
	case rb.Running:
		pr := rb.Progress
		phase := "lecture du journal"
		if pr.Phase == "swap" {
			phase = "bascule"
		}
		return "En cours (" + phase + ") : " + frInt(pr.Events) + " événements sur " + frInt(pr.Total) + "."
	case rb.Err != "":
		return "Échec : " + rb.Err
	case rb.EndedAt != nil:
		return "Terminée le " + frDateTime(*rb.EndedAt) + " en " + frDecimal(rb.EndedAt.Sub(rb.StartedAt).Seconds(), 1) + " s."
	}
	return ""
}

// rebuild starts rebuilding a projection.
func (c *console) rebuild(w http.ResponseWriter, r *http.Request, p app.Principal) {
	name := chi.URLParam(r, "name")
	err := c.once(w, r, p, func(app.CommandMeta) (string, error) {
		if err := c.d.Service.StartRebuild(r.Context(), p, name); err != nil {
			return "", err
		}
		return "/admin/projections?fait=reconstruction#projection-" + name, nil
	})
	if err == nil {
		return
	}
	var msg string
	switch {
	case errors.Is(err, app.ErrRebuildRunning):
		msg = "Une reconstruction est déjà en cours : attendez qu'elle se termine."
	case errors.Is(err, app.ErrNotFound):
		msg = "Cette projection n'existe pas."
	default:
		c.fail(w, r, p, err)
		return
	}
	lines, running, lerr := c.projectionLines(r, p)
	if lerr != nil {
		c.fail(w, r, p, lerr)
		return
	}
	d := projectionsData{Lines: lines, Running: running, Key: newKey()}
	d.Errors.add("reconstruction", msg)
	c.render(w, r, p, http.StatusConflict, "projections", "Projections", d)
}

type eraseData struct {
	Email, SIRET string
	Errors       formErrors
	Key          string
	Keys, Needs  string // what the last erasure did, as shown after it
}

func (c *console) eraseForm(w http.ResponseWriter, r *http.Request, p app.Principal) {
	d := eraseData{Key: newKey(), Keys: r.URL.Query().Get("cles"), Needs: r.URL.Query().Get("besoins")}
	c.render(w, r, p, http.StatusOK, "erase", "Effacement d'un contact", d)
}

// erase deletes the keys of a contact (by email) or of every contact of a
// SIRET: their data can no longer be read, history keeps every step.
func (c *console) erase(w http.ResponseWriter, r *http.Request, p app.Principal) {
	d := eraseData{Email: strings.TrimSpace(r.PostFormValue("courriel")), SIRET: strings.TrimSpace(r.PostFormValue("siret")),
		Key: r.PostFormValue(formKeyField)}
	switch {
	case d.Email == "" && d.SIRET == "":
		d.Errors.add("courriel", "Saisissez l'adresse électronique du contact, ou un SIRET.")
	case d.Email != "" && d.SIRET != "":
		d.Errors.add("courriel", "Saisissez soit une adresse électronique, soit un SIRET, pas les deux.")
	case d.Email != "":
		if _, err := mail.ParseAddress(d.Email); err != nil {
			d.Errors.add("courriel", "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.")
		}
	default:
		if m := siretMessage(d.SIRET); m != "" {
			d.Errors.add("siret", m)
		}
	}
	if r.PostFormValue("confirmation") != "oui" {
		d.Errors.add("confirmation", "Cochez la case pour confirmer : l'effacement est définitif.")
	}
	if d.Errors.Any() {
		c.render(w, r, p, http.StatusUnprocessableEntity, "erase", "Effacement d'un contact", d)
		return
	}
	err := c.once(w, r, p, func(m app.CommandMeta) (string, error) {
		res, _, err := c.d.Service.Erase(r.Context(), p, app.EraseInput{ContactEmail: d.Email, SIRET: d.SIRET}, m)
		if err != nil {
			return "", err
		}
		return "/admin/effacement?fait=efface&cles=" + frInt(int64(res.Keys)) + "&besoins=" + frInt(int64(res.Needs)), nil
	})
	var ve *domain.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve):
		d.Errors.add("courriel", fieldMessage(ve))
		c.render(w, r, p, http.StatusUnprocessableEntity, "erase", "Effacement d'un contact", d)
	default:
		c.fail(w, r, p, err)
	}
}
