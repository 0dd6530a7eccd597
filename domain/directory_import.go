package domain

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// A directory import (issue 17) brings a whole region's directory in from a
// spreadsheet: one line per referent with their organisation, antenne,
// details, subjects and zones. PlanImport compares the lines with the
// directory and decides, without writing anything, what each line does
// and which events would do it. The rules are in docs/domain.md.

// ImportRow is one line of a directory file as the file gives it: values
// trimmed and lists split, nothing checked yet.
type ImportRow struct {
	Line                          int // in the file, the header being line 1
	Organisation, Kind, Antenne   string
	Name, Email, Phone, Function  string
	Subjects                      []string // codes or labels
	Communes, EPCIs, Departements []string // codes
	Regions                       []string // codes, or "national"
}

// ImportField names the part of a line an issue is about; the file's
// reader names the column it came from.
type ImportField string

// The fields of an import line. ImportZones is about all four zone columns
// at once (a line without any zone).
const (
	ImportOrganisation ImportField = "organisation"
	ImportKind         ImportField = "kind"
	ImportAntenne      ImportField = "antenne"
	ImportName         ImportField = "name"
	ImportEmail        ImportField = "email"
	ImportPhone        ImportField = "phone"
	ImportFunction     ImportField = "function"
	ImportSubjects     ImportField = "subjects"
	ImportCommunes     ImportField = "communes"
	ImportEPCI         ImportField = "epci"
	ImportDepartements ImportField = "departements"
	ImportRegions      ImportField = "regions"
	ImportZones        ImportField = "zones"
)

// ImportIssue is why a line cannot be imported.
type ImportIssue struct {
	Field  ImportField
	Reason string
}

// LineOutcome is what importing a line does.
type LineOutcome string

// The outcomes of a line.
const (
	LineCreated   LineOutcome = "created"   // a new referent
	LineUpdated   LineOutcome = "updated"   // a referent whose details, coverage or activity change
	LineUnchanged LineOutcome = "unchanged" // a referent the directory already holds as the line says
	LineError     LineOutcome = "error"     // the line cannot be imported; see Issues
)

// The parts of a referent an update may change, as ImportLine.Changes names
// them.
const (
	ChangeName        = "name"
	ChangePhone       = "phone"
	ChangeFunction    = "function"
	ChangeAntenne     = "antenne"
	ChangeSubjects    = "subjects"
	ChangeZones       = "zones"
	ChangeReactivated = "reactivated"
)

// ImportLine is the decision on one line.
type ImportLine struct {
	Line           int
	Outcome        LineOutcome
	Organisation   string // as the line writes them
	Email          string
	OrganisationID uuid.UUID // set unless the line is an error
	ReferentID     uuid.UUID // set unless the line is an error
	Changes        []string  // for LineUpdated: what changes
	Issues         []ImportIssue
}

// MissingReferent is an active referent of an organisation the file
// imports again, whom the file no longer lists.
type MissingReferent struct {
	ReferentID, OrganisationID uuid.UUID
	Organisation, Name, Email  string
	Removed                    bool // deactivated by this import (ImportOptions.RemoveMissing)
}

// StreamChange is what an import appends to one stream.
type StreamChange struct {
	Stream string
	New    bool // the stream does not exist yet
	Events []Event
}

// ImportPlan is what an import would do.
type ImportPlan struct {
	Lines                                 []ImportLine
	Missing                               []MissingReferent
	OrganisationsCreated, AntennesCreated int
	// Changes holds the events to append, stream by stream, organisations
	// first (their referents' events refer to them). It is empty when
	// nothing changes, and is meant to be written only when no line is an
	// error.
	Changes []StreamChange
}

// Count returns how many lines have outcome o.
func (p *ImportPlan) Count(o LineOutcome) int {
	n := 0
	for _, l := range p.Lines {
		if l.Outcome == o {
			n++
		}
	}
	return n
}

// Events returns how many events Changes holds.
func (p *ImportPlan) Events() int {
	n := 0
	for _, c := range p.Changes {
		n += len(c.Events)
	}
	return n
}

