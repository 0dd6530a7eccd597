package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/mail"
	"github.com/reso-fr/reso/projections/needs"
)

// errSkip means a delivery has nothing left to send: the contact was
// erased, the referent acted since, the digest is empty. It is not a
// failure.
type errSkip struct{ why string }

func (e errSkip) Error() string { return "nothing to send: " + e.why }

func skip(format string, args ...any) error { return errSkip{fmt.Sprintf(format, args...)} }

// composed is a mail ready to go, with who it goes to for the record.
type composed struct {
	msg mail.Message
	to  domain.Recipient
}

// needView is a need as the mail speaks of it: as of the cause, and now.
type needView struct {
	id       uuid.UUID
	at, now  *domain.Need
	events   []domain.Event // the whole stream
	company  string
	subject  string
	commune  string
	advisor  string
	link     string
	captured domain.NeedCaptured
}

func (n *Notifier) loadNeedView(ctx context.Context, id uuid.UUID, version int64) (*needView, error) {
	nl, err := n.readNeed(ctx, id)
	if err != nil {
		return nil, err
	}
	if version < 1 || int(version) > len(nl.events) {
		version = int64(len(nl.events))
	}
	at, err := domain.FoldNeed(id, nl.events[:version])
	if err != nil {
		return nil, fmt.Errorf("notify: fold need %s: %w", id, err)
	}
	now, err := domain.FoldNeed(id, nl.events)
	if err != nil {
		return nil, fmt.Errorf("notify: fold need %s: %w", id, err)
	}
	c := at.Captured()
	v := &needView{id: id, at: at, now: now, events: nl.events, captured: c, company: c.CompanyName,
		subject: c.Subject, commune: c.Commune, link: n.cfg.BaseURL + "/besoins/" + id.String()}
	if s, ok := domain.SubjectByCode(c.Subject); ok {
		v.subject = s.Label
	}
	if cm, ok := n.cfg.Geography.Commune(c.Commune); ok {
		v.commune = cm.Name + " (" + cm.Departement + ")"
	}
	if p, err := n.people.user(ctx, c.AdvisorID); err == nil {
		v.advisor = p.Name
	}
	return v, nil
}

func (v *needView) facts() []fact {
	fs := []fact{{"Entreprise", v.company}, {"Sujet", v.subject}, {"Commune", v.commune}}
	if v.advisor != "" {
		fs = append(fs, fact{"Conseiller", v.advisor})
	}
	return fs
}

// cause is the event at the version a delivery speaks of.
func (v *needView) cause(version int64) domain.Event {
	if version < 1 || int(version) > len(v.events) {
		return nil
	}
	return v.events[version-1]
}

// compose builds the mail of a delivery, reading the recipient's address
// at the last moment (a contact's is opened from the sealed capture and
// forgotten once sent). It returns errSkip when there is nothing to send.
func (n *Notifier) compose(ctx context.Context, a deliverArgs) (composed, error) {
	if a.Notice == domain.NotifyDigest {
		return n.composeDigest(ctx, a)
	}
	v, err := n.loadNeedView(ctx, a.NeedID, a.Version)
	if err != nil {
		return composed{}, err
	}
	var to mail.Address
	rec := domain.Recipient{Role: a.Role, ID: a.To}
	switch a.Role {
	case domain.RecipientReferent:
		p, err := n.people.referent(ctx, a.To)
		if err != nil {
			return composed{}, err
		}
		if !p.Active && a.Notice != domain.NotifyForwarded {
			return composed{}, skip("referent %s is deactivated", a.To)
		}
		to, rec.Name = mail.Address{Name: p.Name, Email: p.Email}, p.Name
	case domain.RecipientUser:
		p, err := n.people.user(ctx, a.To)
		if err != nil {
			return composed{}, err
		}
		to, rec.Name = mail.Address{Name: p.Name, Email: p.Email}, p.Name
	case domain.RecipientContact:
		if v.now.ContactErased() {
			return composed{}, skip("the contact of need %s is erased", a.NeedID)
		}
		c, err := n.cfg.Keys.Open(ctx, v.captured.Contact)
		if errors.Is(err, keys.ErrErased) {
			return composed{}, skip("the contact of need %s is erased", a.NeedID)
		}
		if err != nil {
			return composed{}, fmt.Errorf("notify: open contact of %s: %w", a.NeedID, err)
		}
		if strings.TrimSpace(c.Email) == "" {
			return composed{}, skip("the contact of need %s has no email", a.NeedID)
		}
		to, rec.ID = mail.Address{Name: c.Name, Email: c.Email}, uuid.Nil
	default:
		return composed{}, fmt.Errorf("notify: unknown recipient role %q", a.Role)
	}
	d, err := n.content(ctx, a, v, to)
	if err != nil {
		return composed{}, err
	}
	text, html, err := render(d)
	if err != nil {
		return composed{}, fmt.Errorf("notify: render %s: %w", a.Notice, err)
	}
	return composed{to: rec, msg: mail.Message{
		From: n.cfg.From, To: to, Subject: d.Subject, Text: text, HTML: html, ID: n.messageID(a.Key),
		Headers: map[string]string{"X-Reso-Kind": string(a.Notice), "X-Reso-Need": a.NeedID.String()},
	}}, nil
}

