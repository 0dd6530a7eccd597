// Package stats is the statistics read model: pre-aggregated cells of
// funders' figures (per capture month, région, département, organisation
// and subject, with rollups) and each need's state, folded from the log by
// the projections engine, and the query that answers StatsQuery from them.
// It depends on the projections runtime and on projections/needfold;
// projections/readmodels registers it.
package stats

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
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/needfold"
)

// projection maintains stats_cells: per capture month × région ×
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
// it found the table empty) and writes each changed cell whole, at each
// flush or, while holding (a rebuild's load), once at the end. That copy is
// only valid while this instance's transactions commit: after a failure or a
// swap the runner builds a new projection.
type projection struct {
	cfg   Config
	cache *needfold.Cache

	cells    map[uint64]*cell // by pack
	complete bool             // every row of the table is in cells
	checked  bool             // complete was decided
	// holding keeps changed cells in memory instead of writing them, until
	// hold(false): a rebuild writes each cell of its fresh table once
	// instead of rewriting it at every flush.
	holding bool
	dirty   []uint64 // cells changed since they were written, unordered

	ix cellIndex
	// groups are the sixteen cells of a contribution (its cell and
	// rollups, without and with its sf_alert) by pack of its own cell: one
	// lookup instead of sixteen. Cleared whenever a cell leaves cells.
	groups   map[uint64]*[nRolls]*cell
	buf      []contribution       // reused by flush
	statuses []domain.MatchStatus // reused by figures

	sf sfTracker // the Signaux Faibles list that applies (signaux.go)
}

// cell is one row of stats_cells.
type cell struct {
	c     counts
	h     hist
	dirty bool // in projection.dirty
}

// maxCells bounds the cells kept in memory; past it they are dropped after
// a flush and read back as needed. A national deployment over ten years
// stays far below (rows are bounded by the dimensions, not by the needs).
const maxCells = 500_000

// Name is the read model's name, and its checkpoint's; Version the
// schema version of its tables (projections.ReadModel.Version: raise it
// when they change, and the engine rebuilds them).
const (
	Version = 3 // 2: the sf_alert dimension (Signaux Faibles); 3: each cell's own quantiles
	Name    = "stats"
)

// Config is what statistics depend on. Every field is required
// (projections/readmodels fills in the defaults).
type Config struct {
	// Geography places the communes of needs in their département and
	// région.
	Geography *domain.Geography
	// Location is where months begin (Europe/Paris).
	Location *time.Location
	// TakeChargeWindows are the "within 3 days" and "within 5 days"
	// limits (72 h and 120 h). Changing them is a rule change: rebuild the
	// read model.
	TakeChargeWindows [2]time.Duration
}

// ReadModel declares the statistics read model to the engine.
func ReadModel(cfg Config) projections.ReadModel {
	return projections.ReadModel{Name: Name, Version: Version, Tables: tables, Replaces: replaced, New: func(fresh bool) projections.Projection {
		p := &projection{cfg: cfg, cache: needfold.NewCache(fresh, true, readStates)}
		p.sf.loaded = fresh
		p.cache.OnCapture = p.sf.classify
		return p
	}}
}

// replaced are the tables of earlier layouts: histograms as rows of
// stats_hours (before they became a column of their cell).
var replaced = []string{"stats_hours"}

// tables are the statistics read model's: each need's state, and the
// cells.
var tables = []projections.Table{
	{Name: "stats_needs", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	id    {U} PRIMARY KEY,
	state BYTEA NOT NULL
)`},
	// The primary key leads with the layer, which every query fixes, then
	// the columns queries filter on by equality (organisation, subject) or
	// by range (month). BYTEA is PostgreSQL's binary
	// type; SQLite stores the blob as is (NUMERIC affinity never converts
	// a BLOB value).
	{Name: "stats_cells", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	layer              INTEGER NOT NULL,
	month              {K} NOT NULL,
	region             {K} NOT NULL,
	departement        {K} NOT NULL,
	organisation       {K} NOT NULL,
	subject            {K} NOT NULL,
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
	sf_alert           {K} NOT NULL,
	median_hours       DOUBLE PRECISION NOT NULL,
	p90_hours          DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (layer, organisation, subject, month, region, departement, sf_alert)
)`},
	sfTable,
}

