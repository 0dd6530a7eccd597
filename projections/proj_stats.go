package projections

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// statsProjection maintains stats_cells: per capture month × région ×
// département × organisation × subject, the counts funders' figures are
// ratios of, and the histogram of hours to first take-charge (column hist,
// see hist.appendEncoded). Rows of layers without byOrganisation count needs
// as a whole (organisation ”); rows of layers with it count the need's
// matches of one organisation. The other bits of the layer are rollups: the
// same figures summed over every subject, month or département (of the
// région), that column then ”. A query that neither groups nor filters by
// a dimension reads the layer rolled up on it, and so reads 5 to 30 times
// fewer rows per dimension; rows stay bounded by the dimensions, not by
// the needs. stats_needs
// keeps each need's state so that a change moves its contribution from old
// cells to new ones.
//
// Histograms cannot be added in SQL, so the projection keeps the cells it
// has touched in memory (cells; loaded from the table on first touch unless
// it found the table empty) and writes each changed cell whole. That copy is
// only valid while this instance's transactions commit: after a failure or a
// swap the runner builds a new projection.
type statsProjection struct {
	opts  *Options
	cache *stateCache

	cells    map[cellKey]*cell
	complete bool // every row of the table is in cells
	checked  bool // complete was decided
}

// cell is one row of stats_cells (or a change to it).
type cell struct {
	c counts
	h hist
}

// maxCells bounds the cells kept in memory; past it they are dropped after
// a flush and read back as needed. A national deployment over ten years
// stays far below (rows are bounded by the dimensions, not by the needs).
const maxCells = 500_000

func (p *statsProjection) name() string    { return Stats }
func (p *statsProjection) tables() []table { return statsTables }

var statsTables = []table{
	{name: "stats_needs", ddl: `CREATE TABLE IF NOT EXISTS {T} (
	id    TEXT PRIMARY KEY,
	state TEXT NOT NULL
)`},
	// The primary key leads with the layer, which every query fixes, then
	// the columns queries filter on by equality (organisation, subject) or
	// by range (month). BYTEA is PostgreSQL's binary
	// type; SQLite stores the blob as is (NUMERIC affinity never converts
	// a BLOB value).
	{name: "stats_cells", ddl: `CREATE TABLE IF NOT EXISTS {T} (
	layer              INTEGER NOT NULL,
	month              TEXT NOT NULL,
	region             TEXT NOT NULL,
	departement        TEXT NOT NULL,
	organisation       TEXT NOT NULL,
	subject            TEXT NOT NULL,
	needs              BIGINT NOT NULL,
	matches            BIGINT NOT NULL,
	positioned         BIGINT NOT NULL,
	taken              BIGINT NOT NULL,
	within3            BIGINT NOT NULL,
	within5            BIGINT NOT NULL,
	done               BIGINT NOT NULL,
	done_no_help       BIGINT NOT NULL,
	done_not_reachable BIGINT NOT NULL,
	not_for_me         BIGINT NOT NULL,
	abandoned          BIGINT NOT NULL,
	hist               BYTEA NOT NULL,
	PRIMARY KEY (layer, organisation, subject, month, region, departement)
)`},
}

