package domain

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Marshal encodes e for the log: its stable type name, its schema version and
// its JSON data, the bytes json.Marshal writes. It returns an error wrapping
// ErrUnknownEventType when e is nil, and json.Marshal's error when e cannot
// be encoded (an instant RFC 3339 cannot write: a year outside 0 to 9999 or
// an offset of a day or more).
func Marshal(e Event) (typ string, version int, data []byte, err error) {
	if e == nil {
		return "", 0, nil, fmt.Errorf("marshal event: %w", ErrUnknownEventType)
	}
	// Commands encode every event they decide: the hand-written writer
	// saves the reflection; json.Marshal stays the reference, for what it
	// does not write and for the errors.
	if data, ok := encodeFast(e); ok {
		return e.EventType(), e.SchemaVersion(), data, nil
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", 0, nil, fmt.Errorf("marshal %s: %w", e.EventType(), err)
	}
	return e.EventType(), e.SchemaVersion(), data, nil
}

// decoders maps each stable type name to a decoder of its current schema
// version. Events are returned as values, never pointers.
var decoders = map[string]func([]byte) (Event, error){
	TypeNeedCaptured:                decode[NeedCaptured],
	TypeNeedForwarded:               decode[NeedForwarded],
	TypeMatchStatusChanged:          decode[MatchStatusChanged],
	TypeCommentAdded:                decode[CommentAdded],
	TypeReminderSent:                decode[ReminderSent],
	TypeNeedAbandoned:               decode[NeedAbandoned],
	TypeContactErased:               decode[ContactErased],
	TypeOrganisationCreated:         decode[OrganisationCreated],
	TypeAntenneCreated:              decode[AntenneCreated],
	TypeReferentRegistered:          decode[ReferentRegistered],
	TypeReferentCoverageChanged:     decode[ReferentCoverageChanged],
	TypeReferentDeactivated:         decode[ReferentDeactivated],
	TypeUserRegistered:              decode[UserRegistered],
	TypeNotificationSent:            decode[NotificationSent],
	TypeNotificationFailed:          decode[NotificationFailed],
	TypeReferentDetailsChanged:      decode[ReferentDetailsChanged],
	TypeReferentReactivated:         decode[ReferentReactivated],
	TypeDirectoryImported:           decode[DirectoryImported],
	TypeTerritoryOpened:             decode[TerritoryOpened],
	TypeSignauxFaiblesListImported:  decode[SignauxFaiblesListImported],
	TypeSignauxFaiblesLinesRecorded: decode[SignauxFaiblesLinesRecorded],
}

// eventWithMeta lets decode reach the embedded Meta of every event type.
type eventWithMeta interface {
	Event
	meta() *Meta
}

func (m *Meta) meta() *Meta { return m }

func decode[T any, PT interface {
	*T
	eventWithMeta
}](data []byte) (Event, error) {
	var v T
	if err := json.Unmarshal(data, PT(&v)); err != nil {
		return nil, err
	}
	m := PT(&v).meta()
	// The log may hold instants in any offset; the domain compares them,
	// and UTC makes a decoded event equal to its re-encoding.
	m.At = m.At.UTC()
	if y := m.At.Year(); y < 0 || y > 9999 {
		// An offset can push a year-0000 or year-9999 instant out of what
		// RFC 3339, hence Marshal, can write.
		return nil, fmt.Errorf("instant %s is outside years 0 to 9999 in UTC", m.At)
	}
	return any(v).(Event), nil
}

// Unmarshal decodes an event read from the log, at any schema version ever
// written: the type's upcasters (upcast.go) first bring data to the current
// version, which is the only shape the decoders know. Version 0 (a store
// that does not record versions) is read as 1.
//
// It returns an error wrapping ErrUnknownEventType for a type the domain
// does not know, ErrUnsupportedVersion for a version below 0 or above the
// type's current one (written by a later release), an upcaster's error,
// and the JSON error when data does not decode. The Event is a value of the
// types of events.go (NeedCaptured, not *NeedCaptured).
func Unmarshal(typ string, version int, data []byte) (Event, error) {
	dec, ok := decoders[typ]
	if !ok {
		return nil, fmt.Errorf("unmarshal %q: %w", typ, ErrUnknownEventType)
	}
	_, data, err := upcasters.upcast(typ, version, data)
	if err != nil {
		return nil, fmt.Errorf("unmarshal: %w", err)
	}
	// Projections decode every event of the log: the scanner reads what
	// Marshal writes without reflection, and leaves any other input to
	// encoding/json, which stays the reference for values and errors.
	if e, ok := decodeFast(typ, data); ok {
		return e, nil
	}
	e, err := dec(data)
	if err != nil {
		return nil, fmt.Errorf("unmarshal %s: %w", typ, err)
	}
	return e, nil
}

// EventTypes returns the stable names of every event type, sorted.
func EventTypes() []string {
	names := make([]string, 0, len(decoders))
	for name := range decoders {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// NeedEventTypes returns the stable names of the events of a need's stream.
func NeedEventTypes() []string {
	return []string{
		TypeNeedCaptured, TypeNeedForwarded, TypeMatchStatusChanged, TypeCommentAdded,
		TypeReminderSent, TypeNeedAbandoned, TypeContactErased,
	}
}