type cellKey struct {
	Layer                                             int
	Month, Region, Departement, Organisation, Subject string
	SFAlert                                           string
}

// Layers of cells: the bits say which dimensions a row sums over (its
// column then holds ”), and whether it counts organisations' matches.
// Every query reads exactly one layer (StatsQuery.layer).
const (
	allSubjects     = 1
	allMonths       = 2
	allDepartements = 4
	byOrganisation  = 8
	// bySFAlert rows count the needs of alerted companies by their
	// Signaux Faibles alert (sf_alert F1 or F2); the other rows have
	// sf_alert ''. Needs without alert have no such rows: a query grouping
	// by sf_alert computes "none" as the rows of every need minus those of
	// F1 and F2 (queries.go).
	bySFAlert = 16
	// layerBits are the bits a layer takes in a packed cell number.
	layerBits = 5
)

// nRolls is the most cells a contribution adds to: its cell and its seven
// rollups (roll bits 0 to 7), each without (roll) and, for a need of an
// alerted company, with (nRolls/2 + roll) its sf_alert.
const nRolls = 16

// rollLayer is the layer of a contribution's cell number i (0 to nRolls-1)
// of a contribution of layer l.
func rollLayer(l, i int) int {
	if i >= nRolls/2 {
		return l | (i - nRolls/2) | bySFAlert
	}
	return l | i
}

// compare orders keys as the primary key does.
func (k cellKey) compare(o cellKey) int {
	return cmp.Or(cmp.Compare(k.Layer, o.Layer), cmp.Compare(k.Organisation, o.Organisation), cmp.Compare(k.Subject, o.Subject),
		cmp.Compare(k.Month, o.Month), cmp.Compare(k.Region, o.Region), cmp.Compare(k.Departement, o.Departement),
		cmp.Compare(k.SFAlert, o.SFAlert))
}

