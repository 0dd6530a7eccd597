package domain

import (
	"strconv"

	"github.com/google/uuid"
)

// Notifications are side effects outside the need's lifecycle: a mail sent
// about a need is recorded as a step of its history, but in a stream of its
// own (NotificationStream), so that recording it never conflicts with the
// need's commands and folding a need never sees it.

// KindNotificationStream is the prefix of a need's notification stream.
const KindNotificationStream = "notification"

// NotificationStream is the stream of the mails sent about a need:
// "notification-<need id>".
func NotificationStream(needID uuid.UUID) string {
	return KindNotificationStream + "-" + needID.String()
}

// NotificationKind is what a mail is about.
type NotificationKind string

// Kinds of notification mails.
const (
	NotifyForwarded   NotificationKind = "forwarded"    // to a referent the need was sent to
	NotifyPoke        NotificationKind = "poke"         // to a referent whose match is untouched (day 9, or an animateur's reminder)
	NotifyLastChance  NotificationKind = "last_chance"  // same, day 21
	NotifyAllDeclined NotificationKind = "all_declined" // to the advisor: every referent declined
	NotifyAbandoned   NotificationKind = "abandoned"    // to the advisor: the need was abandoned
	NotifyTakenCharge NotificationKind = "taken_charge" // to the company contact: a referent took the need in charge
	NotifyDone        NotificationKind = "done"         // to the company contact: the need was closed
	NotifyComment     NotificationKind = "comment"      // to the other participants of a need
	NotifyDigest      NotificationKind = "digest"       // to a referent: the weekly summary of pending needs
	NotifySignIn      NotificationKind = "sign_in"      // a one-time sign-in link

	// NotifyAdvisorTakenCharge is to the advisor who captured the need: a
	// referent took it in charge (the first time that referent does).
	NotifyAdvisorTakenCharge NotificationKind = "advisor_taken_charge"
)

var notificationKinds = []string{
	string(NotifyForwarded), string(NotifyPoke), string(NotifyLastChance), string(NotifyAllDeclined),
	string(NotifyAbandoned), string(NotifyTakenCharge), string(NotifyDone), string(NotifyComment),
	string(NotifyDigest), string(NotifySignIn), string(NotifyAdvisorTakenCharge),
}

// NotificationKinds returns every kind of notification mail, for the
// places that must name each (the console's labels).
func NotificationKinds() []NotificationKind {
	out := make([]NotificationKind, len(notificationKinds))
	for i, k := range notificationKinds {
		out[i] = NotificationKind(k)
	}
	return out
}

// RecipientRole says who a mail went to.
type RecipientRole string

// Recipient roles.
const (
	RecipientReferent RecipientRole = "referent" // ID is the referent's (directory) id
	RecipientUser     RecipientRole = "user"     // ID is the user's id (an advisor, an animateur)
	RecipientContact  RecipientRole = "contact"  // the company contact: no id, no name (personal data stays sealed)
)

var recipientRoles = []string{string(RecipientReferent), string(RecipientUser), string(RecipientContact)}

// Recipient names who a notification went to. It never holds an address:
// a referent's or user's is in the directory, a contact's sealed in the
// capture.
type Recipient struct {
	Role RecipientRole `json:"role"`
	ID   uuid.UUID     `json:"id"`
	Name string        `json:"name"` // a referent's or user's name; empty for a contact
}

// NotificationSent: a mail about the need was accepted by the mail server
// (or written to the outbox). Key identifies the delivery (cause, recipient
// and kind): a delivery is sent at most once per key.
type NotificationSent struct {
	Meta
	NeedID  uuid.UUID        `json:"need_id"`
	Kind    NotificationKind `json:"kind"`
	To      Recipient        `json:"to"`
	Key     string           `json:"key"`
	Attempt int              `json:"attempt"`
}

// NotificationFailed: an attempt to send a mail about the need failed.
// Final says no attempt follows unless an admin retries it.
type NotificationFailed struct {
	Meta
	NeedID  uuid.UUID        `json:"need_id"`
	Kind    NotificationKind `json:"kind"`
	To      Recipient        `json:"to"`
	Key     string           `json:"key"`
	Attempt int              `json:"attempt"`
	Error   string           `json:"error"`
	Final   bool             `json:"final"`
}

// Stable names of the notification events.
const (
	TypeNotificationSent   = "NotificationSent"
	TypeNotificationFailed = "NotificationFailed"
)

// EventType implements Event.
func (NotificationSent) EventType() string { return TypeNotificationSent }

// SchemaVersion implements Event.
func (NotificationSent) SchemaVersion() int { return 1 }

// EventType implements Event.
func (NotificationFailed) EventType() string { return TypeNotificationFailed }

// SchemaVersion implements Event.
func (NotificationFailed) SchemaVersion() int { return 1 }

