package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// captureValues is what the capture form holds, as typed.
type captureValues struct {
	SIRET, CompanyName, Commune, Subject, Description string
	ContactName, ContactEmail, ContactPhone           string
}

type captureData struct {
	V          captureValues
	Errors     formErrors
	Subjects   []subjectGroup
	Candidates []option // communes to choose from when the typed one is ambiguous
	Key        string
}

func (c *console) captureForm(w http.ResponseWriter, r *http.Request, p app.Principal) {
	c.render(w, r, p, http.StatusOK, "capture", "Saisir un besoin", captureData{Subjects: subjectGroups(""), Key: newKey()})
}

func newKey() string { return uuid.Must(uuid.NewV7()).String() }

// siretMessage says in French what is wrong with a SIRET, "" when it is
// valid.
func siretMessage(s string) string {
	if strings.TrimSpace(s) == "" {
		return "Saisissez le SIRET de l'établissement (14 chiffres)."
	}
	_, err := domain.ParseSIRET(s)
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		return ""
	}
	switch {
	case strings.Contains(ve.Message, "only digits"):
		return "Le SIRET ne contient que des chiffres (les espaces sont acceptés)."
	case strings.Contains(ve.Message, "must have"):
		n := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		return fmt.Sprintf("Le SIRET compte 14 chiffres ; vous en avez saisi %d.", n)
	}
	return "Ce SIRET n'existe pas : sa clé de contrôle est fausse. Vérifiez chaque chiffre."
}

// checkCapture checks every field in French, so that the form lists all
// its errors at once; it returns the commune chosen.
func (c *console) checkCapture(v captureValues, fe *formErrors) (string, []domain.Commune) {
	if m := siretMessage(v.SIRET); m != "" {
		fe.add("siret", m)
	}
	if strings.TrimSpace(v.CompanyName) == "" {
		fe.add("company_name", "Saisissez le nom de l'entreprise.")
	} else if utf8.RuneCountInString(v.CompanyName) > domain.MaxCompanyNameLen {
		fe.add("company_name", fmt.Sprintf("Le nom compte au plus %d caractères.", domain.MaxCompanyNameLen))
	}
	var commune string
	var cands []domain.Commune
	if strings.TrimSpace(v.Commune) == "" {
		fe.add("commune", "Saisissez la commune de l'établissement : son nom ou son code postal.")
	} else {
		cm, cs := c.geo.resolve(v.Commune)
		switch {
		case cm.Code != "":
			commune = cm.Code
		case len(cs) == 0:
			fe.add("commune", "Aucune commune ne correspond à « "+strings.TrimSpace(v.Commune)+" ». Vérifiez l'orthographe ou saisissez le code postal.")
		default:
			cands = cs
			fe.add("commune", "Plusieurs communes correspondent : choisissez la bonne dans la liste.")
		}
	}
	if _, ok := domain.SubjectByCode(v.Subject); !ok {
		fe.add("subject", "Choisissez le sujet du besoin.")
	}
	if strings.TrimSpace(v.Description) == "" {
		fe.add("description", "Décrivez le besoin de l'entreprise.")
	} else if utf8.RuneCountInString(v.Description) > domain.MaxDescriptionLen {
		fe.add("description", fmt.Sprintf("La description compte au plus %d caractères.", domain.MaxDescriptionLen))
	}
	name, email := strings.TrimSpace(v.ContactName), strings.TrimSpace(v.ContactEmail)
	if name == "" && email == "" {
		fe.add("contact_name", "Saisissez le nom ou l'adresse électronique de la personne à contacter.")
	}
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			fe.add("contact_email", "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.")
		}
	}
	if ph := strings.TrimSpace(v.ContactPhone); ph != "" {
		digits := 0
		for _, r := range ph {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case strings.ContainsRune(" .+-()", r):
			default:
				digits = -100
			}
		}
		if digits < 10 || digits > 15 {
			fe.add("contact_phone", "Saisissez un numéro de téléphone de 10 chiffres, par exemple 03 20 00 00 00.")
		}
	}
	return commune, cands
}

// capture records a need, then sends the advisor to choose its referents.
func (c *console) capture(w http.ResponseWriter, r *http.Request, p app.Principal) {
	v := captureValues{
		SIRET: r.PostFormValue("siret"), CompanyName: r.PostFormValue("company_name"), Commune: r.PostFormValue("commune"),
		Subject: r.PostFormValue("subject"), Description: r.PostFormValue("description"),
		ContactName: r.PostFormValue("contact_name"), ContactEmail: r.PostFormValue("contact_email"), ContactPhone: r.PostFormValue("contact_phone"),
	}
	d := captureData{V: v, Key: r.PostFormValue(formKeyField)}
	if d.Key == "" {
		d.Key = newKey()
	}
	commune, cands := c.checkCapture(v, &d.Errors)
	show := func(status int) {
		d.Subjects = subjectGroups(v.Subject)
		for _, cm := range cands {
			d.Candidates = append(d.Candidates, option{Value: communeLabel(cm), Label: communeLabel(cm) + " – " + cm.Code})
		}
		c.render(w, r, p, status, "capture", "Saisir un besoin", d)
	}
	if d.Errors.Any() {
		show(http.StatusUnprocessableEntity)
		return
	}
	err := c.once(w, r, p, func(m app.CommandMeta) (string, error) {
		res, err := c.d.Service.CaptureNeed(r.Context(), p, app.CaptureInput{
			SIRET: v.SIRET, CompanyName: v.CompanyName, Commune: commune, Subject: v.Subject, Description: v.Description,
			Contact: app.Contact{Name: strings.TrimSpace(v.ContactName), Email: strings.TrimSpace(v.ContactEmail), Phone: strings.TrimSpace(v.ContactPhone)},
		}, m)
		if err != nil {
			return "", err
		}
		return "/besoins/" + res.Need.ID.String() + "/mise-en-relation?fait=saisi", nil
	})
	var ve *domain.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve):
		d.Errors.add(ve.Field, fieldMessage(ve))
		show(http.StatusUnprocessableEntity)
	default:
		c.fail(w, r, p, err)
	}
}