// ImportOptions are the choices of an import.
type ImportOptions struct {
	// RemoveMissing deactivates the MissingReferents instead of only
	// reporting them.
	RemoveMissing bool
	Geography     *Geography // nil: DefaultGeography()
	By            Actor
	At            time.Time
}

// importIDs derives the ids of what an import creates from what names it,
// so that two imports of the same file racing each other create the same
// streams and one of them loses on the store's expected version instead of
// creating a twin.
var importIDs = uuid.MustParse("5e550000-0000-5000-8000-000000000002")

func importID(parts ...string) uuid.UUID {
	return uuid.NewSHA1(importIDs, []byte(strings.Join(parts, "\x00")))
}

// orgPlan is an organisation the file names.
type orgPlan struct {
	id       uuid.UUID
	name     string
	kind     OrganisationKind
	existing bool
	kindLine int // the line that gave a new organisation its kind, 0 when inferred
	antennes map[string]*antPlan
	order    []*antPlan
	emails   map[string]bool // every email the file lists for it
}

// antPlan is an antenne the file names.
type antPlan struct {
	id       uuid.UUID
	name     string
	zone     Zone
	existing bool
	zones    []Zone // the zones of a new antenne's lines
}

// linePlan is one line while it is decided.
type linePlan struct {
	row                   ImportRow
	out                   *ImportLine
	kind                  OrganisationKind
	name, email, emailKey string
	phone, function       string
	subjects              []string
	zones                 []Zone
	zoneIssue             bool
	org                   *orgPlan
	ant                   *antPlan
}

func (l *linePlan) issue(f ImportField, format string, args ...any) {
	l.out.Issues = append(l.out.Issues, ImportIssue{Field: f, Reason: fmt.Sprintf(format, args...)})
}

// PlanImport decides what importing rows into d does (see ImportPlan). A
// line is an error when: its organisation, name or email is missing; its
// organisation kind is unknown or contradicts the directory or another
// line; its email is malformed, on another line of the file, or the email
// of an active referent of another organisation; its phone is not French;
// a subject, commune, EPCI, département or région is unknown; it names no
// subject, or no zone (a line without zones takes the zone of its antenne
// when the directory already has that antenne). A referent is the same
// when its organisation and email (case ignored) are. It returns a
// *ValidationError only for options it cannot use (a zero instant).
func PlanImport(d *Directory, rows []ImportRow, opts ImportOptions) (ImportPlan, error) {
	if err := checkAt(opts.At); err != nil {
		return ImportPlan{}, err
	}
	geo := opts.Geography
	if geo == nil {
		geo = DefaultGeography()
	}
	plan := ImportPlan{Lines: make([]ImportLine, len(rows))}
	lines := make([]*linePlan, len(rows))
	for i, r := range rows {
		plan.Lines[i] = ImportLine{Line: r.Line, Organisation: strings.TrimSpace(r.Organisation), Email: strings.TrimSpace(r.Email)}
		lines[i] = &linePlan{row: r, out: &plan.Lines[i]}
		checkLine(lines[i], geo)
	}
	markDuplicateEmails(lines)
	orgs := resolveOrganisations(d, lines)
	resolveAntennes(d, lines, geo)
	for _, l := range lines {
		if len(l.zones) == 0 && !l.zoneIssue {
			if l.ant != nil && l.ant.existing {
				l.zones = []Zone{l.ant.zone}
			} else {
				l.issue(ImportZones, "no zone: give communes, EPCI, départements or régions, or an antenne the directory already has, whose zone the referent then takes")
			}
		}
	}
	byEmail := map[string][]*Referent{}
	for _, r := range d.referents {
		k := strings.ToLower(r.Email)
		byEmail[k] = append(byEmail[k], r)
	}
	var referentChanges []StreamChange
	for _, l := range lines {
		if ch, ok := decideReferent(l, d, byEmail, geo, opts); ok {
			referentChanges = append(referentChanges, ch)
		}
	}
	for _, l := range lines {
		if len(l.out.Issues) > 0 {
			l.out.Outcome, l.out.OrganisationID, l.out.ReferentID, l.out.Changes = LineError, uuid.Nil, uuid.Nil, nil
		}
	}
	if err := planOrganisations(&plan, orgs, opts); err != nil {
		return ImportPlan{}, err
	}
	plan.Changes = append(plan.Changes, referentChanges...)
	if err := planMissing(&plan, d, orgs, opts); err != nil {
		return ImportPlan{}, err
	}
	return plan, nil
}

