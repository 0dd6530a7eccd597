package domain

import "encoding/base64"

// encodeFast writes e's JSON without reflection, byte for byte what
// json.Marshal writes (fields in declaration order, Meta's first, the
// omitempty fields left out when empty). It returns false for an event it
// does not know (another implementation of Event, a pointer) and where
// json.Marshal fails (an instant RFC 3339 cannot write), so that Marshal
// takes json.Marshal's answer, error included. A field added to an event
// must be added here too: TestEncodeFastMatchesJSON fails until it is.
func encodeFast(e Event) ([]byte, bool) {
	var b []byte
	ok := true
	switch e := e.(type) {
	case NeedCaptured:
		b = make([]byte, 0, metaSize+235+len(e.SIRET)+len(e.CompanyName)+len(e.NAFCode)+len(e.Commune)+len(e.Subject)+
			len(e.Description)+len(e.Contact.KeyID)+base64.StdEncoding.EncodedLen(len(e.Contact.Ciphertext)))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"need_id":`...)
		b = appendUUID(b, e.NeedID)
		b = append(b, `,"siret":`...)
		b = appendString(b, e.SIRET)
		b = append(b, `,"company_name":`...)
		b = appendString(b, e.CompanyName)
		b = append(b, `,"naf_code":`...)
		b = appendString(b, e.NAFCode)
		b = append(b, `,"commune":`...)
		b = appendString(b, e.Commune)
		b = append(b, `,"subject":`...)
		b = appendString(b, e.Subject)
		b = append(b, `,"description":`...)
		b = appendString(b, e.Description)
		b = append(b, `,"contact":{"key_id":`...)
		b = appendString(b, e.Contact.KeyID)
		b = append(b, `,"ciphertext":`...)
		b = appendBytes(b, e.Contact.Ciphertext)
		b = append(b, `},"advisor_id":`...)
		b = appendUUID(b, e.AdvisorID)
	case NeedForwarded:
		b = make([]byte, 0, metaSize+70+len(e.Referents)*100)
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"need_id":`...)
		b = appendUUID(b, e.NeedID)
		b = append(b, `,"referents":`...)
		if e.Referents == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for i, r := range e.Referents {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"referent_id":`...)
				b = appendUUID(b, r.ReferentID)
				b = append(b, `,"organisation_id":`...)
				b = appendUUID(b, r.OrganisationID)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
	case MatchStatusChanged:
		b = make([]byte, 0, metaSize+130+len(e.From)+len(e.To)+len(e.Comment))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"need_id":`...)
		b = appendUUID(b, e.NeedID)
		b = append(b, `,"referent_id":`...)
		b = appendUUID(b, e.ReferentID)
		b = append(b, `,"from":`...)
		b = appendString(b, string(e.From))
		b = append(b, `,"to":`...)
		b = appendString(b, string(e.To))
		if e.Comment != "" {
			b = append(b, `,"comment":`...)
			b = appendString(b, e.Comment)
		}
	case CommentAdded:
		b = make([]byte, 0, metaSize+70+len(e.Text))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"need_id":`...)
		b = appendUUID(b, e.NeedID)
		b = append(b, `,"text":`...)
		b = appendString(b, e.Text)
	case ReminderSent:
		b = make([]byte, 0, metaSize+70+len(e.Kind))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"need_id":`...)
		b = appendUUID(b, e.NeedID)
		b = append(b, `,"kind":`...)
		b = appendString(b, string(e.Kind))
	case NeedAbandoned:
		b = make([]byte, 0, metaSize+70+len(e.Reason))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"need_id":`...)
		b = appendUUID(b, e.NeedID)
		b = append(b, `,"reason":`...)
		b = appendString(b, e.Reason)
	case ContactErased:
		b = make([]byte, 0, metaSize+70+len(e.KeyID))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"need_id":`...)
		b = appendUUID(b, e.NeedID)
		b = append(b, `,"key_id":`...)
		b = appendString(b, e.KeyID)
	case OrganisationCreated:
		b = make([]byte, 0, metaSize+80+len(e.Name)+len(e.Kind))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"organisation_id":`...)
		b = appendUUID(b, e.OrganisationID)
		b = append(b, `,"name":`...)
		b = appendString(b, e.Name)
		b = append(b, `,"kind":`...)
		b = appendString(b, string(e.Kind))
	case AntenneCreated:
		b = make([]byte, 0, metaSize+150+len(e.Name)+len(e.Zone.Code))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"organisation_id":`...)
		b = appendUUID(b, e.OrganisationID)
		b = append(b, `,"antenne_id":`...)
		b = appendUUID(b, e.AntenneID)
		b = append(b, `,"name":`...)
		b = appendString(b, e.Name)
		b = append(b, `,"zone":`...)
		b = appendZone(b, e.Zone)
	case ReferentRegistered:
		b = make([]byte, 0, metaSize+400+len(e.Name)+len(e.Email))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"referent_id":`...)
		b = appendUUID(b, e.ReferentID)
		b = append(b, `,"organisation_id":`...)
		b = appendUUID(b, e.OrganisationID)
		// omitempty never leaves out an array such as uuid.UUID.
		b = append(b, `,"antenne_id":`...)
		b = appendUUID(b, e.AntenneID)
		b = append(b, `,"name":`...)
		b = appendString(b, e.Name)
		b = append(b, `,"email":`...)
		b = appendString(b, e.Email)
		b = append(b, `,"subjects":`...)
		b = appendStrings(b, e.Subjects)
		b = append(b, `,"zones":`...)
		b = appendZones(b, e.Zones)
	case ReferentCoverageChanged:
		b = make([]byte, 0, metaSize+300)
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"referent_id":`...)
		b = appendUUID(b, e.ReferentID)
		b = append(b, `,"subjects":`...)
		b = appendStrings(b, e.Subjects)
		b = append(b, `,"zones":`...)
		b = appendZones(b, e.Zones)
	case ReferentDeactivated:
		b = make([]byte, 0, metaSize+60)
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"referent_id":`...)
		b = appendUUID(b, e.ReferentID)
	case UserRegistered:
		b = make([]byte, 0, metaSize+300+len(e.Name)+len(e.Email))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"user_id":`...)
		b = appendUUID(b, e.UserID)
		b = append(b, `,"name":`...)
		b = appendString(b, e.Name)
		b = append(b, `,"email":`...)
		b = appendString(b, e.Email)
		b = append(b, `,"role":`...)
		b = appendString(b, string(e.Role))
		b = append(b, `,"organisation_id":`...)
		b = appendUUID(b, e.OrganisationID)
		b = append(b, `,"referent_id":`...)
		b = appendUUID(b, e.ReferentID)
		if len(e.Territories) > 0 {
			b = append(b, `,"territories":`...)
			b = appendZones(b, e.Territories)
		}
	case NotificationSent:
		b, ok = encodeNotificationSent(e)
	case NotificationFailed:
		b, ok = encodeNotificationFailed(e)
	case ReferentDetailsChanged:
		b = make([]byte, 0, metaSize+160+len(e.Name)+len(e.Phone)+len(e.Function))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"referent_id":`...)
		b = appendUUID(b, e.ReferentID)
		b = append(b, `,"antenne_id":`...)
		b = appendUUID(b, e.AntenneID)
		b = append(b, `,"name":`...)
		b = appendString(b, e.Name)
		b = append(b, `,"phone":`...)
		b = appendString(b, e.Phone)
		b = append(b, `,"function":`...)
		b = appendString(b, e.Function)
	case ReferentReactivated:
		b = make([]byte, 0, metaSize+60)
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"referent_id":`...)
		b = appendUUID(b, e.ReferentID)
	case DirectoryImported:
		b = make([]byte, 0, metaSize+200+len(e.FileName)+len(e.FileSHA256)+len(e.ByName))
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"import_id":`...)
		b = appendUUID(b, e.ImportID)
		b = append(b, `,"file_name":`...)
		b = appendString(b, e.FileName)
		b = append(b, `,"file_sha256":`...)
		b = appendString(b, e.FileSHA256)
		b = append(b, `,"format":`...)
		b = appendString(b, e.Format)
		b = append(b, `,"headers":`...)
		b = appendString(b, e.Headers)
		b = append(b, `,"by_name":`...)
		b = appendString(b, e.ByName)
	case TerritoryOpened:
		b = make([]byte, 0, metaSize+80)
		b, ok = appendMeta(b, &e.Meta)
		b = append(b, `,"zone":`...)
		b = appendZone(b, e.Zone)
		b = append(b, `,"opened_on":`...)
		b = appendString(b, e.OpenedOn)
	case SignauxFaiblesListImported:
		b, ok = appendSFListImported(&e)
	case SignauxFaiblesLinesRecorded:
		b, ok = appendSFLinesRecorded(&e)
	default:
		return nil, false
	}
	if !ok {
		return nil, false
	}
	return append(b, '}'), true
}

// metaSize is about what appendMeta writes with a short role.
const metaSize = 140