// args are the key's values in cellKeyCols order.
func (k cellKey) args() []any {
	return []any{k.Layer, k.Organisation, k.Subject, k.Month, k.Region, k.Departement, k.SFAlert}
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
// counts, in the order of the constants above; cellCols what the
// projection reads back of a cell; cellWriteCols what it writes: the same
// and the quantiles of the cell's own histogram (quantileCols), which a
// query whose group is that one cell reads instead of the histogram.
var (
	cellKeyCols = []string{"layer", "organisation", "subject", "month", "region", "departement", "sf_alert"}
	countCols   = []string{"needs", "matches", "positioned", "taken", "within3", "within5", "done",
		"done_no_help", "done_not_reachable", "not_for_me", "abandoned"}
	cellCols      = append(append(slices.Clone(cellKeyCols), countCols...), "hist")
	quantileCols  = []string{"median_hours", "p90_hours"}
	cellWriteCols = append(slices.Clone(cellCols), quantileCols...)
)

// statsQuantiles are the quantiles a statistics row gives (StatsRow.fill)
// and a cell stores (quantileCols).
var statsQuantiles = [2]float64{0.5, 0.9}

// cellIndex interns the coordinates of cells so that the fold of a flush
// looks cells up by an integer (pack) instead of hashing six strings eight
// times per contribution: a place (month, région, département, subject) and
// an organisation get a number the first time they are seen, and each place
// of a need knows its seven rolled-up places.
type cellIndex struct {
	places   []place
	placeIDs map[place]uint32
	rolled   map[uint32]*[nRolls]uint32 // a need's place → its place under each roll (rollLayer)
	orgs     []string                   // organisation o is orgs[o-1]; 0 is none
	orgIDs   map[uuid.UUID]uint32
	orgNames map[string]uint32
	months   map[int]string // year*12+month-1 → "2006-01"
}

// place is a cell's coordinates but its layer and organisation.
type place struct {
	Month, Region, Departement, Subject string
	SFAlert                             string
}

func (x *cellIndex) init() {
	if x.placeIDs == nil {
		x.placeIDs, x.rolled = make(map[place]uint32), make(map[uint32]*[nRolls]uint32)
		x.orgIDs, x.orgNames, x.months = make(map[uuid.UUID]uint32), make(map[string]uint32), make(map[int]string)
	}
}

func (x *cellIndex) placeID(pl place) uint32 {
	id, ok := x.placeIDs[pl]
	if !ok {
		id = uint32(len(x.places))
		x.places = append(x.places, pl)
		x.placeIDs[pl] = id
	}
	return id
}

// rolls returns the places that place id sums into, by roll bits
// (allSubjects, allMonths, allDepartements; 0 is the place itself), first
// without its sf_alert, then, for a place of an alerted company, with it
// (see rollLayer): 8 or 16 places.
func (x *cellIndex) rolls(id uint32) []uint32 {
	if r := x.rolled[id]; r != nil {
		return x.width(id, r)
	}
	r := new([nRolls]uint32)
	for i := range r {
		roll := i % (nRolls / 2)
		pl := x.places[id]
		if i < nRolls/2 {
			pl.SFAlert = ""
		}
		if roll&allSubjects != 0 {
			pl.Subject = ""
		}
		if roll&allMonths != 0 {
			pl.Month = ""
		}
		if roll&allDepartements != 0 {
			pl.Departement = ""
		}
		r[i] = x.placeID(pl)
	}
	x.rolled[id] = r
	return x.width(id, r)
}

// width cuts the rolled places of place id to those it adds to.
func (x *cellIndex) width(id uint32, r *[nRolls]uint32) []uint32 {
	return r[:x.span(id)]
}

// span is how many cells a contribution at place id adds to: 16 for a
// need of an alerted company, 8 otherwise.
func (x *cellIndex) span(id uint32) int {
	if x.places[id].SFAlert == "" {
		return nRolls / 2
	}
	return nRolls
}

func (x *cellIndex) orgID(o uuid.UUID) uint32 {
	id, ok := x.orgIDs[o]
	if !ok {
		name := o.String()
		id = x.orgByName(name)
		x.orgIDs[o] = id
	}
	return id
}

func (x *cellIndex) orgByName(name string) uint32 {
	if name == "" {
		return 0
	}
	id, ok := x.orgNames[name]
	if !ok {
		x.orgs = append(x.orgs, name)
		id = uint32(len(x.orgs))
		x.orgNames[name] = id
	}
	return id
}

// month formats the capture month in loc without allocating for a month
// it has seen.
func (x *cellIndex) month(us int64, loc *time.Location) string {
	y, m, _ := projections.FromMicros(us).In(loc).Date()
	k := y*12 + int(m) - 1
	s, ok := x.months[k]
	if !ok {
		s = fmt.Sprintf("%04d-%02d", y, int(m))
		x.months[k] = s
	}
	return s
}

// pack is a cell's number: its place, organisation and layer. Organisation
// numbers stay far below 2^27 (a national network has thousands).
func pack(layer int, placeID, org uint32) uint64 {
	return uint64(placeID)<<32 | uint64(org)<<layerBits | uint64(layer)
}

// key is the cell of a packed number.
func (x *cellIndex) key(k uint64) cellKey {
	pl := x.places[uint32(k>>32)]
	ck := cellKey{Layer: int(k & (1<<layerBits - 1)), Month: pl.Month, Region: pl.Region, Departement: pl.Departement,
		Subject: pl.Subject, SFAlert: pl.SFAlert}
	if o := uint32(k>>layerBits) & (1<<(32-layerBits) - 1); o != 0 {
		ck.Organisation = x.orgs[o-1]
	}
	return ck
}

// intern numbers a cell read back from the table.
func (x *cellIndex) intern(k cellKey) uint64 {
	pl := x.placeID(place{Month: k.Month, Region: k.Region, Departement: k.Departement, Subject: k.Subject, SFAlert: k.SFAlert})
	return pack(k.Layer, pl, x.orgByName(k.Organisation))
}

// contribution is what a need adds to one cell and, through rolls, to its
// seven rollups, each without and with its sf_alert: the need as a whole
// (layer 0, org 0) or its matches of one organisation (layer
// byOrganisation).
type contribution struct {
	layer  int
	place  uint32
	org    uint32
	c      counts
	bucket int
	taken  bool
}

// contribute appends to out what one need adds to statistics: one
// need-level contribution and one per organisation among its matches.
func (p *projection) contribute(out []contribution, s *needfold.State) []contribution {
	p.ix.init()
	pl := p.ix.placeID(place{Month: p.ix.month(s.CapturedAt, p.cfg.Location),
		Region: s.Region, Departement: s.Departement, Subject: s.Subject, SFAlert: sfPlace(s.SFAlert)})
	out = append(out, p.figures(contribution{place: pl}, s, uuid.Nil, false))
	for i, m := range s.Matches {
		seen := false
		for _, o := range s.Matches[:i] {
			seen = seen || o.OrganisationID == m.OrganisationID
		}
		if !seen {
			c := contribution{layer: byOrganisation, place: pl, org: p.ix.orgID(m.OrganisationID)}
			out = append(out, p.figures(c, s, m.OrganisationID, true))
		}
	}
	return out
}

// figures fills c with the counts of s's matches (of organisation org only
// when byOrg).
func (p *projection) figures(c contribution, s *needfold.State, org uuid.UUID, byOrg bool) contribution {
	c.c[cNeeds] = 1
	var sent, taken int64
	statuses := p.statuses[:0]
	for _, m := range s.Matches {
		if byOrg && m.OrganisationID != org {
			continue
		}
		c.c[cMatches]++
		statuses = append(statuses, m.Status)
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
	p.statuses = statuses
	if taken != 0 {
		d := time.Duration(max(taken-sent, 0)) * time.Microsecond
		c.taken = true
		c.bucket = bucketOf(d.Hours())
		c.c[cTaken] = 1
		c.c[cWithin3] = int64(projections.Flag(d <= p.cfg.TakeChargeWindows[0]))
		c.c[cWithin5] = int64(projections.Flag(d <= p.cfg.TakeChargeWindows[1]))
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
	c.c[cAbandoned] = int64(projections.Flag(s.Abandoned))
	return c
}

// Apply folds the events of needs, and those of Signaux Faibles lists in
// their place among them: a need captured after a list's import counts
// under that list's alert (signaux.go).
func (p *projection) Apply(ctx context.Context, tx projections.Txn, suffix string, evs []projections.Decoded) error {
	start := 0
	for i, d := range evs {
		if !domain.IsSFEvent(d.Event) {
			continue
		}
		if err := p.fold(ctx, tx, suffix, evs[start:i]); err != nil {
			return err
		}
		if err := p.sf.apply(d.Event, d.Stored.Version); err != nil {
			return fmt.Errorf("event %s (%s of %s): %w", d.Stored.ID, d.Stored.Type, d.Stored.StreamID, err)
		}
		start = i + 1
	}
	return p.fold(ctx, tx, suffix, evs[start:])
}

// fold folds events of needs (and skips others), with the list that
// applies read back first.
func (p *projection) fold(ctx context.Context, tx projections.Txn, suffix string, evs []projections.Decoded) error {
	if err := p.sf.load(ctx, tx, "stats_signaux"+suffix); err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	return needfold.Fold(ctx, tx, p.cache, "stats_needs"+suffix, p.cfg.Geography, evs)
}

// Hold makes Flush keep changed cells in memory and leave needs in
// progress for a later flush (on), or write them again (off; the next flush
// writes every cell and need held).
func (p *projection) Hold(on bool) {
	p.holding = on
	p.cache.Settle(on)
}

// signed is a contribution to add (sign 1) or take back (-1).
type signed struct {
	from, to int // of projection.buf
	sign     int64
}

func (p *projection) Idle() bool {
	return p.cache.Idle() && (p.holding || len(p.dirty) == 0) && !p.sf.dirty
}

func (p *projection) Flush(ctx context.Context, tx projections.Txn, suffix string) error {
	if p.Idle() {
		return nil
	}
	if err := p.sf.flush(ctx, tx, "stats_signaux"+suffix); err != nil {
		return err
	}
	touched := p.cache.Take()
	table := "stats_cells" + suffix
	p.ix.init()
	if p.cells == nil {
		p.cells, p.groups = make(map[uint64]*cell), make(map[uint64]*[nRolls]*cell)
	}
	// What each touched need adds now, and what it added at the last flush
	// to take back; a need whose contributions did not change (a comment,
	// a reminder) moves nothing.
	buf := p.buf[:0]
	var moves []signed
	stateRows := make([][]any, 0, len(touched))
	slab := make([]byte, 0, len(touched)*160) // the states' bytes, one allocation
	for _, s := range touched {
		from := len(slab)
		slab = appendState(slab, s)
		stateRows = append(stateRows, []any{projections.IDArg(tx.Dialect(), s.ID), slab[from:len(slab):len(slab)]})
		mark := len(buf)
		if old := p.cache.Before(s.ID); old != nil {
			buf = p.contribute(buf, old)
		}
		mid := len(buf)
		buf = p.contribute(buf, s)
		if slices.Equal(buf[mark:mid], buf[mid:]) {
			buf = buf[:mark]
			continue
		}
		if mid > mark {
			moves = append(moves, signed{mark, mid, -1})
		}
		moves = append(moves, signed{mid, len(buf), 1})
	}
	p.buf = buf
	if err := projections.Upsert(ctx, tx, "stats_needs"+suffix, []string{"id", "state"}, []string{"id"}, "state=excluded.state", stateRows); err != nil {
		return err
	}
	if err := p.loadFor(ctx, tx, table, moves); err != nil {
		return err
	}
	for _, m := range moves {
		for i := m.from; i < m.to; i++ {
			p.add(&buf[i], m.sign)
		}
	}
	if p.holding && len(p.cells) > maxCells {
		p.holding = false // cells held must stay in memory: write them from now on
	}
	if !p.holding {
		if err := p.writeCells(ctx, tx, table); err != nil {
			return err
		}
	}
	p.cache.Flushed()
	return nil
}

// add adds c (sign 1) or takes it back (-1) from its cell and the
// rollups, creating the cells it misses.
func (p *projection) add(c *contribution, sign int64) {
	g := p.groups[pack(c.layer, c.place, c.org)]
	if g == nil {
		g = new([nRolls]*cell)
		for roll, pl := range p.ix.rolls(c.place) {
			k := pack(rollLayer(c.layer, roll), pl, c.org)
			cl := p.cells[k]
			if cl == nil {
				cl = new(cell)
				p.cells[k] = cl
			}
			if !cl.dirty {
				cl.dirty = true
				p.dirty = append(p.dirty, k)
			}
			g[roll] = cl
		}
		p.groups[pack(c.layer, c.place, c.org)] = g
	}
	for roll, cl := range g[:p.ix.span(c.place)] {
		for i, n := range c.c {
			cl.c[i] += sign * n
		}
		if c.taken {
			cl.h.add(c.bucket, sign)
		}
		if !cl.dirty {
			cl.dirty = true
			p.dirty = append(p.dirty, pack(rollLayer(c.layer, roll), p.ix.rolls(c.place)[roll], c.org))
		}
	}
}

// writeCells writes the changed cells, in primary key order, and deletes
// those no need contributes to any more.
func (p *projection) writeCells(ctx context.Context, tx projections.Txn, table string) error {
	type keyed struct {
		k      cellKey
		packed uint64
	}
	keys := make([]keyed, len(p.dirty))
	for i, k := range p.dirty {
		keys[i] = keyed{p.ix.key(k), k}
	}
	p.dirty = p.dirty[:0]
	slices.SortFunc(keys, func(a, b keyed) int { return a.k.compare(b.k) })
	rows := make([][]any, 0, len(keys))
	var gone []cellKey
	for _, kk := range keys {
		k, cur := kk.k, p.cells[kk.packed]
		cur.dirty = false
		if cur.c[cNeeds] == 0 {
			// No need contributes any more: the row goes, so that a table
			// maintained live holds the same rows as a rebuilt one.
			if cur.c != (counts{}) || !cur.h.isZero() {
				return fmt.Errorf("stats cell %v: figures left without needs", k)
			}
			delete(p.cells, kk.packed)
			clear(p.groups)
			gone = append(gone, k)
			continue
		}
		if slices.ContainsFunc(cur.c[:], func(n int64) bool { return n < 0 }) || cur.h.negative() {
			return fmt.Errorf("stats cell %v: negative figures", k)
		}
		row := append(k.args(), make([]any, 0, nCounts+3)...)
		for _, v := range cur.c {
			row = append(row, v)
		}
		med, p90 := cur.h.quantiles(statsQuantiles[0], statsQuantiles[1])
		rows = append(rows, append(row, cur.h.appendEncoded(nil), med, p90))
	}
	if err := projections.Upsert(ctx, tx, table, cellWriteCols, cellKeyCols, projections.ReplaceAll(cellWriteCols, cellKeyCols), rows); err != nil {
		return err
	}
	for _, k := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+
			` WHERE layer=$1 AND organisation=$2 AND subject=$3 AND month=$4 AND region=$5 AND departement=$6 AND sf_alert=$7`, k.args()...); err != nil {
			return fmt.Errorf("delete empty stats cell: %w", err)
		}
	}
	if len(p.cells) > maxCells {
		p.cells, p.complete = nil, false
		clear(p.groups)
	}
	return nil
}

// loadFor reads into p.cells the rows the moves touch that it misses. The
// first call finds out whether the table is empty (a rebuild's, or a
// projection starting from the beginning of the log): then every cell is
// in memory from the start and none is ever read.
func (p *projection) loadFor(ctx context.Context, tx projections.Txn, table string, moves []signed) error {
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
	seen := make(map[uint64]bool)
	for _, m := range moves {
		for _, c := range p.buf[m.from:m.to] {
			for roll, pl := range p.ix.rolls(c.place) {
				k := pack(rollLayer(c.layer, roll), pl, c.org)
				if _, ok := p.cells[k]; !ok && !seen[k] {
					seen[k] = true
					missing = append(missing, p.ix.key(k))
				}
			}
		}
	}
	slices.SortFunc(missing, cellKey.compare)
	sel := "SELECT " + strings.Join(cellCols, ",") + " FROM " + table + " WHERE (" + strings.Join(cellKeyCols, ",") + ") IN (VALUES "
	for len(missing) > 0 {
		n := projections.Chunk(len(missing), 256)
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
			projections.Placeholders(&row, tx.Dialect(), len(args), len(cellKeyCols))
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

func (p *projection) readCells(ctx context.Context, tx projections.Txn, table, query string, args []any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read cells of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k cellKey
		c := new(cell)
		var raw sql.RawBytes
		dest := []any{&k.Layer, &k.Organisation, &k.Subject, &k.Month, &k.Region, &k.Departement, &k.SFAlert}
		for i := range c.c {
			dest = append(dest, &c.c[i])
		}
		if err := rows.Scan(append(dest, &raw)...); err != nil {
			return fmt.Errorf("read cells of %s: %w", table, err)
		}
		if err := c.h.addEncoded(raw); err != nil {
			return fmt.Errorf("read cell %v of %s: %w", k, table, err)
		}
		p.cells[p.ix.intern(k)] = c
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read cells of %s: %w", table, err)
	}
	return nil
}