// checkLine checks what a line says on its own.
func checkLine(l *linePlan, geo *Geography) {
	r := l.row
	if strings.TrimSpace(r.Organisation) == "" || FoldName(r.Organisation) == "" {
		l.issue(ImportOrganisation, "is required")
	} else if _, err := requiredText("organisation", r.Organisation, maxNameLen); err != nil {
		l.issue(ImportOrganisation, "%s", message(err))
	}
	if k := strings.TrimSpace(r.Kind); k != "" {
		kind, err := ParseOrganisationKind(k)
		if err != nil {
			l.issue(ImportKind, "unknown organisation kind %q: one of %s", k, kindLabels())
		}
		l.kind = kind
	}
	var err error
	if l.name, err = requiredText("name", r.Name, maxNameLen); err != nil {
		l.issue(ImportName, "%s", message(err))
	}
	l.email = strings.TrimSpace(r.Email)
	l.emailKey = strings.ToLower(l.email)
	switch {
	case l.email == "":
		l.issue(ImportEmail, "is required")
	case !ValidEmail(l.email):
		l.issue(ImportEmail, "%q is not an email address", l.email)
	}
	l.phone = strings.TrimSpace(r.Phone)
	if l.phone != "" && !ValidFrenchPhone(l.phone) {
		l.issue(ImportPhone, "%q is not a French phone number (10 digits from 0, or +33 and 9 digits)", l.phone)
	}
	if l.function = strings.TrimSpace(r.Function); l.function != "" {
		if _, err := requiredText("function", l.function, maxNameLen); err != nil {
			l.issue(ImportFunction, "%s", message(err))
		}
	}
	var unknown []string
	for _, s := range r.Subjects {
		sub, ok := SubjectByCodeOrLabel(s)
		switch {
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%q", s))
		case !slices.Contains(l.subjects, sub.Code):
			l.subjects = append(l.subjects, sub.Code)
		}
	}
	switch {
	case len(unknown) > 0:
		l.issue(ImportSubjects, "unknown subject %s: give subject codes or labels of GET /api/subjects", strings.Join(unknown, ", "))
	case len(l.subjects) == 0:
		l.issue(ImportSubjects, "no subject: a referent handles at least one")
	}
	l.zoneColumn(ImportCommunes, r.Communes, func(code string) (Zone, string) {
		code = padDigits(code, 5)
		if _, ok := geo.Commune(code); ok {
			return Zone{Level: LevelCommune, Code: code}, ""
		}
		if cs := geo.CommunesByPostalCode(code); len(cs) > 0 {
			return Zone{}, fmt.Sprintf("%q is a postal code (of %s), not an INSEE code", code, candidates(cs))
		}
		return Zone{}, fmt.Sprintf("unknown commune %q", code)
	})
	l.zoneColumn(ImportEPCI, r.EPCIs, func(code string) (Zone, string) {
		if _, ok := geo.EPCI(code); ok {
			return Zone{Level: LevelEPCI, Code: code}, ""
		}
		return Zone{}, fmt.Sprintf("unknown EPCI %q (its SIREN, 9 digits)", code)
	})
	l.zoneColumn(ImportDepartements, r.Departements, func(code string) (Zone, string) {
		code = strings.ToUpper(padDigits(code, 2))
		if _, ok := geo.Departement(code); ok {
			return Zone{Level: LevelDepartement, Code: code}, ""
		}
		return Zone{}, fmt.Sprintf("unknown département %q", code)
	})
	l.zoneColumn(ImportRegions, r.Regions, func(code string) (Zone, string) {
		if f := FoldName(code); f == "national" || f == "france" {
			return National, ""
		}
		code = padDigits(code, 2)
		if _, ok := geo.Region(code); ok {
			return Zone{Level: LevelRegion, Code: code}, ""
		}
		return Zone{}, fmt.Sprintf("unknown région %q", code)
	})
}

