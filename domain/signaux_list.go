package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// A Signaux Faibles list is the list of one period (a month): its stream,
// SFListStream(SFListID(period)), records each import of it. The first
// import of a period creates the list; a later one with other content (a
// correction) replaces it, and one with the same content changes nothing
// (ErrSFListUnchanged). An import is one SignauxFaiblesListImported event
// (who, when, label, period, counts, a digest of the content) followed by
// its lines, in parts of SignauxFaiblesLinesRecorded, all appended at once:
// the log keeps every list as it was imported, so the flags of any past
// instant can be rebuilt (SFHistory).
//
// The list that applies is the latest: the one of the greatest period,
// and, for that period, its last import.

// ErrSFListUnchanged: an import whose label and lines equal the list's last
// import. Nothing is recorded.
var ErrSFListUnchanged = errors.New("signaux faibles list unchanged")

// sfNamespace names the lists' ids (UUID version 5 of the period).
var sfNamespace = uuid.MustParse("5f1a9e2c-6d0b-4c3e-9b7a-2a1e6c0d4f58")

// SFListID is the id of the list of period ("2026-03"): the same for every
// import of that month, so that they share one stream.
func SFListID(period string) uuid.UUID {
	return uuid.NewSHA1(sfNamespace, []byte("signaux-faibles/"+period))
}

// MaxSFLabelLen bounds a list's label (runes).
const MaxSFLabelLen = 100

// sfPartBudget bounds the encoded size of one part of a list's lines, far
// below the log's limit on an event (1 MiB).
const sfPartBudget = 600 << 10

// SFListImport is the input of an import: a label ("" gives "Mars 2026"
// for period 2026-03), the period, and the lines with an alert, each
// validated by ParseSFLine.
type SFListImport struct {
	Label  string
	Period string
	Lines  []SFLine
}

// SFImport is one import of a list, as its first event records it.
type SFImport struct {
	ListID   uuid.UUID
	ImportID uuid.UUID
	Label    string
	Period   string
	Lines    int
	F1, F2   int
	Parts    int
	Digest   string
	At       time.Time
	By       Actor
	// Version is the stream version of the import's first event: the
	// imports of one period are ordered by it.
	Version int64
}

// SFList is the aggregate of one period's list: its imports. Import
// decides and records a new one; Apply folds the stream. It is not safe
// for concurrent use.
type SFList struct {
	id       uuid.UUID
	period   string
	imports  []SFImport
	partsGot int // parts seen of the last import
	version  int64
	changes  []Event
}

// NewSFList returns the state of the list of period, before any event.
func NewSFList(period string) *SFList {
	return &SFList{id: SFListID(period), period: period}
}

// ID is the list's id.
func (l *SFList) ID() uuid.UUID { return l.id }

// Version is the number of events of the list's stream folded.
func (l *SFList) Version() int64 { return l.version }

// Imports returns the imports of the list, oldest first.
func (l *SFList) Imports() []SFImport { return slices.Clone(l.imports) }

// Last returns the list's last import, and false when it has none.
func (l *SFList) Last() (SFImport, bool) {
	if len(l.imports) == 0 {
		return SFImport{}, false
	}
	return l.imports[len(l.imports)-1], true
}

// Changes returns the events recorded by commands since the list was
// loaded, for the store.
func (l *SFList) Changes() []Event { return slices.Clone(l.changes) }

// Apply folds one event of the list's stream. It returns an error wrapping
// ErrEventMismatch for an event of another list, lines of an import that
// is not the last one or beyond its parts, or an import before the
// previous one's parts all came.
func (l *SFList) Apply(e Event) error {
	switch e := e.(type) {
	case SignauxFaiblesListImported:
		if e.ListID != l.id {
			return mismatch("import of list %s in list %s", e.ListID, l.id)
		}
		if last, ok := l.Last(); ok && l.partsGot != last.Parts {
			return mismatch("import %s before the %d parts of import %s", e.ImportID, last.Parts, last.ImportID)
		}
		l.imports = append(l.imports, sfImportOf(e, l.version+1))
		l.partsGot = 0
	case SignauxFaiblesLinesRecorded:
		if e.ListID != l.id {
			return mismatch("lines of list %s in list %s", e.ListID, l.id)
		}
		last, ok := l.Last()
		if !ok || last.ImportID != e.ImportID || e.Part != l.partsGot+1 || e.Part > last.Parts {
			return mismatch("part %d of import %s out of order", e.Part, e.ImportID)
		}
		l.partsGot++
	default:
		return mismatch("%s is not an event of a Signaux Faibles list", typeName(e))
	}
	l.version++
	return nil
}

func sfImportOf(e SignauxFaiblesListImported, version int64) SFImport {
	return SFImport{ListID: e.ListID, ImportID: e.ImportID, Label: e.Label, Period: e.Period, Lines: e.Lines,
		F1: e.F1, F2: e.F2, Parts: e.Parts, Digest: e.Digest, At: e.At, By: e.By, Version: version}
}