type suggestion struct {
	ReferentID       uuid.UUID
	Name             string
	OrganisationName string
	Zones            []domain.Zone
	Matched          bool // already forwarded to
}

type forwardData struct {
	Need        app.NeedView
	Suggestions []suggestion
	Errors      formErrors
	Key         string
}

// needID reads the {id} of a need's URL; a malformed one is a need that
// does not exist.
func needID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return uuid.Nil, app.ErrNotFound
	}
	return id, nil
}

func (c *console) forwardData(r *http.Request, p app.Principal, id uuid.UUID) (forwardData, error) {
	n, err := c.d.Service.GetNeed(r.Context(), p, id, nil)
	if err != nil {
		return forwardData{}, err
	}
	covs, err := c.d.Service.Suggestions(r.Context(), p, id)
	if err != nil {
		return forwardData{}, err
	}
	names, err := c.orgNames(r, p)
	if err != nil {
		return forwardData{}, err
	}
	matched := map[uuid.UUID]bool{}
	for _, m := range n.Matches {
		matched[m.ReferentID] = true
	}
	d := forwardData{Need: n, Key: newKey()}
	for _, cv := range covs {
		d.Suggestions = append(d.Suggestions, suggestion{ReferentID: cv.ReferentID, Name: cv.Name,
			OrganisationName: names[cv.OrganisationID], Zones: cv.Zones, Matched: matched[cv.ReferentID]})
	}
	return d, nil
}

// orgNames names the organisations of the directory.
func (c *console) orgNames(r *http.Request, p app.Principal) (map[uuid.UUID]string, error) {
	orgs, err := c.d.Service.Organisations(r.Context(), p)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]string, len(orgs))
	for _, o := range orgs {
		out[o.ID] = o.Name
	}
	return out, nil
}

// forwardForm lists the referents routing suggests, to choose from.
func (c *console) forwardForm(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, err := needID(r)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	d, err := c.forwardData(r, p, id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, p, http.StatusOK, "forward", "Mise en relation – "+d.Need.CompanyName, d)
}

// forward sends the need to the referents chosen.
func (c *console) forward(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, err := needID(r)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, p, err)
		return
	}
	var refs []uuid.UUID
	for _, s := range r.PostForm["referents"] {
		if rid, err := uuid.Parse(s); err == nil {
			refs = append(refs, rid)
		}
	}
	showErr := func(msg string) {
		d, err := c.forwardData(r, p, id)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		d.Key = r.PostFormValue(formKeyField)
		d.Errors.add("referents", msg)
		c.render(w, r, p, http.StatusUnprocessableEntity, "forward", "Mise en relation – "+d.Need.CompanyName, d)
	}
	if len(refs) == 0 {
		showErr("Cochez au moins un référent à qui transmettre le besoin.")
		return
	}
	err = c.once(w, r, p, func(m app.CommandMeta) (string, error) {
		if _, err := c.d.Service.ForwardNeed(r.Context(), p, id, refs, m); err != nil {
			return "", err
		}
		return "/besoins/" + id.String() + "?fait=transmis", nil
	})
	if err != nil {
		if msg := commandMessage(err); msg != "" {
			showErr(msg)
			return
		}
		c.fail(w, r, p, err)
	}
}

// commandMessage says in French why the domain refused a command, "" for
// errors that are not the user's to fix.
func commandMessage(err error) string {
	var te *domain.TransitionError
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("Cette action n'est plus possible : le positionnement est maintenant « %s ». Rechargez la page.", te.From.Label())
	case errors.Is(err, domain.ErrAlreadyMatched):
		return "Un des référents choisis a déjà reçu ce besoin."
	case errors.Is(err, domain.ErrNeedAbandoned):
		return "Ce besoin a été abandonné : il n'accepte plus cette action."
	case errors.Is(err, domain.ErrAbandonRefused):
		return "Ce besoin ne peut plus être abandonné : un référent l'a pris en charge."
	case errors.Is(err, domain.ErrNotForwarded):
		return "Ce besoin n'a encore été transmis à personne : il n'y a personne à relancer."
	case errors.Is(err, domain.ErrMatchNotFound):
		return "Vous n'êtes pas référent sur ce besoin."
	case errors.Is(err, app.ErrConflict):
		return "Le besoin a été modifié plusieurs fois en même temps ; réessayez."
	case errors.As(err, &ve):
		switch ve.Field {
		case "referent_ids":
			return "Un des référents choisis n'existe plus ou n'est plus actif."
		case "kind":
			return "Choisissez le type de relance."
		}
		return fieldMessage(ve)
	}
	return ""
}
