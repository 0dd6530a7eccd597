package stats

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/needfold"
)

// The sf_alert dimension: each need counts under the alert its company
// (SIREN) had in the Signaux Faibles list that applied when the need was
// captured — F1, F2, or none —, so that funders can ask whether alerted
// companies are helped as fast as the others. The alert is decided once,
// at the capture's place in the log, and kept in the need's state: a list
// imported later does not move the needs captured before it, and a rebuild
// decides exactly as the live projection did.
//
// The projection follows the lists' events to know the list that applies
// (its alerts by SIREN, in memory), and keeps it, with the import whose
// parts are still coming, in stats_signaux, so that a runner resumes with
// it.

// The values of sf_alert in cells of layers with bySFAlert (F1, F2), and
// of the rows of needs without alert, which queries compute.
const (
	sfNone = "none"
	sfF1   = string(domain.SFAlertF1)
	sfF2   = string(domain.SFAlertF2)
)

// sfTable keeps the list that applies ("applying") and the import being
// read ("building"): alerts as sorted 5-byte entries, SIREN (uint32, big
// endian) and level (1 F1, 2 F2).
var sfTable = projections.Table{Name: "stats_signaux", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	slot           {K} PRIMARY KEY,
	import_id      {K} NOT NULL,
	period         {K} NOT NULL,
	stream_version BIGINT NOT NULL,
	parts          INTEGER NOT NULL,
	parts_seen     INTEGER NOT NULL,
	alerts         BYTEA NOT NULL
)`}

// sfList is a list's import as statistics keep it.
type sfList struct {
	importID    uuid.UUID
	period      string
	version     int64
	parts, seen int
	alerts      map[uint32]uint8
}

// sfTracker follows the lists of the log.
type sfTracker struct {
	loaded   bool // applying and building hold what the table holds
	applying *sfList
	building *sfList
	dirty    bool
}

var sfCols = []string{"slot", "import_id", "period", "stream_version", "parts", "parts_seen", "alerts"}

// sirenKey is a SIREN as a number, and false for anything but 9 digits.
func sirenKey(s string) (uint32, bool) {
	if len(s) != 9 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// classify sets the alert of a need just captured: its SIREN's in the
// list that applies.
func (t *sfTracker) classify(s *needfold.State) {
	s.SFAlert = sfNone
	if t.applying == nil || len(s.SIRET) < 9 {
		return
	}
	k, ok := sirenKey(s.SIRET[:9])
	if !ok {
		return
	}
	switch t.applying.alerts[k] {
	case 1:
		s.SFAlert = sfF1
	case 2:
		s.SFAlert = sfF2
	}
}

// apply folds one list event. It returns an error wrapping
// domain.ErrEventMismatch for parts out of order; the error names the
// import, never a line.
func (t *sfTracker) apply(e domain.Event, version int64) error {
	switch e := e.(type) {
	case domain.SignauxFaiblesListImported:
		if t.building != nil {
			return projections.Unfit("import %s before the parts of import %s", e.ImportID, t.building.importID)
		}
		t.building = &sfList{importID: e.ImportID, period: e.Period, version: version, parts: e.Parts,
			alerts: make(map[uint32]uint8, e.Lines)}
	case domain.SignauxFaiblesLinesRecorded:
		b := t.building
		if b == nil || b.importID != e.ImportID || e.Part != b.seen+1 {
			return projections.Unfit("part %d of import %s out of order", e.Part, e.ImportID)
		}
		for _, l := range e.Lines {
			k, ok := sirenKey(l.SIREN)
			if !ok {
				return projections.Unfit("import %s part %d: a SIREN that is not 9 digits", e.ImportID, e.Part)
			}
			switch l.Alert {
			case domain.SFAlertF1:
				b.alerts[k] = 1
			case domain.SFAlertF2:
				b.alerts[k] = 2
			}
		}
		b.seen++
	default:
		return nil
	}
	t.dirty = true
	if b := t.building; b != nil && b.seen == b.parts {
		if a := t.applying; a == nil || domain.SFApplies(domain.SFImport{Period: b.period, Version: b.version},
			domain.SFImport{Period: a.period, Version: a.version}) {
			t.applying = b
		}
		t.building = nil
	}
	return nil
}

// load reads the lists back from the table a runner resumes on.
func (t *sfTracker) load(ctx context.Context, tx projections.Txn, table string) error {
	if t.loaded {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT slot, import_id, period, stream_version, parts, parts_seen, alerts FROM `+table)
	if err != nil {
		return fmt.Errorf("load lists from %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var slot, id string
		var raw sql.RawBytes
		l := &sfList{}
		if err := rows.Scan(&slot, &id, &l.period, &l.version, &l.parts, &l.seen, &raw); err != nil {
			return fmt.Errorf("load lists from %s: %w", table, err)
		}
		if l.importID, err = uuid.Parse(id); err != nil {
			return fmt.Errorf("load lists from %s: %w", table, err)
		}
		if l.alerts, err = decodeAlerts(raw); err != nil {
			return fmt.Errorf("load lists from %s: %w", table, err)
		}
		switch slot {
		case "applying":
			t.applying = l
		case "building":
			t.building = l
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load lists from %s: %w", table, err)
	}
	t.loaded = true
	return nil
}

// flush writes the lists when they changed.
func (t *sfTracker) flush(ctx context.Context, tx projections.Txn, table string) error {
	if !t.dirty {
		return nil
	}
	var rows [][]any
	for _, s := range []struct {
		slot string
		l    *sfList
	}{{"applying", t.applying}, {"building", t.building}} {
		if s.l == nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE slot=$1`, s.slot); err != nil {
				return fmt.Errorf("write lists to %s: %w", table, err)
			}
			continue
		}
		rows = append(rows, []any{s.slot, s.l.importID.String(), s.l.period, s.l.version, s.l.parts, s.l.seen, encodeAlerts(s.l.alerts)})
	}
	if err := projections.Upsert(ctx, tx, table, sfCols, sfCols[:1], projections.ReplaceAll(sfCols, sfCols[:1]), rows); err != nil {
		return err
	}
	t.dirty = false
	return nil
}

func encodeAlerts(m map[uint32]uint8) []byte {
	keys := make([]uint32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 5*len(keys))
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, k)
		b = append(b, m[k])
	}
	return b
}

// errBadAlerts is the error of a stats_signaux row that does not decode.
var errBadAlerts = errors.New("projections: malformed statistics list")

func decodeAlerts(raw []byte) (map[uint32]uint8, error) {
	if len(raw)%5 != 0 {
		return nil, fmt.Errorf("%w: %d bytes", errBadAlerts, len(raw))
	}
	m := make(map[uint32]uint8, len(raw)/5)
	for b := bytes.NewReader(raw); b.Len() > 0; {
		var e [5]byte
		_, _ = b.Read(e[:])
		if e[4] != 1 && e[4] != 2 {
			return nil, fmt.Errorf("%w: level %d", errBadAlerts, e[4])
		}
		m[binary.BigEndian.Uint32(e[:4])] = e[4]
	}
	return m, nil
}

// sfPlace is the sf_alert of a need's cells: F1 or F2, "" for none (a
// need without alert adds to no row split by alert).
func sfPlace(a string) string {
	if a == sfF1 || a == sfF2 {
		return a
	}
	return ""
}

// sfLevel is the state's alert as stored (0 none, 1 F1, 2 F2), and back.
func sfLevel(a string) byte {
	switch a {
	case sfF1:
		return 1
	case sfF2:
		return 2
	}
	return 0
}

func sfAlertOf(level byte) string {
	switch level {
	case 1:
		return sfF1
	case 2:
		return sfF2
	}
	return sfNone
}
