package domain

// Each event type's fields for the scanner of codec_scan.go. A decoder sets
// s.bad on anything it does not handle; decodeFast then gives up and
// Unmarshal decodes with encoding/json.

// Names the scanner returns as constants instead of new strings.
var (
	roleNames     = []string{string(RoleAdvisor), string(RoleReferent), string(RoleAnimateur), string(RoleSystem), string(RoleFunder), string(RoleAdmin)}
	matchNames    = []string{string(MatchQuo), string(MatchTakingCare), string(MatchDone), string(MatchDoneNoHelp), string(MatchDoneNotReachable), string(MatchNotForMe)}
	reminderNames = []string{string(ReminderPoke), string(ReminderLastChance)}
	levelNames    = []string{string(LevelCommune), string(LevelEPCI), string(LevelDepartement), string(LevelRegion), string(LevelNational)}
	kindNames     = []string{string(KindCCI), string(KindCMA), string(KindDREETS), string(KindRegion), string(KindFranceTravail),
		string(KindURSSAF), string(KindBpifrance), string(KindChambreAgriculture), string(KindOther)}
)

// decodeFast decodes data without reflection and reports whether it could;
// when it could not, encoding/json has the answer (a value or an error).
func decodeFast(typ string, data []byte) (Event, bool) {
	s := scanner{data: data}
	if s.peek() != '{' {
		return nil, false // null, or not an object: encoding/json says what
	}
	var e Event
	switch typ {
	case TypeNeedCaptured:
		e = s.needCaptured()
	case TypeNeedForwarded:
		e = s.needForwarded()
	case TypeMatchStatusChanged:
		e = s.matchStatusChanged()
	case TypeCommentAdded:
		e = s.commentAdded()
	case TypeReminderSent:
		e = s.reminderSent()
	case TypeNeedAbandoned:
		e = s.needAbandoned()
	case TypeContactErased:
		e = s.contactErased()
	case TypeOrganisationCreated:
		e = s.organisationCreated()
	case TypeAntenneCreated:
		e = s.antenneCreated()
	case TypeReferentRegistered:
		e = s.referentRegistered()
	case TypeReferentCoverageChanged:
		e = s.referentCoverageChanged()
	case TypeReferentDeactivated:
		e = s.referentDeactivated()
	case TypeUserRegistered:
		e = s.userRegistered()
	case TypeNotificationSent:
		e = s.notificationSent()
	case TypeNotificationFailed:
		e = s.notificationFailed()
	case TypeReferentDetailsChanged:
		e = s.referentDetailsChanged()
	case TypeReferentReactivated:
		e = s.referentReactivated()
	case TypeDirectoryImported:
		e = s.directoryImported()
	case TypeTerritoryOpened:
		e = s.territoryOpened()
	case TypeSignauxFaiblesListImported:
		e = s.sfListImported()
	case TypeSignauxFaiblesLinesRecorded:
		e = s.sfLinesRecorded()
	default:
		return nil, false
	}
	if !s.end() {
		return nil, false
	}
	return e, true
}

// Bits of the seen sets for Meta's keys, above every event's own.
const (
	seenAt uint32 = 1 << 30
	seenBy uint32 = 1 << 31
)

// meta reads the key at or by of every event into m, and fails on any other
// key: each decoder calls it for the keys it does not know.
func (s *scanner) meta(m *Meta, seen *uint32) {
	switch string(s.key) {
	case "at":
		s.once(seen, seenAt)
		m.At = s.instant()
	case "by":
		s.once(seen, seenBy)
		m.By = s.actor()
	default:
		s.fail()
	}
}

func (s *scanner) actor() (a Actor) {
	if !s.object() {
		return a
	}
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "id":
			s.once(&seen, 1)
			a.ID = s.id()
		case "role":
			s.once(&seen, 2)
			a.Role = Role(s.known(roleNames))
		default:
			s.fail()
		}
	}
	return a
}

