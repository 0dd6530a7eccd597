package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// pages holds one template set per page: the layout with that page's
// "main" block.
type pages map[string]*template.Template

func mustParsePages() pages {
	base := template.Must(template.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := pages{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, n))
	}
	return out
}

// navItem is one link of the navigation.
type navItem struct {
	Label, Path string
	Current     bool
}

// view is what the layout renders.
type view struct {
	Title     string
	P         app.Principal
	SignedIn  bool
	RoleLabel string
	Nav       []navItem
	Flash     string
	Data      any
}

// nav is the navigation of p's role: the pages the matrix lets it open.
func (c *console) nav(p app.Principal, current string) []navItem {
	if p.Role == "" {
		return nil
	}
	needs := "Besoins"
	if p.Role == domain.RoleAdvisor {
		needs = "Mes besoins"
	}
	items := []struct {
		label, path string
		action      app.Action
		only        domain.Role
	}{
		{"Boîte de réception", "/boite", app.ActionInbox, domain.RoleReferent},
		{"Tableau de bord", "/tableau-de-bord", app.ActionDashboard, ""},
		{"Entreprises à visiter", "/entreprises-a-visiter", app.ActionSFCompanies, ""},
		{needs, "/besoins", app.ActionListNeeds, ""},
		{"Saisir un besoin", "/besoins/nouveau", app.ActionCaptureNeed, ""},
		{"Statistiques", "/statistiques", app.ActionStats, ""},
		{"Annuaire", "/admin/annuaire", app.ActionReadUsers, ""},
		{"Projections", "/admin/projections", app.ActionProjections, ""},
		{"Effacement", "/admin/effacement", app.ActionErase, ""},
		{"Notifications", "/admin/notifications", app.ActionNotifications, ""},
	}
	var out []navItem
	for _, it := range items {
		if !app.Allowed(p.Role, it.action) || (it.only != "" && p.Role != it.only) {
			continue
		}
		out = append(out, navItem{Label: it.label, Path: it.path, Current: current == it.path})
	}
	return out
}

// flashes are the messages a redirect after a form carries (?fait=code).
var flashes = map[string]string{
	"saisi":          "Le besoin a été enregistré. Choisissez maintenant à qui le transmettre.",
	"transmis":       "Le besoin a été transmis aux référents choisis.",
	"positionne":     "Votre positionnement a été enregistré.",
	"commente":       "Votre commentaire a été ajouté.",
	"relance":        "La relance a été envoyée.",
	"abandonne":      "Le besoin a été abandonné.",
	"reconstruction": "La reconstruction a démarré.",
	"efface":         "L'effacement a été effectué.",
	"reessaye":       "Le courriel va être renvoyé dans un instant.",
}

// render writes page name with data, in the layout, with status.
func (c *console) render(w http.ResponseWriter, r *http.Request, p app.Principal, status int, name, title string, data any) {
	t, ok := c.pages[name]
	if !ok {
		c.fail(w, r, p, fmt.Errorf("console: no page %q", name))
		return
	}
	v := view{Title: title, P: p, SignedIn: p.UserID != uuid.Nil, RoleLabel: roleLabel(p.Role),
		Nav: c.nav(p, r.URL.Path), Flash: flashes[r.URL.Query().Get("fait")], Data: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.d.Logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "Erreur du serveur", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	Status  int
	Message string
}

// renderError writes an error page that says what happened, in French.
func (c *console) renderError(w http.ResponseWriter, r *http.Request, p app.Principal, status int, title, message string) {
	c.render(w, r, p, status, "error", title, errorData{Status: status, Message: message})
}

// fail answers with the page err calls for.
func (c *console) fail(w http.ResponseWriter, r *http.Request, p app.Principal, err error) {
	var fe *app.ForbiddenError
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &fe):
		c.renderError(w, r, p, http.StatusForbidden, "Accès refusé", forbiddenMessage(fe))
	case errors.Is(err, app.ErrNotFound):
		c.renderError(w, r, p, http.StatusNotFound, "Introuvable",
			"Ce que vous cherchez n'existe pas, ou ne fait pas partie de ce que votre rôle permet de consulter.")
	case errors.As(err, &ve):
		c.renderError(w, r, p, http.StatusUnprocessableEntity, "Demande invalide", fieldMessage(ve))
	case errors.Is(err, domain.ErrValidation):
		c.renderError(w, r, p, http.StatusUnprocessableEntity, "Demande invalide",
			"Cette demande ne peut pas être servie ainsi : modifiez les filtres et réessayez.")
	case errors.Is(c.d.Service.Classify(err), app.ErrUnavailable):
		w.Header().Set("Retry-After", "1")
		c.renderError(w, r, p, http.StatusServiceUnavailable, "Service momentanément indisponible",
			"La base de données ne répond pas pour l'instant. Réessayez dans quelques secondes.")
	case errors.Is(err, app.ErrLagging):
		c.renderError(w, r, p, http.StatusServiceUnavailable, "Mise à jour en cours",
			"Les listes sont en cours de mise à jour. Réessayez dans quelques secondes.")
	case errors.Is(err, app.ErrUnauthenticated):
		c.renderError(w, r, p, http.StatusUnauthorized, "Compte inconnu", "Ce compte n'existe pas ou plus.")
	default:
		if r.Context().Err() != nil {
			return // the browser went away
		}
		c.d.Logger.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		c.renderError(w, r, p, http.StatusInternalServerError, "Erreur du serveur",
			"Une erreur inattendue s'est produite ; rien n'a été perdu de ce qui était déjà enregistré. Réessayez dans un instant.")
	}
}