// NotificationEventTypes returns the stable names of the events of a
// notification stream.
func NotificationEventTypes() []string {
	return []string{TypeNotificationSent, TypeNotificationFailed}
}

// --- fast codec (see codec_encode.go and codec_scan.go) ---------------------

func appendRecipient(b []byte, r Recipient) []byte {
	b = append(b, `{"role":`...)
	b = appendString(b, string(r.Role))
	b = append(b, `,"id":`...)
	b = appendUUID(b, r.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, r.Name)
	return append(b, '}')
}

// appendNotification writes the fields both notification events share.
func appendNotification(b []byte, m *Meta, needID uuid.UUID, kind NotificationKind, to Recipient, key string, attempt int) ([]byte, bool) {
	b, ok := appendMeta(b, m)
	b = append(b, `,"need_id":`...)
	b = appendUUID(b, needID)
	b = append(b, `,"kind":`...)
	b = appendString(b, string(kind))
	b = append(b, `,"to":`...)
	b = appendRecipient(b, to)
	b = append(b, `,"key":`...)
	b = appendString(b, key)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(attempt), 10)
	return b, ok
}

func encodeNotificationSent(e NotificationSent) ([]byte, bool) {
	b := make([]byte, 0, metaSize+200+len(e.Key)+len(e.To.Name))
	return appendNotification(b, &e.Meta, e.NeedID, e.Kind, e.To, e.Key, e.Attempt)
}

func encodeNotificationFailed(e NotificationFailed) ([]byte, bool) {
	b := make([]byte, 0, metaSize+240+len(e.Key)+len(e.To.Name)+len(e.Error))
	b, ok := appendNotification(b, &e.Meta, e.NeedID, e.Kind, e.To, e.Key, e.Attempt)
	b = append(b, `,"error":`...)
	b = appendString(b, e.Error)
	b = append(b, `,"final":`...)
	b = strconv.AppendBool(b, e.Final)
	return b, ok
}

func (s *scanner) recipient() (r Recipient) {
	if !s.object() {
		return r
	}
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "role":
			s.once(&seen, 1)
			r.Role = RecipientRole(s.known(recipientRoles))
		case "id":
			s.once(&seen, 2)
			r.ID = s.id()
		case "name":
			s.once(&seen, 4)
			r.Name = s.str()
		default:
			s.fail()
		}
	}
	return r
}

// smallInt reads a non-negative integer of at most 9 digits written without
// a sign, fraction, exponent or leading zero; anything else fails (null
// too: encoding/json would leave the field as it was, which the caller's
// zero value already is, but the scanner keeps to what Marshal writes).
func (s *scanner) smallInt() int {
	if s.peek() == 0 {
		s.fail()
		return 0
	}
	start := s.i
	j := start
	for j < len(s.data) && s.data[j] >= '0' && s.data[j] <= '9' {
		j++
	}
	digits := s.data[start:j]
	if len(digits) == 0 || len(digits) > 9 || (len(digits) > 1 && digits[0] == '0') {
		s.fail()
		return 0
	}
	if j < len(s.data) {
		if c := s.data[j]; c == '.' || c == 'e' || c == 'E' {
			s.fail()
			return 0
		}
	}
	n, _ := decimal(digits)
	s.i = j
	return n
}

// boolean reads true or false.
func (s *scanner) boolean() bool {
	switch s.peek() {
	case 't':
		if len(s.data)-s.i >= 4 && string(s.data[s.i:s.i+4]) == "true" {
			s.i += 4
			return true
		}
	case 'f':
		if len(s.data)-s.i >= 5 && string(s.data[s.i:s.i+5]) == "false" {
			s.i += 5
			return false
		}
	}
	s.fail()
	return false
}

// notificationField reads one of the fields both notification events share
// and reports whether key was one of them.
func (s *scanner) notificationField(seen *uint32, needID *uuid.UUID, kind *NotificationKind, to *Recipient, key *string, attempt *int) bool {
	switch string(s.key) {
	case "need_id":
		s.once(seen, 1)
		*needID = s.id()
	case "kind":
		s.once(seen, 2)
		*kind = NotificationKind(s.known(notificationKinds))
	case "to":
		s.once(seen, 4)
		*to = s.recipient()
	case "key":
		s.once(seen, 8)
		*key = s.str()
	case "attempt":
		s.once(seen, 16)
		*attempt = s.smallInt()
	default:
		return false
	}
	return true
}

func (s *scanner) notificationSent() (e NotificationSent) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		if !s.notificationField(&seen, &e.NeedID, &e.Kind, &e.To, &e.Key, &e.Attempt) {
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) notificationFailed() (e NotificationFailed) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		if s.notificationField(&seen, &e.NeedID, &e.Kind, &e.To, &e.Key, &e.Attempt) {
			continue
		}
		switch string(s.key) {
		case "error":
			s.once(&seen, 32)
			e.Error = s.str()
		case "final":
			s.once(&seen, 64)
			e.Final = s.boolean()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}