func (s *scanner) zone() (z Zone) {
	if !s.object() {
		return z
	}
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "level":
			s.once(&seen, 1)
			z.Level = ZoneLevel(s.known(levelNames))
		case "code":
			s.once(&seen, 2)
			z.Code = s.str()
		default:
			s.fail()
		}
	}
	return z
}

// zones reads a []Zone: null gives nil and [] an empty slice, as with
// encoding/json.
func (s *scanner) zones() []Zone {
	if !s.array() {
		return nil
	}
	zs := []Zone{}
	for n := 0; s.more(n); n++ {
		zs = append(zs, s.zone())
	}
	return zs
}

func (s *scanner) strs() []string {
	if !s.array() {
		return nil
	}
	ss := []string{}
	for n := 0; s.more(n); n++ {
		ss = append(ss, s.str())
	}
	return ss
}

func (s *scanner) matchRefs() []MatchRef {
	if !s.array() {
		return nil
	}
	refs := make([]MatchRef, 0, 4)
	for n := 0; s.more(n); n++ {
		var r MatchRef
		if s.object() {
			var seen uint32
			for k := 0; s.next(k); k++ {
				switch string(s.key) {
				case "referent_id":
					s.once(&seen, 1)
					r.ReferentID = s.id()
				case "organisation_id":
					s.once(&seen, 2)
					r.OrganisationID = s.id()
				default:
					s.fail()
				}
			}
		}
		refs = append(refs, r)
	}
	return refs
}

func (s *scanner) contact() (c SealedContact) {
	if !s.object() {
		return c
	}
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "key_id":
			s.once(&seen, 1)
			c.KeyID = s.str()
		case "ciphertext":
			s.once(&seen, 2)
			c.Ciphertext = s.bytes()
		default:
			s.fail()
		}
	}
	return c
}

