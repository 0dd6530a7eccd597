package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// The admins' notifications page (issue 15): the deliveries that failed,
// each with a button to try again, and, on a server without a mail server
// (the demo), the mails written to its outbox, each readable as text.

// deliveryLine is a failed delivery, its recipient named.
type deliveryLine struct {
	app.NotificationView
	Recipient string
}

type notificationsData struct {
	Failed []deliveryLine
	Outbox app.OutboxPage
}

// outboxShown is how many of the outbox's newest mails the page lists.
const outboxShown = 200

// notifications lists the failed deliveries and the outbox.
func (c *console) notifications(w http.ResponseWriter, r *http.Request, p app.Principal) {
	ctx := r.Context()
	failed, err := c.d.Service.ListNotifications(ctx, p, app.NotificationFilter{Status: app.NotificationFailed, Limit: 1000})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	var d notificationsData
	if len(failed) > 0 {
		names, err := c.recipientNames(r, p)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		for _, f := range failed {
			d.Failed = append(d.Failed, deliveryLine{NotificationView: f, Recipient: recipientLabel(f.To, names)})
		}
	}
	if d.Outbox, err = c.d.Service.OutboxMails(ctx, p, outboxShown); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, p, http.StatusOK, "notifications", "Notifications", d)
}

// recipientNames names the referents and users a delivery may go to.
func (c *console) recipientNames(r *http.Request, p app.Principal) (map[uuid.UUID]string, error) {
	refs, err := c.d.Service.Referents(r.Context(), p)
	if err != nil {
		return nil, err
	}
	users, err := c.d.Service.Users(r.Context(), p)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]string, len(refs)+len(users))
	for _, rf := range refs {
		out[rf.ID] = rf.Name + " (référent, " + rf.OrganisationName + ")"
	}
	for _, u := range users {
		out[u.ID] = u.Name + " (" + roleLabel(u.Role) + ")"
	}
	return out, nil
}

// recipientLabel names a delivery's recipient; a company contact stays
// unnamed (its name and address are sealed in the need).
func recipientLabel(to app.NotificationRecipient, names map[uuid.UUID]string) string {
	if to.Role == domain.RecipientContact || to.ID == nil {
		return "Contact de l'entreprise"
	}
	if n, ok := names[*to.ID]; ok {
		return n
	}
	if to.Role == domain.RecipientReferent {
		return "Référent " + to.ID.String()[:8]
	}
	return "Utilisateur " + to.ID.String()[:8]
}

// retryNotification makes a failed delivery try again at once.
func (c *console) retryNotification(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, p, app.ErrNotFound)
		return
	}
	err = c.once(w, r, p, func(app.CommandMeta) (string, error) {
		if _, err := c.d.Service.RetryNotification(r.Context(), p, id); err != nil {
			return "", err
		}
		return "/admin/notifications?fait=reessaye", nil
	})
	if err != nil {
		c.fail(w, r, p, err)
	}
}

type outboxMailData struct {
	Mail app.OutboxMail
}

// outboxMail shows one mail of the outbox as plain text: never its HTML,
// which the template would have to trust.
func (c *console) outboxMail(w http.ResponseWriter, r *http.Request, p app.Principal) {
	m, err := c.d.Service.OutboxMail(r.Context(), p, chi.URLParam(r, "id"))
	if errors.Is(err, app.ErrNotFound) {
		c.renderError(w, r, p, http.StatusNotFound, "Courriel introuvable",
			"Ce courriel n'est pas (ou plus) dans la boîte d'envoi de ce serveur.")
		return
	}
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	title := "Courriel"
	if m.Subject != "" {
		title = "Courriel : " + m.Subject
	}
	c.render(w, r, p, http.StatusOK, "outbox_mail", title, outboxMailData{Mail: m})
}

// deliveryState says where a failed delivery stands.
func deliveryState(v app.NotificationView) string {
	if v.Status == app.NotificationRetrying {
		return "Nouvelle tentative prévue"
	}
	return "Abandonné"
}

// notificationData is what the timeline reads of a notification event.
type notificationData struct {
	Kind domain.NotificationKind `json:"kind"`
	To   struct {
		Role domain.RecipientRole `json:"role"`
		Name string               `json:"name"`
	} `json:"to"`
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
	Final   bool   `json:"final"`
}

// notificationStep names a mail step of a need's timeline and says what
// it was: ok is false for every other step.
func notificationStep(h app.HistoryEvent) (label string, details []string, ok bool) {
	if h.Type != domain.TypeNotificationSent && h.Type != domain.TypeNotificationFailed {
		return "", nil, false
	}
	var e notificationData
	_ = json.Unmarshal(h.Data, &e) // a step without details beats no step
	to := e.To.Name
	switch {
	case e.To.Role == domain.RecipientContact:
		to = "le contact de l'entreprise"
	case to == "":
		to = "un destinataire"
	}
	details = []string{"« " + notificationKindLabel(e.Kind) + " » à " + to}
	if h.Type == domain.TypeNotificationSent {
		return "Courriel envoyé", details, true
	}
	details = append(details, "Tentative "+strconv.Itoa(e.Attempt)+" : "+e.Error)
	if e.Final {
		details = append(details, "Plus de nouvelle tentative : un administrateur peut relancer l'envoi (page Notifications).")
	}
	return "Échec de l'envoi d'un courriel", details, true
}
