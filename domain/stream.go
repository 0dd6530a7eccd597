package domain

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Stream kinds: the prefix of a stream name.
const (
	KindNeedStream         = "need"
	KindOrganisationStream = "organisation"
	KindReferentStream     = "referent"
	KindUserStream         = "user"
	KindImportStream       = "import"
	KindTerritoryStream    = "territory"
	KindSFListStream       = "sflist" // a Signaux Faibles list (signaux_list.go)
)

// NeedStream is the stream of a need: "need-<id>".
func NeedStream(id uuid.UUID) string { return KindNeedStream + "-" + id.String() }

// OrganisationStream is the stream of an organisation and its antennes:
// "organisation-<id>".
func OrganisationStream(id uuid.UUID) string { return KindOrganisationStream + "-" + id.String() }

// ReferentStream is the stream of a referent: "referent-<id>".
func ReferentStream(id uuid.UUID) string { return KindReferentStream + "-" + id.String() }

// UserStream is the stream of a user: "user-<id>".
func UserStream(id uuid.UUID) string { return KindUserStream + "-" + id.String() }

// ImportStream is the stream of a directory import, its audit record:
// "import-<id>".
func ImportStream(id uuid.UUID) string { return KindImportStream + "-" + id.String() }

// territoriesID names the one stream of every territory opening: they are
// few (a région or département opens once), and one stream makes two
// concurrent openings a concurrency conflict, decided again.
var territoriesID = uuid.MustParse("5e550000-0000-5000-8000-000000000001")

// TerritoriesStream is the stream of every territory opening:
// "territory-5e550000-0000-5000-8000-000000000001".
func TerritoriesStream() string { return KindTerritoryStream + "-" + territoriesID.String() }

// StreamKind returns the kind of a stream ("need", "organisation",
// "referent", "user", "notification"): the part before the first '-'. It returns "" when
// the name has no '-'.
func StreamKind(stream string) string {
	kind, _, ok := strings.Cut(stream, "-")
	if !ok {
		return ""
	}
	return kind
}

// ParseStream splits a stream name into its kind and id. It returns a
// *ValidationError (field "stream") when the name is not "<kind>-<uuid>" with
// a known kind.
func ParseStream(stream string) (kind string, id uuid.UUID, err error) {
	kind, rest, ok := strings.Cut(stream, "-")
	if !ok {
		return "", uuid.Nil, invalid("stream", "%q is not <kind>-<id>", stream)
	}
	switch kind {
	case KindNeedStream, KindOrganisationStream, KindReferentStream, KindUserStream, KindNotificationStream,
		KindImportStream, KindTerritoryStream, KindSFListStream:
	default:
		return "", uuid.Nil, invalid("stream", "%q has unknown kind %q", stream, kind)
	}
	id, perr := uuid.Parse(rest)
	if perr != nil || id.String() != rest {
		return "", uuid.Nil, invalid("stream", "%q does not end with a canonical uuid", stream)
	}
	return kind, id, nil
}

// StreamOf returns the stream an event belongs to. It returns an error
// wrapping ErrUnknownEventType for an event type it does not know.
func StreamOf(e Event) (string, error) {
	switch e := e.(type) {
	case NeedCaptured:
		return NeedStream(e.NeedID), nil
	case NeedForwarded:
		return NeedStream(e.NeedID), nil
	case MatchStatusChanged:
		return NeedStream(e.NeedID), nil
	case CommentAdded:
		return NeedStream(e.NeedID), nil
	case ReminderSent:
		return NeedStream(e.NeedID), nil
	case NeedAbandoned:
		return NeedStream(e.NeedID), nil
	case ContactErased:
		return NeedStream(e.NeedID), nil
	case OrganisationCreated:
		return OrganisationStream(e.OrganisationID), nil
	case AntenneCreated:
		return OrganisationStream(e.OrganisationID), nil
	case ReferentRegistered:
		return ReferentStream(e.ReferentID), nil
	case ReferentCoverageChanged:
		return ReferentStream(e.ReferentID), nil
	case ReferentDeactivated:
		return ReferentStream(e.ReferentID), nil
	case UserRegistered:
		return UserStream(e.UserID), nil
	case NotificationSent:
		return NotificationStream(e.NeedID), nil
	case NotificationFailed:
		return NotificationStream(e.NeedID), nil
	case ReferentDetailsChanged:
		return ReferentStream(e.ReferentID), nil
	case ReferentReactivated:
		return ReferentStream(e.ReferentID), nil
	case DirectoryImported:
		return ImportStream(e.ImportID), nil
	case TerritoryOpened:
		return TerritoriesStream(), nil
	case SignauxFaiblesListImported:
		return SFListStream(e.ListID), nil
	case SignauxFaiblesLinesRecorded:
		return SFListStream(e.ListID), nil
	}
	return "", fmt.Errorf("stream of %T: %w", e, ErrUnknownEventType)
}