// zoneColumn reads one zone column's codes into the line's zones, and
// reports every unknown one in one issue.
func (l *linePlan) zoneColumn(f ImportField, codes []string, read func(string) (Zone, string)) {
	var bad []string
	for _, c := range codes {
		z, why := read(strings.TrimSpace(c))
		if why != "" {
			bad = append(bad, why)
			continue
		}
		if !slices.Contains(l.zones, z) {
			l.zones = append(l.zones, z)
		}
	}
	if len(bad) > 0 {
		l.issue(f, "%s", strings.Join(bad, "; "))
		l.zoneIssue = true
	}
}

// message is a validation error's message without its field.
func message(err error) string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Message
	}
	return err.Error()
}

// padDigits gives back the leading zeros a spreadsheet drops from codes it
// takes for numbers ("2691" for the commune 02691, "2" for the Aisne).
func padDigits(code string, width int) string {
	if code == "" || len(code) >= width || strings.Trim(code, "0123456789") != "" {
		return code
	}
	return strings.Repeat("0", width-len(code)) + code
}

// candidates names communes as "59350 Lille, 59000 ...".
func candidates(cs []Commune) string {
	names := make([]string, 0, min(len(cs), 5))
	for _, c := range cs[:min(len(cs), 5)] {
		names = append(names, c.Code+" "+c.Name)
	}
	if len(cs) > 5 {
		names = append(names, "…")
	}
	return strings.Join(names, ", ")
}

func kindLabels() string {
	labels := make([]string, len(organisationKinds))
	for i, o := range organisationKinds {
		labels[i] = o.label
	}
	return strings.Join(labels, ", ")
}

// markDuplicateEmails makes every line whose email another line also has
// an error: which of them is right is for a person to say.
func markDuplicateEmails(lines []*linePlan) {
	at := map[string][]int{}
	for _, l := range lines {
		if l.emailKey != "" {
			at[l.emailKey] = append(at[l.emailKey], l.row.Line)
		}
	}
	for _, l := range lines {
		if others := at[l.emailKey]; len(others) > 1 {
			var on []string
			for _, n := range others {
				if n != l.row.Line {
					on = append(on, fmt.Sprint(n))
				}
			}
			l.issue(ImportEmail, "duplicate email in the file: also on line %s", strings.Join(on, ", "))
		}
	}
}

// inferKind guesses a new organisation's kind from its name when the file
// gives none ("CCI Grand Lille" is a CCI), and is KindOther otherwise.
func inferKind(name string) OrganisationKind {
	f := FoldName(name)
	for _, o := range organisationKinds {
		if o.kind == KindOther {
			continue
		}
		if l := FoldName(o.label); f == l || strings.HasPrefix(f, l+" ") {
			return o.kind
		}
	}
	return KindOther
}