// messageID is stable per delivery: a repeat carries the same Message-ID.
func (n *Notifier) messageID(key string) string {
	sum := sha256.Sum256([]byte(key))
	host := "reso"
	if _, h, ok := strings.Cut(n.cfg.From.Email, "@"); ok && h != "" {
		host = h
	}
	return hex.EncodeToString(sum[:16]) + "@" + host
}

func greeting(name string) string {
	if strings.TrimSpace(name) == "" {
		return "Bonjour,"
	}
	return "Bonjour " + name + ","
}

// content is what each kind of mail says.
func (n *Notifier) content(ctx context.Context, a deliverArgs, v *needView, to mail.Address) (mailData, error) {
	d := mailData{Greeting: greeting(to.Name), URL: v.link, Action: "Voir le besoin"}
	switch a.Notice {
	case domain.NotifyForwarded:
		d.Subject = "Nouveau besoin : " + v.company + " – " + v.subject
		who := v.advisor
		if who == "" {
			who = "Un conseiller"
		}
		d.Lines = []string{who + " vous adresse le besoin d'une entreprise.",
			"Merci d'indiquer si vous le prenez en charge, ou s'il ne vous concerne pas."}
		d.Facts, d.Quote = v.facts(), v.captured.Description
	case domain.NotifyPoke, domain.NotifyLastChance:
		m, ok := v.now.Match(a.To)
		if !v.now.Waiting() || !ok || m.Status != domain.MatchQuo {
			return d, skip("need %s no longer waits for referent %s", a.NeedID, a.To)
		}
		fwd, _ := v.now.ForwardedAt()
		days := domain.DaysSince(fwd, n.cfg.Now())
		d.Subject = "Relance : le besoin de " + v.company + " attend votre réponse"
		if a.Notice == domain.NotifyLastChance {
			d.Subject = "Dernière relance : le besoin de " + v.company + " attend votre réponse"
		}
		d.Lines = []string{fmt.Sprintf("Le besoin de %s vous a été adressé il y a %d jours et attend toujours votre réponse.", v.company, days)}
		if a.Notice == domain.NotifyLastChance {
			d.Lines = append(d.Lines, fmt.Sprintf("Sans réponse %d jours après son envoi, il pourra être abandonné par l'animateur de votre territoire.", n.cfg.Thresholds.Abandon))
		}
		d.Facts = v.facts()
	case domain.NotifyAllDeclined:
		// Forwarded again since, to someone who has not declined: old news.
		if st := v.now.Status(); st != domain.NeedNotForMe && st != domain.NeedAbandonedStatus {
			return d, skip("need %s is no longer declined by all", a.NeedID)
		}
		d.Subject = "Aucun référent n'a retenu le besoin de " + v.company
		d.Lines = []string{"Tous les référents sollicités ont indiqué que ce besoin ne les concernait pas.",
			"Vous pouvez l'adresser à d'autres référents."}
		d.Facts = v.facts()
	case domain.NotifyAbandoned:
		d.Subject = "Besoin abandonné : " + v.company
		d.Lines = []string{"Personne n'a pris en charge ce besoin : il a été abandonné."}
		if ab, ok := v.at.Abandonment(); ok && ab.Reason != "" {
			d.Quote = ab.Reason
		}
		d.Facts = v.facts()
	case domain.NotifyTakenCharge, domain.NotifyDone:
		ch, ok := v.cause(a.Version).(domain.MatchStatusChanged)
		if !ok {
			return d, fmt.Errorf("notify: %s of need %s: version %d is not a match change", a.Notice, a.NeedID, a.Version)
		}
		who := "Un conseiller du réseau"
		if p, err := n.people.referent(ctx, ch.ReferentID); err == nil {
			who = p.Name
			if org := n.people.organisation(ctx, p.OrganisationID); org != "" {
				who += " (" + org + ")"
			}
		}
		// The company has no account: the link leads to the console's home.
		d.URL, d.Action = n.cfg.BaseURL+"/", "Réso"
		if a.Notice == domain.NotifyTakenCharge {
			d.Subject = "Votre demande est prise en charge"
			d.Lines = []string{fmt.Sprintf("%s a pris en charge votre demande « %s » et va prendre contact avec vous.", who, v.subject)}
		} else {
			d.Subject = "Votre demande a été traitée"
			d.Lines = []string{fmt.Sprintf("Votre demande « %s » a été traitée par %s : %s.", v.subject, who,
				strings.ToLower(v.at.Status().Label()))}
		}
		d.Notes = []string{"Vous recevez ce message car vous avez sollicité l'appui du réseau pour " + v.company + "."}
	case domain.NotifyAdvisorTakenCharge:
		ch, ok := v.cause(a.Version).(domain.MatchStatusChanged)
		if !ok {
			return d, fmt.Errorf("notify: %s of need %s: version %d is not a match change", a.Notice, a.NeedID, a.Version)
		}
		// The referent is named with their organisation, never with their
		// address or phone: a mail carries no one's contact but its
		// recipient's.
		who, named, org := "un référent", "Un référent", ""
		if p, err := n.people.referent(ctx, ch.ReferentID); err == nil {
			who, named, org = p.Name, p.Name, n.people.organisation(ctx, p.OrganisationID)
		}
		by := who
		if org != "" {
			by, named = by+", "+org, named+" ("+org+")"
		}
		d.Subject = "Votre besoin pour " + v.company + " est pris en charge par " + by
		d.Lines = []string{fmt.Sprintf("%s a pris en charge le besoin « %s » que vous avez saisi pour %s.", named, v.subject, v.company),
			"Vous pouvez suivre son avancement et échanger avec le référent depuis la page du besoin."}
		d.Facts = []fact{{"Entreprise", v.company}, {"Sujet", v.subject}, {"Commune", v.commune}}
	case domain.NotifyComment:
		c, ok := v.cause(a.Version).(domain.CommentAdded)
		if !ok {
			return d, fmt.Errorf("notify: comment on need %s: version %d is not a comment", a.NeedID, a.Version)
		}
		author := n.people.actorName(ctx, c.Actor())
		if author == "" {
			author = "Un participant"
		}
		d.Subject = "Nouveau commentaire sur le besoin de " + v.company
		d.Lines = []string{author + " a commenté ce besoin :"}
		d.Quote = c.Text
		d.Facts = v.facts()
	default:
		return d, fmt.Errorf("notify: unknown notification kind %q", a.Notice)
	}
	return d, nil
}