// Import records an import of the list: its lines sorted by SIREN and cut
// into parts, after the import's header. importID names the import (the
// caller's new id).
//
// It returns ErrSFListUnchanged when the label and lines equal those of
// the list's last import, and a *ValidationError (or ValidationErrors) for
// a label that is too long, a period that is not the list's, no line, a
// line ParseSFLine would refuse, or a SIREN given twice.
func (l *SFList) Import(in SFListImport, importID uuid.UUID, by Actor, at time.Time) error {
	if err := checkAt(at); err != nil {
		return err
	}
	if importID == uuid.Nil {
		return invalid("import_id", "missing")
	}
	label := strings.Join(strings.Fields(in.Label), " ")
	if label == "" {
		label = SFPeriodLabel(in.Period)
	}
	var errs []error
	if n := utf8.RuneCountInString(label); n > MaxSFLabelLen {
		errs = append(errs, invalid("label", "%d characters, at most %d", n, MaxSFLabelLen))
	}
	if in.Period != l.period {
		errs = append(errs, invalid("period", "%q is not the list's period %s", clip(in.Period), l.period))
	}
	if len(in.Lines) == 0 {
		errs = append(errs, invalid("lines", "the list has no line with an alert"))
	}
	lines := slices.Clone(in.Lines)
	slices.SortFunc(lines, func(a, b SFLine) int { return strings.Compare(a.SIREN, b.SIREN) })
	for i, ln := range lines {
		if err := ln.check(); err != nil {
			errs = append(errs, err)
			break
		}
		if i > 0 && lines[i-1].SIREN == ln.SIREN {
			errs = append(errs, invalid("lines", "SIREN %s given twice", ln.SIREN))
			break
		}
	}
	if err := JoinValidation(errs...); err != nil {
		return err
	}
	digest := sfDigest(label, l.period, lines)
	if last, ok := l.Last(); ok && last.Digest == digest {
		return ErrSFListUnchanged
	}
	parts := sfParts(lines)
	head := SignauxFaiblesListImported{Meta: newMeta(by, at), ListID: l.id, ImportID: importID, Label: label,
		Period: l.period, Lines: len(lines), Parts: len(parts), Digest: digest}
	for _, ln := range lines {
		if ln.Alert == SFAlertF1 {
			head.F1++
		} else {
			head.F2++
		}
	}
	events := []Event{head}
	for i, p := range parts {
		events = append(events, SignauxFaiblesLinesRecorded{Meta: newMeta(by, at), ListID: l.id, ImportID: importID,
			Part: i + 1, Lines: p})
	}
	for _, e := range events {
		if err := l.Apply(e); err != nil {
			return err
		}
	}
	l.changes = append(l.changes, events...)
	return nil
}

// check validates a line built by ParseSFLine, or by other code.
func (ln SFLine) check() error {
	if _, err := ParseSIREN(ln.SIREN); err != nil || len(ln.SIREN) != 9 {
		return invalid("lines", "SIREN %q is not 9 digits with its Luhn key", clip(ln.SIREN))
	}
	if !ln.Alert.Valid() {
		return invalid("lines", "SIREN %s: alert %q is not F1 nor F2", ln.SIREN, clip(string(ln.Alert)))
	}
	if math0to1(ln.Score) {
		return invalid("lines", "SIREN %s: score %v is outside 0 to 1", ln.SIREN, ln.Score)
	}
	if c, err := parseSFCommune(ln.Commune); err != nil || c != ln.Commune {
		return invalid("lines", "SIREN %s: %q is not an INSEE commune code", ln.SIREN, clip(ln.Commune))
	}
	for _, f := range []struct{ name, v string }{{"algo", ln.Algo}, {"batch", ln.Batch}} {
		if t, err := sfTag(f.name, f.v); err != nil || t != f.v {
			return invalid("lines", "SIREN %s: %s %q is not a trimmed name of at most %d printable characters", ln.SIREN, f.name, clip(f.v), MaxSFTagLen)
		}
	}
	return nil
}

// math0to1 reports whether v is outside [0, 1] (NaN included).
func math0to1(v float64) bool { return !(v >= 0 && v <= 1) }