// resolveOrganisations finds each line's organisation in d by name (case,
// accents and punctuation ignored), or plans it, and returns them in the
// order of the file.
func resolveOrganisations(d *Directory, lines []*linePlan) []*orgPlan {
	existing := map[string][]*Organisation{}
	for _, o := range d.organisations {
		k := FoldName(o.Name)
		existing[k] = append(existing[k], o)
	}
	planned := map[string]*orgPlan{}
	var order []*orgPlan
	for _, l := range lines {
		name := strings.TrimSpace(l.row.Organisation)
		key := FoldName(name)
		if key == "" {
			continue
		}
		o := planned[key]
		if o == nil {
			o = &orgPlan{name: name, antennes: map[string]*antPlan{}, emails: map[string]bool{}}
			switch found := existing[key]; len(found) {
			case 0:
				o.id = importID("organisation", key)
				o.kind = inferKind(name)
			case 1:
				o.id, o.name, o.kind, o.existing = found[0].ID, found[0].Name, found[0].Kind, true
			default:
				l.issue(ImportOrganisation, "the directory has %d organisations named %q: tell them apart by name first", len(found), name)
				continue
			}
			planned[key] = o
			order = append(order, o)
		}
		l.org = o
		if l.emailKey != "" {
			o.emails[l.emailKey] = true
		}
		if l.kind == "" {
			continue
		}
		switch {
		case o.existing && l.kind != o.kind:
			l.issue(ImportKind, "organisation %q is a %s in the directory, not a %s", o.name, o.kind.Label(), l.kind.Label())
		case !o.existing && o.kindLine == 0:
			o.kind, o.kindLine = l.kind, l.row.Line
		case !o.existing && l.kind != o.kind:
			l.issue(ImportKind, "organisation %q is a %s on line %d", o.name, o.kind.Label(), o.kindLine)
		}
	}
	return order
}

// resolveAntennes finds each line's antenne in its organisation by name, or
// plans it with the zones of its lines.
func resolveAntennes(d *Directory, lines []*linePlan, geo *Geography) {
	for _, l := range lines {
		name := strings.TrimSpace(l.row.Antenne)
		key := FoldName(name)
		if l.org == nil || key == "" {
			continue
		}
		a := l.org.antennes[key]
		if a == nil {
			a = &antPlan{name: name}
			if l.org.existing {
				for _, ex := range d.Antennes(l.org.id) {
					if FoldName(ex.Name) == key {
						a.id, a.name, a.zone, a.existing = ex.ID, ex.Name, ex.Zone, true
						break
					}
				}
			}
			if !a.existing {
				a.id = importID("antenne", l.org.id.String(), key)
			}
			l.org.antennes[key] = a
			l.org.order = append(l.org.order, a)
		}
		l.ant = a
		if !a.existing && !l.zoneIssue {
			a.zones = append(a.zones, l.zones...)
		}
	}
	for _, l := range lines {
		if l.ant != nil && !l.ant.existing && l.ant.zone == (Zone{}) {
			l.ant.zone = geo.enclosing(l.ant.zones)
		}
	}
}

// enclosing is the smallest département or région holding every zone, or
// national.
func (g *Geography) enclosing(zones []Zone) Zone {
	deps, regs := map[string]bool{}, map[string]bool{}
	wholeRegion := false
	for _, z := range zones {
		switch z.Level {
		case LevelNational:
			return National
		case LevelRegion:
			regs[z.Code], wholeRegion = true, true
		case LevelDepartement:
			deps[z.Code] = true
			regs[g.departements[z.Code].Region] = true
		case LevelCommune:
			if c, ok := g.Commune(z.Code); ok {
				deps[c.Departement], regs[c.Region] = true, true
			}
		case LevelEPCI:
			for _, c := range g.CommunesIn(z) {
				deps[c.Departement], regs[c.Region] = true, true
			}
		}
	}
	switch {
	case len(deps) == 1 && !wholeRegion:
		for code := range deps {
			return Zone{Level: LevelDepartement, Code: code}
		}
	case len(regs) == 1:
		for code := range regs {
			return Zone{Level: LevelRegion, Code: code}
		}
	}
	return National
}

