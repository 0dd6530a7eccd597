package stats

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/needfold"
)

// statsStateV1 and statsStateV2 open the binary forms of what statistics
// keep of a need in stats_needs.state; version 2 adds the Signaux Faibles
// alert to the flags.
const (
	statsStateV1 = 1
	statsStateV2 = 2
)

// appendState appends to b the part of s that statistics
// keep in stats_needs: what their figures read (place, capture time,
// matches' organisations, statuses and times, abandonment) and what the
// checks of later events read (referents, statuses, abandonment, version).
// A state read back from it folds later events and contributes exactly as
// the full state does, and encodes the same again. It keeps no company
// name nor contact key.
//
// The form is binary (about 140 bytes a need against 470 for the JSON it
// replaced): stats_needs is, after the log, the largest table a rebuild
// writes. Layout: version byte; id (16 bytes); département, région and
// subject (length-prefixed); captured_at (varint); flags (bit 0:
// abandoned; bits 1 and 2: the Signaux Faibles alert, 0 none, 1 F1, 2 F2);
// version (uvarint); the number of matches, then per match its
// referent and organisation ids (16 bytes each), status (length-prefixed),
// sent_at as a varint offset from captured_at, a presence byte and, when
// set, taken_at as a varint offset from sent_at.
func appendState(b []byte, s *needfold.State) []byte {
	b = append(b, statsStateV2)
	b = append(b, s.ID[:]...)
	b = appendShortString(b, s.Departement)
	b = appendShortString(b, s.Region)
	b = appendShortString(b, s.Subject)
	b = binary.AppendVarint(b, s.CapturedAt)
	b = append(b, byte(projections.Flag(s.Abandoned))|sfLevel(s.SFAlert)<<1)
	b = binary.AppendUvarint(b, uint64(s.Version))
	b = binary.AppendUvarint(b, uint64(len(s.Matches)))
	for _, m := range s.Matches {
		b = append(b, m.ReferentID[:]...)
		b = append(b, m.OrganisationID[:]...)
		b = appendShortString(b, string(m.Status))
		b = binary.AppendVarint(b, m.SentAt-s.CapturedAt)
		if m.TakenAt == 0 {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendVarint(b, m.TakenAt-m.SentAt)
	}
	return b
}

func appendShortString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// errBadState is the error of a stats_needs state that does not
// decode: a corrupt row stops the projection rather than being skipped.
var errBadState = errors.New("projections: malformed statistics state")

// decodeState reads back a state written by appendState. It returns an
// error wrapping errBadState for anything else. (Tables whose rows held
// the JSON of earlier versions were built by schema version 0, and are
// rebuilt.)
func decodeState(raw []byte) (*needfold.State, error) {
	r := stateReaderBuf{b: raw}
	v := r.byte()
	if v != statsStateV1 && v != statsStateV2 {
		return nil, fmt.Errorf("%w: version %d", errBadState, v)
	}
	s := new(needfold.State)
	s.ID = r.id()
	s.Departement, s.Region, s.Subject = r.str(), r.str(), r.str()
	s.CapturedAt = r.varint()
	// Version 1 wrote 0 or 1; version 2 adds an alert of 0 to 2 above.
	flags := r.byte()
	if flags&^7 != 0 || flags>>1 == 3 || v == statsStateV1 && flags > 1 {
		r.fail("flags")
	}
	s.Abandoned = flags&1 != 0
	s.SFAlert = sfAlertOf(flags >> 1 & 3)
	s.Version = int64(r.uvarint())
	n := r.uvarint()
	// Each match takes at least 35 bytes: a count beyond what is left is
	// corrupt, and must not size an allocation.
	if n > uint64(len(r.b))/35 {
		return nil, fmt.Errorf("%w: %d matches in %d bytes", errBadState, n, len(r.b))
	}
	if n > 0 {
		s.Matches = make([]needfold.Match, n)
	}
	for i := range s.Matches {
		m := &s.Matches[i]
		m.ReferentID, m.OrganisationID = r.id(), r.id()
		m.Status = domain.MatchStatus(r.str())
		m.SentAt = s.CapturedAt + r.varint()
		if r.flag() {
			m.TakenAt = m.SentAt + r.varint()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes left over", errBadState, len(r.b))
	}
	return s, nil
}

// stateReaderBuf reads appendState's fields; the first short read
// sets err and makes every later read return zero.
type stateReaderBuf struct {
	b   []byte
	err error
}

func (r *stateReaderBuf) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated %s", errBadState, what)
	}
	r.b = nil
}

func (r *stateReaderBuf) byte() byte {
	if len(r.b) < 1 {
		r.fail("byte")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// flag reads a byte that must be 0 or 1.
func (r *stateReaderBuf) flag() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("flag")
	return false
}

func (r *stateReaderBuf) id() uuid.UUID {
	var id uuid.UUID
	if len(r.b) < len(id) {
		r.fail("id")
		return id
	}
	copy(id[:], r.b)
	r.b = r.b[len(id):]
	return id
}

func (r *stateReaderBuf) uvarint() uint64 { return readVarint(r, binary.Uvarint, "uvarint") }
func (r *stateReaderBuf) varint() int64   { return readVarint(r, binary.Varint, "varint") }

// readVarint reads one number with decode (binary.Uvarint or Varint).
func readVarint[T int64 | uint64](r *stateReaderBuf, decode func([]byte) (T, int), what string) T {
	v, n := decode(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReaderBuf) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("string")
		return ""
	}
	v := string(r.b[:n])
	r.b = r.b[n:]
	return v
}

// readStates reads the states of ids from the state column of table
// (stats_needs).
func readStates(ctx context.Context, tx projections.Txn, table string, ids []any, into map[uuid.UUID]*needfold.State) error {
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT state FROM %s WHERE id IN ", table)
	projections.Placeholders(&b, tx.Dialect(), 0, len(ids))
	rows, err := tx.QueryContext(ctx, b.String(), ids...)
	if err != nil {
		return fmt.Errorf("load states from %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return fmt.Errorf("load states from %s: %w", table, err)
		}
		s, err := decodeState(raw)
		if err != nil {
			return fmt.Errorf("load states from %s: %w", table, err)
		}
		into[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load states from %s: %w", table, err)
	}
	return nil
}
