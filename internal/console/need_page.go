package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// matchLine is a referent's position on a need, named.
type matchLine struct {
	app.MatchView
	Name, OrganisationName string
	Mine                   bool
}

// message is one entry of a need's discussion thread.
type message struct {
	At     time.Time
	Author string
	Role   domain.Role
	Text   string
	Kind   string // "comment", or the position a declining referent wrote it with
}

type needPageData struct {
	Need    app.NeedView
	Matches []matchLine
	Thread  []message
	Mine    *matchLine // the signed-in referent's match
	Actions []string   // what Mine allows now

	CanForward, CanComment, CanRemind, CanAbandon, CanHistory bool
	Basket                                                    string

	Errors                                  formErrors
	CommentText, AbandonReason, PositionTxt string
	KeyPosition, KeyComment, KeyRemind      string
	KeyAbandon                              string
}

// needData gathers what the need page shows.
func (c *console) needData(r *http.Request, p app.Principal, id uuid.UUID) (needPageData, error) {
	ctx := r.Context()
	n, err := c.d.Service.GetNeed(ctx, p, id, nil)
	if err != nil {
		return needPageData{}, err
	}
	hist, err := c.d.Service.History(ctx, p, id)
	if err != nil {
		return needPageData{}, err
	}
	names := map[uuid.UUID]string{}
	orgs := map[uuid.UUID]string{}
	if app.Allowed(p.Role, app.ActionReadDirectory) {
		refs, err := c.d.Service.Referents(ctx, p)
		if err != nil {
			return needPageData{}, err
		}
		for _, rf := range refs {
			names[rf.ID] = rf.Name
			orgs[rf.OrganisationID] = rf.OrganisationName
		}
	}
	d := needPageData{Need: n, KeyPosition: newKey(), KeyComment: newKey(), KeyRemind: newKey(), KeyAbandon: newKey()}
	for _, m := range n.Matches {
		ml := matchLine{MatchView: m, Name: names[m.ReferentID], OrganisationName: orgs[m.OrganisationID],
			Mine: p.Role == domain.RoleReferent && m.ReferentID == p.ReferentID}
		d.Matches = append(d.Matches, ml)
		if ml.Mine {
			mine := ml
			d.Mine = &mine
			d.Actions = actionsFrom(m.Status)
		}
	}
	for _, h := range hist {
		switch h.Type {
		case domain.TypeCommentAdded:
			var e struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(h.Data, &e) == nil {
				d.Thread = append(d.Thread, message{At: h.OccurredAt, Author: h.Actor.Name, Role: h.Actor.Role, Text: e.Text, Kind: "comment"})
			}
		case domain.TypeMatchStatusChanged:
			var e struct {
				To      string `json:"to"`
				Comment string `json:"comment"`
			}
			if json.Unmarshal(h.Data, &e) == nil && e.Comment != "" {
				d.Thread = append(d.Thread, message{At: h.OccurredAt, Author: h.Actor.Name, Role: h.Actor.Role, Text: e.Comment, Kind: e.To})
			}
		}
	}
	abandoned := n.Status == domain.NeedAbandonedStatus
	engaged := false
	for _, m := range n.Matches {
		engaged = engaged || m.Status.Engaged()
	}
	d.CanForward = app.Allowed(p.Role, app.ActionForwardNeed) && !abandoned
	d.CanComment = app.Allowed(p.Role, app.ActionComment)
	d.CanRemind = app.Allowed(p.Role, app.ActionRemind) && !abandoned && len(n.Matches) > 0 && !engaged
	d.CanAbandon = app.Allowed(p.Role, app.ActionAbandon) && !abandoned && !engaged
	d.CanHistory = app.Allowed(p.Role, app.ActionReadNeed)
	if n.ForwardedAt != nil && !abandoned && !engaged {
		d.Basket = string(domain.BasketFor(*n.ForwardedAt, true, c.d.Now(), domain.DefaultThresholds()))
	}
	return d, nil
}

// needPage is a need: company, description, contact, the referents'
// positions, what the signed-in person may do now, and the discussion.
func (c *console) needPage(w http.ResponseWriter, r *http.Request, p app.Principal) {
	c.showNeed(w, r, p, http.StatusOK, func(*needPageData) {})
}