// decideReferent decides a line without issues: a new referent, an update
// or nothing. It returns the stream change, if any.
func decideReferent(l *linePlan, d *Directory, byEmail map[string][]*Referent, geo *Geography, opts ImportOptions) (StreamChange, bool) {
	if len(l.out.Issues) > 0 || l.org == nil {
		return StreamChange{}, false
	}
	antID := uuid.Nil
	if l.ant != nil {
		antID = l.ant.id
	}
	var same []*Referent
	var elsewhere *Referent
	for _, r := range byEmail[l.emailKey] {
		switch {
		case r.OrganisationID == l.org.id:
			same = append(same, r)
		case r.Active:
			elsewhere = r
		}
	}
	switch {
	case len(same) > 1:
		l.issue(ImportEmail, "%d referents of %s have this email in the directory", len(same), l.org.name)
		return StreamChange{}, false
	case len(same) == 0 && elsewhere != nil:
		other := elsewhere.OrganisationID.String()
		if o, ok := d.organisations[elsewhere.OrganisationID]; ok {
			other = o.Name
		}
		l.issue(ImportEmail, "is the email of a referent of %s: a referent does not move between organisations (deactivate them there first)", other)
		return StreamChange{}, false
	}
	l.out.OrganisationID = l.org.id
	details := ReferentDetails{Name: l.name, Phone: l.phone, Function: l.function, AntenneID: antID}
	if len(same) == 0 {
		id := importID("referent", l.org.id.String(), l.emailKey)
		reg, err := RegisterReferent(ReferentRegistration{ReferentID: id, OrganisationID: l.org.id, AntenneID: antID,
			Name: l.name, Email: l.email, Subjects: l.subjects, Zones: l.zones}, geo, opts.By, opts.At)
		if l.fromValidation(err) {
			return StreamChange{}, false
		}
		evs := []Event{reg}
		if l.phone != "" || l.function != "" {
			dc, err := ChangeReferentDetails(id, details, opts.By, opts.At)
			if l.fromValidation(err) {
				return StreamChange{}, false
			}
			evs = append(evs, dc)
		}
		l.out.Outcome, l.out.ReferentID = LineCreated, id
		return StreamChange{Stream: ReferentStream(id), New: true, Events: evs}, true
	}
	r := same[0]
	l.out.ReferentID = r.ID
	var evs []Event
	if !r.Active {
		e, err := ReactivateReferent(r.ID, opts.By, opts.At)
		if l.fromValidation(err) {
			return StreamChange{}, false
		}
		evs = append(evs, e)
		l.out.Changes = append(l.out.Changes, ChangeReactivated)
	}
	var changed []string
	for _, c := range []struct {
		what string
		diff bool
	}{{ChangeName, r.Name != l.name}, {ChangePhone, r.Phone != l.phone}, {ChangeFunction, r.Function != l.function}, {ChangeAntenne, r.AntenneID != antID}} {
		if c.diff {
			changed = append(changed, c.what)
		}
	}
	if len(changed) > 0 {
		e, err := ChangeReferentDetails(r.ID, details, opts.By, opts.At)
		if l.fromValidation(err) {
			return StreamChange{}, false
		}
		evs = append(evs, e)
		l.out.Changes = append(l.out.Changes, changed...)
	}
	subjectsDiffer, zonesDiffer := !sameSet(r.Subjects, l.subjects), !sameSet(r.Zones, l.zones)
	if subjectsDiffer || zonesDiffer {
		e, err := ChangeCoverage(r.ID, l.subjects, l.zones, geo, opts.By, opts.At)
		if l.fromValidation(err) {
			return StreamChange{}, false
		}
		evs = append(evs, e)
		if subjectsDiffer {
			l.out.Changes = append(l.out.Changes, ChangeSubjects)
		}
		if zonesDiffer {
			l.out.Changes = append(l.out.Changes, ChangeZones)
		}
	}
	if len(evs) == 0 {
		l.out.Outcome = LineUnchanged
		return StreamChange{}, false
	}
	l.out.Outcome = LineUpdated
	return StreamChange{Stream: ReferentStream(r.ID), Events: evs}, true
}

// fromValidation turns a command's refusal into an issue of the line (the
// line's checks catch these first; this keeps the commands the last word)
// and reports whether there was one.
func (l *linePlan) fromValidation(err error) bool {
	if err == nil {
		return false
	}
	field := ImportName
	msg := message(err)
	var ve *ValidationError
	if errors.As(err, &ve) {
		switch ve.Field {
		case "subjects":
			field = ImportSubjects
		case "zones":
			field = ImportZones
		case "email":
			field = ImportEmail
		case "phone":
			field = ImportPhone
		case "function":
			field = ImportFunction
		}
	}
	l.issue(field, "%s", msg)
	return true
}