// upgradeStatsLayout drops the statistics tables of the earlier layout
// (histograms as rows of stats_hours) and sends the stats projection back
// to the start of the log, so that its runner refolds every need into the
// new layout. It returns the database error.
func upgradeStatsLayout(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM stats_hours LIMIT 1) old`).Scan(&n); err != nil {
		return nil // no such table: nothing to upgrade
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("upgrade statistics tables: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, t := range []string{"stats_needs", "stats_cells", "stats_hours"} {
		for _, name := range []string{t, t + rebuildSuffix} {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+name); err != nil {
				return fmt.Errorf("upgrade statistics tables: drop %s: %w", name, err)
			}
		}
	}
	// The checkpoint table exists wherever stats_hours did.
	if _, err := tx.ExecContext(ctx,
		`UPDATE projection_checkpoints SET position='', generation=generation+1 WHERE name=$1`, Stats); err != nil {
		return fmt.Errorf("upgrade statistics tables: reset checkpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("upgrade statistics tables: %w", err)
	}
	return nil
}

type cellKey struct {
	Layer                                             int
	Month, Region, Departement, Organisation, Subject string
}

// Layers of cells: the bits say which dimensions a row sums over (its
// column then holds ”), and whether it counts organisations' matches.
// Every query reads exactly one layer (StatsQuery.layer).
const (
	allSubjects     = 1
	allMonths       = 2
	allDepartements = 4
	byOrganisation  = 8
)

// compare orders keys as the primary key does.
func (k cellKey) compare(o cellKey) int {
	return cmp.Or(cmp.Compare(k.Layer, o.Layer), cmp.Compare(k.Organisation, o.Organisation), cmp.Compare(k.Subject, o.Subject),
		cmp.Compare(k.Month, o.Month), cmp.Compare(k.Region, o.Region), cmp.Compare(k.Departement, o.Departement))
}

// args are the key's values in cellKeyCols order.
func (k cellKey) args() []any {
	return []any{k.Layer, k.Organisation, k.Subject, k.Month, k.Region, k.Departement}
}

// The counts of a cell, in the order of cellCols after the keys.
const (
	cNeeds = iota
	cMatches
	cPositioned
	cTaken
	cWithin3
	cWithin5
	cDone
	cDoneNoHelp
	cDoneNotReachable
	cNotForMe
	cAbandoned
	nCounts
)

type counts [nCounts]int64

// cellKeyCols are the primary key's columns, in its order; countCols the
// counts, in the order of the constants above.
var (
	cellKeyCols = []string{"layer", "organisation", "subject", "month", "region", "departement"}
	countCols   = []string{"needs", "matches", "positioned", "taken", "within3", "within5", "done",
		"done_no_help", "done_not_reachable", "not_for_me", "abandoned"}
	cellCols = append(append(slices.Clone(cellKeyCols), countCols...), "hist")
)

type contribution struct {
	key    cellKey
	c      counts
	bucket int
	taken  bool
}

// contribute computes what one need adds to statistics: one need-level
// contribution and one per organisation among its matches, each to its
// cell and to the seven rollup cells summing over some of subject, month
// and département.
func (p *statsProjection) contribute(s *needState) []contribution {
	month := fromMicros(s.CapturedAt).In(p.opts.Location).Format("2006-01")
	base := cellKey{Month: month, Region: s.Region, Departement: s.Departement, Subject: s.Subject}
	out := []contribution{p.figures(base, s, s.Matches)}
	var orgs []uuid.UUID
	for _, m := range s.Matches {
		seen := false
		for _, o := range orgs {
			seen = seen || o == m.OrganisationID
		}
		if !seen {
			orgs = append(orgs, m.OrganisationID)
		}
	}
	for _, o := range orgs {
		var ms []matchState
		for _, m := range s.Matches {
			if m.OrganisationID == o {
				ms = append(ms, m)
			}
		}
		k := base
		k.Layer, k.Organisation = byOrganisation, o.String()
		out = append(out, p.figures(k, s, ms))
	}
	// The same contributions again to the rollups: every combination of
	// subject, month and département blanked.
	n := len(out)
	for roll := 1; roll < 8; roll++ {
		for _, c := range out[:n] {
			c.key.Layer |= roll
			if roll&allSubjects != 0 {
				c.key.Subject = ""
			}
			if roll&allMonths != 0 {
				c.key.Month = ""
			}
			if roll&allDepartements != 0 {
				c.key.Departement = ""
			}
			out = append(out, c)
		}
	}
	return out
}

func (p *statsProjection) figures(k cellKey, s *needState, ms []matchState) contribution {
	c := contribution{key: k}
	c.c[cNeeds] = 1
	c.c[cMatches] = int64(len(ms))
	var sent, taken int64
	statuses := make([]domain.MatchStatus, len(ms))
	for i, m := range ms {
		statuses[i] = m.Status
		if m.Status != domain.MatchQuo {
			c.c[cPositioned]++
		}
		if sent == 0 || m.SentAt < sent {
			sent = m.SentAt
		}
		if m.TakenAt != 0 && (taken == 0 || m.TakenAt < taken) {
			taken = m.TakenAt
		}
	}
	if taken != 0 {
		d := time.Duration(max(taken-sent, 0)) * time.Microsecond
		c.taken = true
		c.bucket = bucketOf(d.Hours())
		c.c[cTaken] = 1
		c.c[cWithin3] = int64(b2i(d <= p.opts.TakeChargeWindows[0]))
		c.c[cWithin5] = int64(b2i(d <= p.opts.TakeChargeWindows[1]))
	}
	switch domain.DeriveStatus(statuses, false) {
	case domain.NeedDone:
		c.c[cDone] = 1
	case domain.NeedDoneNoHelp:
		c.c[cDoneNoHelp] = 1
	case domain.NeedDoneNotReachable:
		c.c[cDoneNotReachable] = 1
	case domain.NeedNotForMe:
		c.c[cNotForMe] = 1
	}
	c.c[cAbandoned] = int64(b2i(s.Abandoned))
	return c
}

func (p *statsProjection) apply(ctx context.Context, tx txn, suffix string, evs []decoded) error {
	return foldNeeds(ctx, tx, p.cache, "stats_needs"+suffix, p.opts.Geography, evs)
}

func (p *statsProjection) flush(ctx context.Context, tx txn, suffix string) error {
	touched, before := p.cache.sortedDirty(), p.cache.before
	if len(touched) == 0 {
		return nil
	}
	// The change of each cell: what the touched needs added minus what
	// they had added at the last flush.
	deltas := make(map[cellKey]*cell)
	add := func(cs []contribution, sign int64) {
		for _, c := range cs {
			d := deltas[c.key]
			if d == nil {
				d = new(cell)
				deltas[c.key] = d
			}
			for i := range c.c {
				d.c[i] += sign * c.c[i]
			}
			if c.taken {
				d.h.add(c.bucket, sign)
			}
		}
	}
	stateRows := make([][]any, 0, len(touched))
	for _, s := range touched {
		if old := before[s.ID]; old != nil {
			add(p.contribute(old), -1)
		}
		add(p.contribute(s), 1)
		stateRows = append(stateRows, []any{s.ID.String(), s.jsonText()})
	}
	if err := upsert(ctx, tx, "stats_needs"+suffix, []string{"id", "state"}, []string{"id"}, "state=excluded.state", stateRows); err != nil {
		return err
	}

	table := "stats_cells" + suffix
	keys := make([]cellKey, 0, len(deltas))
	for k, d := range deltas {
		if d.c != (counts{}) || !d.h.isZero() {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cellKey.compare)
	if err := p.loadCells(ctx, tx, table, keys); err != nil {
		return err
	}
	var rows [][]any
	var gone []cellKey
	for _, k := range keys {
		cur := p.cells[k]
		if cur == nil {
			cur = new(cell)
			p.cells[k] = cur
		}
		d := deltas[k]
		for i := range d.c {
			cur.c[i] += d.c[i]
		}
		cur.h.merge(&d.h)
		if cur.c[cNeeds] == 0 {
			// No need contributes any more: the row goes, so that a table
			// maintained live holds the same rows as a rebuilt one.
			if cur.c != (counts{}) || !cur.h.isZero() {
				return fmt.Errorf("stats cell %v: figures left without needs", k)
			}
			delete(p.cells, k)
			gone = append(gone, k)
			continue
		}
		if slices.ContainsFunc(cur.c[:], func(n int64) bool { return n < 0 }) || cur.h.negative() {
			return fmt.Errorf("stats cell %v: negative figures", k)
		}
		row := append(k.args(), make([]any, 0, nCounts+1)...)
		for _, v := range cur.c {
			row = append(row, v)
		}
		rows = append(rows, append(row, cur.h.appendEncoded(nil)))
	}
	if err := upsert(ctx, tx, table, cellCols, cellKeyCols, replaceAll(cellCols, cellKeyCols), rows); err != nil {
		return err
	}
	for _, k := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+
			` WHERE layer=$1 AND organisation=$2 AND subject=$3 AND month=$4 AND region=$5 AND departement=$6`, k.args()...); err != nil {
			return fmt.Errorf("delete empty stats cell: %w", err)
		}
	}
	if len(p.cells) > maxCells {
		p.cells, p.complete = nil, false
	}
	p.cache.flushed()
	return nil
}

// loadCells reads into p.cells the rows of keys it misses. The first call
// finds out whether the table is empty (a rebuild's, or a projection
// starting from the beginning of the log): then every cell is in memory
// from the start and none is ever read.
func (p *statsProjection) loadCells(ctx context.Context, tx txn, table string, keys []cellKey) error {
	if p.cells == nil {
		p.cells = make(map[cellKey]*cell)
	}
	if !p.checked {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+table+` LIMIT 1) t`).Scan(&n); err != nil {
			return fmt.Errorf("look into %s: %w", table, err)
		}
		p.checked, p.complete = true, n == 0
	}
	if p.complete {
		return nil
	}
	var missing []cellKey
	for _, k := range keys {
		if _, ok := p.cells[k]; !ok {
			missing = append(missing, k)
		}
	}
	sel := "SELECT " + strings.Join(cellCols, ",") + " FROM " + table + " WHERE (" + strings.Join(cellKeyCols, ",") + ") IN (VALUES "
	for len(missing) > 0 {
		n := chunk(len(missing), 256)
		var b strings.Builder
		b.WriteString(sel)
		args := make([]any, 0, n*len(cellKeyCols))
		for i, k := range missing[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			// PostgreSQL types the parameters of a VALUES list as text:
			// the layer needs its cast.
			var row strings.Builder
			tx.d.placeholders(&row, len(args), len(cellKeyCols))
			first, rest, _ := strings.Cut(row.String()[1:], ",")
			b.WriteString("(CAST(" + first + " AS INTEGER)," + rest)
			args = append(args, k.args()...)
		}
		b.WriteByte(')')
		if err := p.readCells(ctx, tx, table, b.String(), args); err != nil {
			return err
		}
		missing = missing[n:]
	}
	return nil
}

func (p *statsProjection) readCells(ctx context.Context, tx txn, table, query string, args []any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read cells of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k cellKey
		c := new(cell)
		var raw sql.RawBytes
		dest := []any{&k.Layer, &k.Organisation, &k.Subject, &k.Month, &k.Region, &k.Departement}
		for i := range c.c {
			dest = append(dest, &c.c[i])
		}
		if err := rows.Scan(append(dest, &raw)...); err != nil {
			return fmt.Errorf("read cells of %s: %w", table, err)
		}
		if err := c.h.addEncoded(raw); err != nil {
			return fmt.Errorf("read cell %v of %s: %w", k, table, err)
		}
		p.cells[k] = c
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read cells of %s: %w", table, err)
	}
	return nil
}