// actionWhat says in French what each action does, for refusals.
var actionWhat = map[app.Action]string{
	app.ActionCaptureNeed:    "saisir des besoins",
	app.ActionListNeeds:      "consulter les besoins",
	app.ActionReadNeed:       "consulter les besoins",
	app.ActionSuggestions:    "chercher les référents d'un besoin",
	app.ActionForwardNeed:    "mettre un besoin en relation",
	app.ActionChangeMatch:    "se positionner sur un besoin",
	app.ActionComment:        "commenter un besoin",
	app.ActionRemind:         "relancer les référents",
	app.ActionAbandon:        "abandonner un besoin",
	app.ActionInbox:          "consulter une boîte de réception de référent",
	app.ActionStats:          "consulter les statistiques",
	app.ActionSubjects:       "utiliser Réso",
	app.ActionReadDirectory:  "consulter l'annuaire",
	app.ActionEvents:         "lire le journal des événements",
	app.ActionProjections:    "suivre les projections",
	app.ActionRebuild:        "reconstruire les projections",
	app.ActionCreateUser:     "créer des utilisateurs",
	app.ActionCreateOrg:      "créer des organisations",
	app.ActionCreateReferent: "inscrire des référents",
	app.ActionErase:          "effacer des données personnelles",
	app.ActionReadUsers:      "consulter les utilisateurs",
	app.ActionDashboard:      "consulter le tableau de bord d'un territoire",
	app.ActionSFCompanies:    "consulter les entreprises signalées par Signaux Faibles",
	app.ActionSFFlags:        "voir les alertes Signaux Faibles",
	app.ActionNotifications:  "suivre les envois de courriels",
	app.ActionOutbox:         "lire les courriels de la boîte d'envoi",
}

// forbiddenMessage says why in French.
func forbiddenMessage(fe *app.ForbiddenError) string {
	switch {
	case strings.Contains(fe.Reason, "linked to no referent"):
		return "Votre compte de référent n'est rattaché à aucun référent de l'annuaire : demandez à un administrateur de le corriger."
	case strings.Contains(fe.Reason, "has no territory"):
		return "Aucun territoire ne vous est attribué : demandez à un administrateur de vous en attribuer un."
	case strings.Contains(fe.Reason, "their own inbox"):
		return "Un référent ne consulte que sa propre boîte de réception."
	case strings.Contains(fe.Reason, "their own match"):
		return "Un référent ne se positionne qu'en son propre nom."
	}
	if what, ok := actionWhat[fe.Action]; ok && fe.Role != "" {
		return fmt.Sprintf("Votre rôle (%s) ne permet pas de %s.", roleLabel(fe.Role), what)
	}
	return "Cette action ne vous est pas permise."
}

// fieldMessage says in French what was wrong with a field the service
// refused (the console checks its forms first, so this is rare).
func fieldMessage(ve *domain.ValidationError) string {
	switch ve.Field {
	case "cursor":
		return "Cette page de la liste n'existe plus : revenez au début de la liste."
	case "from", "to":
		return "Les mois se choisissent au format AAAA-MM, le premier avant le second."
	case "subject":
		return "Ce sujet n'existe pas."
	case "status", "basket", "tab":
		return "Ce filtre ne prend pas cette valeur."
	}
	return "La valeur du champ « " + ve.Field + " » a été refusée."
}

// recoverPanic turns a handler's panic into a logged error page.
func (c *console) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				c.d.Logger.ErrorContext(r.Context(), "console handler panicked", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				c.fail(w, r, app.Principal{}, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// static serves the embedded stylesheet and script.
func (c *console) static(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/static/", http.FileServerFS(staticFS())).ServeHTTP(w, r)
}

// accessibility is the accessibility statement.
func (c *console) accessibility(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, c.optionalPrincipal(r), http.StatusOK, "accessibility", "Déclaration d'accessibilité", nil)
}

// home sends each role to its main page.
func (c *console) home(w http.ResponseWriter, r *http.Request, p app.Principal) {
	target := "/besoins"
	switch p.Role {
	case domain.RoleReferent:
		target = "/boite"
	case domain.RoleAnimateur:
		target = "/tableau-de-bord"
	case domain.RoleFunder:
		target = "/statistiques"
	case domain.RoleAdmin:
		target = "/admin/annuaire"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// fieldError is one refused field of a form.
type fieldError struct {
	Field, Message string
}

// formErrors are a form's refused fields, listed at its top and shown next
// to each field.
type formErrors []fieldError

func (fe *formErrors) add(field, msg string) { *fe = append(*fe, fieldError{field, msg}) }

// For is the message of field, "" when it is fine.
func (fe formErrors) For(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Any reports whether a field was refused.
func (fe formErrors) Any() bool { return len(fe) > 0 }