// sameSet reports whether a and b hold the same values, in any order.
func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// planOrganisations puts the new organisations and antennes first in the
// plan's changes.
func planOrganisations(plan *ImportPlan, orgs []*orgPlan, opts ImportOptions) error {
	var changes []StreamChange
	for _, o := range orgs {
		var evs []Event
		if !o.existing {
			e, err := NewOrganisation(o.id, o.name, o.kind, opts.By, opts.At)
			if err != nil {
				return fmt.Errorf("plan organisation %q: %w", o.name, err)
			}
			evs = append(evs, e)
			plan.OrganisationsCreated++
		}
		for _, a := range o.order {
			if a.existing {
				continue
			}
			e, err := NewAntenne(o.id, a.id, a.name, a.zone, opts.Geography, opts.By, opts.At)
			if err != nil {
				return fmt.Errorf("plan antenne %q: %w", a.name, err)
			}
			evs = append(evs, e)
			plan.AntennesCreated++
		}
		if len(evs) > 0 {
			changes = append(changes, StreamChange{Stream: OrganisationStream(o.id), New: !o.existing, Events: evs})
		}
	}
	plan.Changes = append(changes, plan.Changes...)
	return nil
}

// planMissing lists the active referents of the file's existing
// organisations that the file no longer names, and deactivates them when
// asked.
func planMissing(plan *ImportPlan, d *Directory, orgs []*orgPlan, opts ImportOptions) error {
	for _, o := range orgs {
		if !o.existing {
			continue
		}
		var missing []*Referent
		for _, r := range d.referents {
			if r.OrganisationID == o.id && r.Active && !o.emails[strings.ToLower(r.Email)] {
				missing = append(missing, r)
			}
		}
		slices.SortFunc(missing, func(a, b *Referent) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), compareIDs(a.ID, b.ID))
		})
		for _, r := range missing {
			plan.Missing = append(plan.Missing, MissingReferent{ReferentID: r.ID, OrganisationID: o.id,
				Organisation: o.name, Name: r.Name, Email: r.Email, Removed: opts.RemoveMissing})
			if !opts.RemoveMissing {
				continue
			}
			e, err := DeactivateReferent(r.ID, opts.By, opts.At)
			if err != nil {
				return fmt.Errorf("plan removal of %s: %w", r.ID, err)
			}
			plan.Changes = append(plan.Changes, StreamChange{Stream: ReferentStream(r.ID), Events: []Event{e}})
		}
	}
	return nil
}

// DirectoryRows writes the directory's active referents as import lines,
// by organisation, antenne, name and email: what an export writes, and
// what PlanImport finds unchanged. Zones go to their level's column; a
// national zone is "national" among the régions.
func DirectoryRows(d *Directory) []ImportRow {
	var out []ImportRow
	for _, r := range d.referents {
		if !r.Active {
			continue
		}
		row := ImportRow{Name: r.Name, Email: r.Email, Phone: r.Phone, Function: r.Function, Subjects: slices.Clone(r.Subjects)}
		if o, ok := d.organisations[r.OrganisationID]; ok {
			row.Organisation, row.Kind = o.Name, o.Kind.Label()
		}
		if a, ok := d.antennes[r.AntenneID]; ok {
			row.Antenne = a.Name
		}
		for _, z := range r.Zones {
			switch z.Level {
			case LevelCommune:
				row.Communes = append(row.Communes, z.Code)
			case LevelEPCI:
				row.EPCIs = append(row.EPCIs, z.Code)
			case LevelDepartement:
				row.Departements = append(row.Departements, z.Code)
			case LevelRegion:
				row.Regions = append(row.Regions, z.Code)
			case LevelNational:
				row.Regions = append(row.Regions, string(LevelNational))
			}
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b ImportRow) int {
		return cmp.Or(strings.Compare(a.Organisation, b.Organisation), strings.Compare(a.Antenne, b.Antenne),
			strings.Compare(a.Name, b.Name), strings.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email)))
	})
	for i := range out {
		out[i].Line = i + 2
	}
	return out
}