// showNeed renders the need page, after edit fills in a refused form.
func (c *console) showNeed(w http.ResponseWriter, r *http.Request, p app.Principal, status int, edit func(*needPageData)) {
	id, err := needID(r)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	d, err := c.needData(r, p, id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	edit(&d)
	c.render(w, r, p, status, "need", d.Need.CompanyName, d)
}

// refused shows the need page again with what was typed and why the
// command was refused; errors that are not the user's go to fail.
func (c *console) refused(w http.ResponseWriter, r *http.Request, p app.Principal, field string, err error, keep func(*needPageData)) {
	msg := commandMessage(err)
	if msg == "" {
		c.fail(w, r, p, err)
		return
	}
	c.showNeed(w, r, p, http.StatusUnprocessableEntity, func(d *needPageData) {
		d.Errors.add(field, msg)
		keep(d)
	})
}

// position records a referent's position on their match.
func (c *console) position(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, err := needID(r)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	action, text := r.PostFormValue("action"), r.PostFormValue("commentaire")
	referent := p.ReferentID
	if p.Role == domain.RoleAdmin {
		if rid, err := uuid.Parse(r.PostFormValue("referent")); err == nil {
			referent = rid
		}
	}
	keep := func(d *needPageData) { d.PositionTxt, d.KeyPosition = text, r.PostFormValue(formKeyField) }
	if _, ok := actionLabels[action]; !ok {
		c.showNeed(w, r, p, http.StatusUnprocessableEntity, func(d *needPageData) {
			d.Errors.add("position", "Choisissez une des actions proposées.")
			keep(d)
		})
		return
	}
	if utf8.RuneCountInString(text) > domain.MaxCommentLen {
		c.showNeed(w, r, p, http.StatusUnprocessableEntity, func(d *needPageData) {
			d.Errors.add("position", "Le commentaire est trop long.")
			keep(d)
		})
		return
	}
	err = c.once(w, r, p, func(m app.CommandMeta) (string, error) {
		if _, err := c.d.Service.ChangeMatch(r.Context(), p, id, referent, action, strings.TrimSpace(text), m); err != nil {
			return "", err
		}
		return "/besoins/" + id.String() + "?fait=positionne", nil
	})
	if err != nil {
		c.refused(w, r, p, "position", err, keep)
	}
}

// comment adds a message to the discussion.
func (c *console) comment(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, err := needID(r)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	text := r.PostFormValue("texte")
	keep := func(d *needPageData) { d.CommentText, d.KeyComment = text, r.PostFormValue(formKeyField) }
	var msg string
	switch {
	case strings.TrimSpace(text) == "":
		msg = "Écrivez votre commentaire avant de l'envoyer."
	case utf8.RuneCountInString(text) > domain.MaxCommentLen:
		msg = "Le commentaire est trop long."
	}
	if msg != "" {
		c.showNeed(w, r, p, http.StatusUnprocessableEntity, func(d *needPageData) { d.Errors.add("texte", msg); keep(d) })
		return
	}
	err = c.once(w, r, p, func(m app.CommandMeta) (string, error) {
		if _, err := c.d.Service.Comment(r.Context(), p, id, text, m); err != nil {
			return "", err
		}
		return "/besoins/" + id.String() + "?fait=commente#discussion", nil
	})
	if err != nil {
		c.refused(w, r, p, "texte", err, keep)
	}
}

// remind sends a reminder to the referents who have not answered.
func (c *console) remind(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, err := needID(r)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	kind := r.PostFormValue("type")
	keep := func(d *needPageData) { d.KeyRemind = r.PostFormValue(formKeyField) }
	if kind != "poke" && kind != "last_chance" {
		c.showNeed(w, r, p, http.StatusUnprocessableEntity, func(d *needPageData) {
			d.Errors.add("type", "Choisissez le type de relance.")
			keep(d)
		})
		return
	}
	err = c.once(w, r, p, func(m app.CommandMeta) (string, error) {
		if _, err := c.d.Service.Remind(r.Context(), p, id, kind, m); err != nil {
			return "", err
		}
		return "/besoins/" + id.String() + "?fait=relance", nil
	})
	if err != nil {
		c.refused(w, r, p, "type", err, keep)
	}
}

// abandon gives the need up, with a reason.
func (c *console) abandon(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, err := needID(r)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	reason := r.PostFormValue("motif")
	keep := func(d *needPageData) { d.AbandonReason, d.KeyAbandon = reason, r.PostFormValue(formKeyField) }
	if strings.TrimSpace(reason) == "" || utf8.RuneCountInString(reason) > domain.MaxCommentLen {
		c.showNeed(w, r, p, http.StatusUnprocessableEntity, func(d *needPageData) {
			d.Errors.add("motif", "Indiquez pourquoi le besoin est abandonné.")
			keep(d)
		})
		return
	}
	err = c.once(w, r, p, func(m app.CommandMeta) (string, error) {
		if _, err := c.d.Service.Abandon(r.Context(), p, id, reason, m); err != nil {
			return "", err
		}
		return "/besoins/" + id.String() + "?fait=abandonne", nil
	})
	if err != nil {
		c.refused(w, r, p, "motif", err, keep)
	}
}