// sfDigest is the SHA-256 of a list's content, independent of the order
// its lines came in (they are sorted by SIREN).
func sfDigest(label, period string, sorted []SFLine) string {
	h := sha256.New()
	var b []byte
	b = append(b, label...)
	b = append(b, 0)
	b = append(b, period...)
	b = append(b, 0)
	for _, ln := range sorted {
		b = append(b, ln.SIREN...)
		b = append(b, 0)
		b = append(b, ln.Alert...)
		b = append(b, 0)
		b = strconv.AppendFloat(b, ln.Score, 'g', -1, 64)
		b = append(b, 0)
		b = append(b, ln.Algo...)
		b = append(b, 0)
		b = append(b, ln.Batch...)
		b = append(b, 0)
		b = append(b, ln.Commune...)
		b = append(b, '\n')
		if len(b) > 64<<10 {
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// sfParts cuts sorted lines into parts whose JSON stays within
// sfPartBudget, counting each line at its largest encoding (every
// character of algo and batch escaped as \uXXXX).
func sfParts(lines []SFLine) [][]SFLine {
	var parts [][]SFLine
	start, size := 0, 0
	for i, ln := range lines {
		n := 120 + 6*(len(ln.Algo)+len(ln.Batch))
		if size+n > sfPartBudget && i > start {
			parts = append(parts, lines[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(lines) {
		parts = append(parts, lines[start:])
	}
	return parts
}

// SFRevision is an import of a list with its lines: what applies while it
// is the latest.
type SFRevision struct {
	SFImport
	lines []SFLine // sorted by SIREN
}

// SortedLines returns the revision's lines, sorted by SIREN (Lines, of
// its SFImport, counts them).
func (r *SFRevision) SortedLines() []SFLine { return slices.Clone(r.lines) }

// Line returns the line of siren, and false when the list does not name
// it.
func (r *SFRevision) Line(siren string) (SFLine, bool) {
	i, ok := slices.BinarySearchFunc(r.lines, siren, func(l SFLine, s string) int { return strings.Compare(l.SIREN, s) })
	if !ok {
		return SFLine{}, false
	}
	return r.lines[i], true
}

// Flag is what a need of the company siren shows: its alert and score in
// this revision, with the list's label and period; false when the list
// does not name it.
func (r *SFRevision) Flag(siren string) (SFFlag, bool) {
	ln, ok := r.Line(siren)
	if !ok {
		return SFFlag{}, false
	}
	return SFFlag{Alert: ln.Alert, Score: ln.Score, List: r.Label, Periode: r.Period}, true
}

// SFHistory folds the Signaux Faibles events of the whole log, in log
// order, and answers which list applied at any instant: the flags at a past
// date rebuilt from the log. It is not safe for concurrent use.
type SFHistory struct {
	lists    map[uuid.UUID]*SFList
	revs     []*SFRevision // complete imports, in log order
	building *SFRevision   // the import whose parts are coming
}

// NewSFHistory returns an empty history.
func NewSFHistory() *SFHistory { return &SFHistory{lists: map[uuid.UUID]*SFList{}} }

// IsSFEvent reports whether e is an event of a Signaux Faibles list.
func IsSFEvent(e Event) bool {
	switch e.(type) {
	case SignauxFaiblesListImported, SignauxFaiblesLinesRecorded:
		return true
	}
	return false
}

// Apply folds one event of the log; events of other streams are ignored.
// It returns an error wrapping ErrEventMismatch for list events out of
// order (see SFList.Apply).
func (h *SFHistory) Apply(e Event) error {
	switch e := e.(type) {
	case SignauxFaiblesListImported:
		l := h.lists[e.ListID]
		if l == nil {
			l = NewSFList(e.Period)
			if l.id != e.ListID {
				return mismatch("list %s is not the list of period %s", e.ListID, e.Period)
			}
			h.lists[e.ListID] = l
		}
		if err := l.Apply(e); err != nil {
			return err
		}
		last, _ := l.Last()
		h.building = &SFRevision{SFImport: last}
		h.complete()
	case SignauxFaiblesLinesRecorded:
		l := h.lists[e.ListID]
		if l == nil || h.building == nil || h.building.ImportID != e.ImportID {
			return mismatch("lines of import %s without its header", e.ImportID)
		}
		if err := l.Apply(e); err != nil {
			return err
		}
		h.building.lines = append(h.building.lines, e.Lines...)
		h.complete()
	}
	return nil
}

// complete moves the import being built among the revisions once its
// parts have all come.
func (h *SFHistory) complete() {
	b := h.building
	if b == nil || h.lists[b.ListID].partsGot != b.Parts {
		return
	}
	slices.SortFunc(b.lines, func(x, y SFLine) int { return strings.Compare(x.SIREN, y.SIREN) })
	h.revs = append(h.revs, b)
	h.building = nil
}

// Revisions returns the complete imports folded so far, in log order.
func (h *SFHistory) Revisions() []*SFRevision { return slices.Clone(h.revs) }

// Applying returns the revision that applied at instant at: among the
// imports made at or before it, the list of the greatest period, in its
// last import. The zero instant asks for the latest. It returns nil when
// no list applied.
func (h *SFHistory) Applying(at time.Time) *SFRevision {
	var best *SFRevision
	for _, r := range h.revs {
		if !at.IsZero() && r.At.After(at) {
			continue
		}
		if best == nil || SFApplies(r.SFImport, best.SFImport) {
			best = r
		}
	}
	return best
}

// SFApplies reports whether import a applies rather than import b: its
// period is later, or it is the same period's later import.
func SFApplies(a, b SFImport) bool {
	if a.Period != b.Period {
		return a.Period > b.Period
	}
	return a.Version > b.Version
}

// SFListStream is the stream of the list id: "sflist-<id>".
func SFListStream(id uuid.UUID) string { return KindSFListStream + "-" + id.String() }

// String names an import in logs and errors without its content.
func (i SFImport) String() string {
	return fmt.Sprintf("list %s (%s) import %s", i.Period, i.ListID, i.ImportID)
}
