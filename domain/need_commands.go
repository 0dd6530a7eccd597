package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on free text, so that one event stays far below the log's size
// limit.
const (
	MaxCompanyNameLen = 300   // runes
	MaxDescriptionLen = 20000 // runes
	MaxCommentLen     = 20000 // runes
)

// Capture is the input of the capture command.
type Capture struct {
	NeedID      uuid.UUID // uuid.Nil: the need's own id
	SIRET       string    // normalised by ParseSIRET
	CompanyName string
	NAFCode     string // optional, normalised by ParseNAF
	Commune     string // INSEE code
	Subject     string // subject code
	Description string
	Contact     SealedContact
	AdvisorID   uuid.UUID
}

func (n *Need) ready(at time.Time) error {
	if !n.captured {
		return fmt.Errorf("need %s: %w", n.id, ErrNeedNotFound)
	}
	return checkAt(at)
}

func (n *Need) live(at time.Time) error {
	if err := n.ready(at); err != nil {
		return err
	}
	if n.abandoned {
		return fmt.Errorf("need %s: %w", n.id, ErrNeedAbandoned)
	}
	return nil
}

// newMeta stamps an event. Instants are kept in UTC without a monotonic
// clock reading, so that an event equals its decoded JSON.
func newMeta(by Actor, at time.Time) Meta {
	return Meta{At: at.UTC().Round(0), By: by}
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return invalid("at", "the instant is missing")
	}
	if y := at.UTC().Year(); y < 1 || y > 9999 {
		return invalid("at", "year %d is outside 1 to 9999", y)
	}
	return nil
}

// text trims s and checks it is present and at most max runes.
func requiredText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid(field, "is required")
	}
	if !utf8.ValidString(s) {
		return "", invalid(field, "is not valid UTF-8")
	}
	if l := utf8.RuneCountInString(s); l > max {
		return "", invalid(field, "is %d characters long, over the %d limit", l, max)
	}
	return s, nil
}

// Capture records that an advisor captured a company's need. The SIRET is
// normalised, and so is the NAF code when given; the commune must exist in geo (nil: DefaultGeography) and the
// subject in the taxonomy; company name and description are trimmed and
// required; the sealed contact needs its key id and ciphertext; the advisor
// id is required.
//
// It returns ErrAlreadyCaptured when the need exists, and a *ValidationError
// (errors.Is ErrValidation) naming the first refused field.
func (n *Need) Capture(c Capture, geo *Geography, by Actor, at time.Time) error {
	if n.captured {
		return fmt.Errorf("need %s: %w", n.id, ErrAlreadyCaptured)
	}
	if geo == nil {
		geo = DefaultGeography()
	}
	e, err := c.event(n.id, geo)
	if err != nil {
		return err
	}
	if err := checkAt(at); err != nil {
		return err
	}
	e.Meta = newMeta(by, at)
	return n.record(e)
}

func (c Capture) event(id uuid.UUID, geo *Geography) (NeedCaptured, error) {
	if id == uuid.Nil {
		return NeedCaptured{}, invalid("need_id", "is required")
	}
	if c.NeedID != uuid.Nil && c.NeedID != id {
		return NeedCaptured{}, invalid("need_id", "%s is not the need's id %s", c.NeedID, id)
	}
	// Every field is checked, so that a form is corrected in one go.
	var errs []error
	siret, err := ParseSIRET(c.SIRET)
	errs = append(errs, err)
	name, err := requiredText("company_name", c.CompanyName, MaxCompanyNameLen)
	errs = append(errs, err)
	naf, err := ParseNAF(c.NAFCode)
	errs = append(errs, err)
	if _, ok := geo.Commune(c.Commune); !ok {
		errs = append(errs, invalid("commune", "unknown commune %q", c.Commune))
	}
	errs = append(errs, ValidSubject(c.Subject))
	desc, err := requiredText("description", c.Description, MaxDescriptionLen)
	errs = append(errs, err)
	if c.Contact.KeyID == "" || len(c.Contact.Ciphertext) == 0 {
		errs = append(errs, invalid("contact", "the sealed contact needs a key id and a ciphertext"))
	}
	if c.AdvisorID == uuid.Nil {
		errs = append(errs, invalid("advisor_id", "is required"))
	}
	if err := JoinValidation(errs...); err != nil {
		return NeedCaptured{}, err
	}
	return NeedCaptured{
		NeedID:      id,
		SIRET:       string(siret),
		CompanyName: name,
		NAFCode:     naf,
		Commune:     c.Commune,
		Subject:     c.Subject,
		Description: desc,
		Contact:     c.Contact,
		AdvisorID:   c.AdvisorID,
	}, nil
}

// Forward sends the need to referents: each gets a match in quo. Forwarding
// again adds referents.
//
// It returns ErrNeedNotFound, ErrNeedAbandoned, an error wrapping
// ErrAlreadyMatched (naming the referent) when a referent already has a
// match, and a *ValidationError (field "referents") for an empty list, a nil
// id or a referent listed twice.
func (n *Need) Forward(refs []MatchRef, by Actor, at time.Time) error {
	if err := n.live(at); err != nil {
		return err
	}
	if len(refs) == 0 {
		return invalid("referents", "at least one referent is required")
	}
	seen := make(map[uuid.UUID]bool, len(refs))
	for _, r := range refs {
		if r.ReferentID == uuid.Nil || r.OrganisationID == uuid.Nil {
			return invalid("referents", "referent and organisation ids are required")
		}
		if seen[r.ReferentID] {
			return invalid("referents", "referent %s is listed twice", r.ReferentID)
		}
		seen[r.ReferentID] = true
		if _, ok := n.matches[r.ReferentID]; ok {
			return fmt.Errorf("forward need %s to referent %s: %w", n.id, r.ReferentID, ErrAlreadyMatched)
		}
	}
	return n.record(NeedForwarded{
		Meta:      newMeta(by, at),
		NeedID:    n.id,
		Referents: append([]MatchRef(nil), refs...),
	})
}