func (s *scanner) needCaptured() (e NeedCaptured) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "need_id":
			s.once(&seen, 1)
			e.NeedID = s.id()
		case "siret":
			s.once(&seen, 2)
			e.SIRET = s.str()
		case "company_name":
			s.once(&seen, 4)
			e.CompanyName = s.str()
		case "commune":
			s.once(&seen, 8)
			e.Commune = s.str()
		case "subject":
			s.once(&seen, 16)
			e.Subject = s.str()
		case "description":
			s.once(&seen, 32)
			e.Description = s.str()
		case "contact":
			s.once(&seen, 64)
			e.Contact = s.contact()
		case "advisor_id":
			s.once(&seen, 128)
			e.AdvisorID = s.id()
		case "naf_code":
			s.once(&seen, 256)
			e.NAFCode = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) needForwarded() (e NeedForwarded) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "need_id":
			s.once(&seen, 1)
			e.NeedID = s.id()
		case "referents":
			s.once(&seen, 2)
			e.Referents = s.matchRefs()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) matchStatusChanged() (e MatchStatusChanged) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "need_id":
			s.once(&seen, 1)
			e.NeedID = s.id()
		case "referent_id":
			s.once(&seen, 2)
			e.ReferentID = s.id()
		case "from":
			s.once(&seen, 4)
			e.From = MatchStatus(s.known(matchNames))
		case "to":
			s.once(&seen, 8)
			e.To = MatchStatus(s.known(matchNames))
		case "comment":
			s.once(&seen, 16)
			e.Comment = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) commentAdded() (e CommentAdded) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "need_id":
			s.once(&seen, 1)
			e.NeedID = s.id()
		case "text":
			s.once(&seen, 2)
			e.Text = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) reminderSent() (e ReminderSent) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "need_id":
			s.once(&seen, 1)
			e.NeedID = s.id()
		case "kind":
			s.once(&seen, 2)
			e.Kind = ReminderKind(s.known(reminderNames))
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) needAbandoned() (e NeedAbandoned) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "need_id":
			s.once(&seen, 1)
			e.NeedID = s.id()
		case "reason":
			s.once(&seen, 2)
			e.Reason = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) contactErased() (e ContactErased) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "need_id":
			s.once(&seen, 1)
			e.NeedID = s.id()
		case "key_id":
			s.once(&seen, 2)
			e.KeyID = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) organisationCreated() (e OrganisationCreated) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "organisation_id":
			s.once(&seen, 1)
			e.OrganisationID = s.id()
		case "name":
			s.once(&seen, 2)
			e.Name = s.str()
		case "kind":
			s.once(&seen, 4)
			e.Kind = OrganisationKind(s.known(kindNames))
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) antenneCreated() (e AntenneCreated) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "organisation_id":
			s.once(&seen, 1)
			e.OrganisationID = s.id()
		case "antenne_id":
			s.once(&seen, 2)
			e.AntenneID = s.id()
		case "name":
			s.once(&seen, 4)
			e.Name = s.str()
		case "zone":
			s.once(&seen, 8)
			e.Zone = s.zone()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) referentRegistered() (e ReferentRegistered) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "referent_id":
			s.once(&seen, 1)
			e.ReferentID = s.id()
		case "organisation_id":
			s.once(&seen, 2)
			e.OrganisationID = s.id()
		case "antenne_id":
			s.once(&seen, 4)
			e.AntenneID = s.id()
		case "name":
			s.once(&seen, 8)
			e.Name = s.str()
		case "email":
			s.once(&seen, 16)
			e.Email = s.str()
		case "subjects":
			s.once(&seen, 32)
			e.Subjects = s.strs()
		case "zones":
			s.once(&seen, 64)
			e.Zones = s.zones()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) referentCoverageChanged() (e ReferentCoverageChanged) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "referent_id":
			s.once(&seen, 1)
			e.ReferentID = s.id()
		case "subjects":
			s.once(&seen, 2)
			e.Subjects = s.strs()
		case "zones":
			s.once(&seen, 4)
			e.Zones = s.zones()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) referentDeactivated() (e ReferentDeactivated) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "referent_id":
			s.once(&seen, 1)
			e.ReferentID = s.id()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) userRegistered() (e UserRegistered) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "user_id":
			s.once(&seen, 1)
			e.UserID = s.id()
		case "name":
			s.once(&seen, 2)
			e.Name = s.str()
		case "email":
			s.once(&seen, 4)
			e.Email = s.str()
		case "role":
			s.once(&seen, 8)
			e.Role = Role(s.known(roleNames))
		case "organisation_id":
			s.once(&seen, 16)
			e.OrganisationID = s.id()
		case "referent_id":
			s.once(&seen, 32)
			e.ReferentID = s.id()
		case "territories":
			s.once(&seen, 64)
			e.Territories = s.zones()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) referentDetailsChanged() (e ReferentDetailsChanged) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "referent_id":
			s.once(&seen, 1)
			e.ReferentID = s.id()
		case "antenne_id":
			s.once(&seen, 2)
			e.AntenneID = s.id()
		case "name":
			s.once(&seen, 4)
			e.Name = s.str()
		case "phone":
			s.once(&seen, 8)
			e.Phone = s.str()
		case "function":
			s.once(&seen, 16)
			e.Function = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) referentReactivated() (e ReferentReactivated) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "referent_id":
			s.once(&seen, 1)
			e.ReferentID = s.id()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) directoryImported() (e DirectoryImported) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "import_id":
			s.once(&seen, 1)
			e.ImportID = s.id()
		case "file_name":
			s.once(&seen, 2)
			e.FileName = s.str()
		case "file_sha256":
			s.once(&seen, 4)
			e.FileSHA256 = s.str()
		case "format":
			s.once(&seen, 8)
			e.Format = s.str()
		case "headers":
			s.once(&seen, 16)
			e.Headers = s.str()
		case "by_name":
			s.once(&seen, 32)
			e.ByName = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) territoryOpened() (e TerritoryOpened) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "zone":
			s.once(&seen, 1)
			e.Zone = s.zone()
		case "opened_on":
			s.once(&seen, 2)
			e.OpenedOn = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}