// digestLimit is the most needs a digest lists.
const digestLimit = 50

// composeDigest is a referent's weekly summary of the needs waiting for
// their answer.
func (n *Notifier) composeDigest(ctx context.Context, a deliverArgs) (composed, error) {
	p, err := n.people.referent(ctx, a.To)
	if err != nil {
		return composed{}, err
	}
	if !p.Active {
		return composed{}, skip("referent %s is deactivated", a.To)
	}
	now := n.cfg.Now()
	page, err := n.cfg.ReadModels.Inbox(ctx, a.To, needs.TabQuo, now, digestLimit, "")
	if err != nil {
		return composed{}, fmt.Errorf("notify: digest of %s: %w", a.To, err)
	}
	if len(page.Items) == 0 {
		return composed{}, skip("referent %s has no pending need", a.To)
	}
	d := mailData{Greeting: greeting(p.Name), URL: n.cfg.BaseURL + "/", Action: "Ouvrir Réso"}
	count := fmt.Sprint(len(page.Items))
	if page.NextCursor != "" {
		count = "plus de " + count
	}
	d.Subject = "Vos besoins en attente de réponse (" + count + ")"
	d.Lines = []string{"Voici les besoins qui vous ont été adressés et qui attendent votre réponse :"}
	for _, m := range page.Items {
		subject := m.Subject
		if s, ok := domain.SubjectByCode(m.Subject); ok {
			subject = s.Label
		}
		d.Items = append(d.Items, item{Title: m.CompanyName + " – " + subject,
			Detail: "adressé le " + frenchDate(m.SentAt.In(n.cfg.Location)), URL: n.cfg.BaseURL + "/besoins/" + m.NeedID.String()})
	}
	text, html, err := render(d)
	if err != nil {
		return composed{}, fmt.Errorf("notify: render digest: %w", err)
	}
	to := mail.Address{Name: p.Name, Email: p.Email}
	return composed{to: domain.Recipient{Role: domain.RecipientReferent, ID: a.To, Name: p.Name}, msg: mail.Message{
		From: n.cfg.From, To: to, Subject: d.Subject, Text: text, HTML: html, ID: n.messageID(a.Key),
		Headers: map[string]string{"X-Reso-Kind": string(a.Notice)},
	}}, nil
}

var frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	"septembre", "octobre", "novembre", "décembre"}

// frenchDate writes "2 mars 2026".
func frenchDate(t time.Time) string {
	return fmt.Sprintf("%d %s %d", t.Day(), frenchMonths[t.Month()-1], t.Year())
}