// ChangeMatch moves the match of referentID to status to, with an optional
// comment (the reason, when declining). Only DESIGN.md's transitions are
// allowed.
//
// It returns ErrNeedNotFound, ErrNeedAbandoned, an error wrapping
// ErrMatchNotFound, a *TransitionError (errors.Is ErrInvalidTransition)
// saying from what to what, and a *ValidationError (field "status") when to
// is not a match status.
func (n *Need) ChangeMatch(referentID uuid.UUID, to MatchStatus, comment string, by Actor, at time.Time) error {
	if err := n.live(at); err != nil {
		return err
	}
	if !to.Valid() {
		return invalid("status", "unknown match status %q", to)
	}
	m, ok := n.matches[referentID]
	if !ok {
		return fmt.Errorf("need %s referent %s: %w", n.id, referentID, ErrMatchNotFound)
	}
	if err := CheckTransition(m.Status, to); err != nil {
		return err
	}
	comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(comment) > MaxCommentLen {
		return invalid("comment", "is over the %d characters limit", MaxCommentLen)
	}
	return n.record(MatchStatusChanged{
		Meta:       newMeta(by, at),
		NeedID:     n.id,
		ReferentID: referentID,
		From:       m.Status,
		To:         to,
		Comment:    comment,
	})
}

// TakeCharge is ChangeMatch to taking_care.
func (n *Need) TakeCharge(referentID uuid.UUID, by Actor, at time.Time) error {
	return n.ChangeMatch(referentID, MatchTakingCare, "", by, at)
}

// Decline is ChangeMatch to not_for_me with the reason (optional, kept in
// the event's comment).
func (n *Need) Decline(referentID uuid.UUID, reason string, by Actor, at time.Time) error {
	return n.ChangeMatch(referentID, MatchNotForMe, reason, by, at)
}

// Close is ChangeMatch to a closed status (done, done_no_help or
// done_not_reachable). Any other outcome is a *ValidationError (field
// "status").
func (n *Need) Close(referentID uuid.UUID, outcome MatchStatus, comment string, by Actor, at time.Time) error {
	if !outcome.Closed() {
		return invalid("status", "%q is not a closed status", outcome)
	}
	return n.ChangeMatch(referentID, outcome, comment, by, at)
}

// Reopen is ChangeMatch back to quo.
func (n *Need) Reopen(referentID uuid.UUID, comment string, by Actor, at time.Time) error {
	return n.ChangeMatch(referentID, MatchQuo, comment, by, at)
}

// Comment adds a comment (trimmed, required). It is accepted on an abandoned
// need. It returns ErrNeedNotFound or a *ValidationError (field "text").
func (n *Need) Comment(text string, by Actor, at time.Time) error {
	if err := n.ready(at); err != nil {
		return err
	}
	t, err := requiredText("text", text, MaxCommentLen)
	if err != nil {
		return err
	}
	return n.record(CommentAdded{Meta: newMeta(by, at), NeedID: n.id, Text: t})
}

// Remind records a reminder to the need's referents.
//
// It returns ErrNeedNotFound, ErrNeedAbandoned, ErrNotForwarded when the
// need has no match yet, and a *ValidationError (field "kind") for a kind
// other than poke and last_chance.
func (n *Need) Remind(kind ReminderKind, by Actor, at time.Time) error {
	if err := n.live(at); err != nil {
		return err
	}
	if kind != ReminderPoke && kind != ReminderLastChance {
		return invalid("kind", "unknown reminder kind %q", kind)
	}
	if len(n.matches) == 0 {
		return fmt.Errorf("remind need %s: %w", n.id, ErrNotForwarded)
	}
	return n.record(ReminderSent{Meta: newMeta(by, at), NeedID: n.id, Kind: kind})
}

// Abandon gives the need up, with a reason (trimmed, required). It is
// refused, with an error wrapping ErrAbandonRefused, once a match is taking
// care or closed (judged on the current statuses: a match reopened to quo no
// longer counts) and when the need is already abandoned. It also returns
// ErrNeedNotFound and a *ValidationError (field "reason").
func (n *Need) Abandon(reason string, by Actor, at time.Time) error {
	if err := n.ready(at); err != nil {
		return err
	}
	if n.abandoned {
		return fmt.Errorf("need %s already abandoned: %w", n.id, ErrAbandonRefused)
	}
	if n.engaged() {
		return fmt.Errorf("need %s is %s: %w", n.id, n.Status(), ErrAbandonRefused)
	}
	r, err := requiredText("reason", reason, MaxCommentLen)
	if err != nil {
		return err
	}
	return n.record(NeedAbandoned{Meta: newMeta(by, at), NeedID: n.id, Reason: r})
}

// EraseContact records that the contact's key (the capture's key id) was
// deleted: the sealed personal data is unreadable from then on. It is
// accepted on an abandoned need. It returns ErrNeedNotFound and, when the
// contact was already erased, ErrAlreadyErased.
func (n *Need) EraseContact(by Actor, at time.Time) error {
	if err := n.ready(at); err != nil {
		return err
	}
	if n.contactErased {
		return fmt.Errorf("need %s: %w", n.id, ErrAlreadyErased)
	}
	return n.record(ContactErased{Meta: newMeta(by, at), NeedID: n.id, KeyID: n.capture.Contact.KeyID})
}
