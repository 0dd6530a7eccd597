// Package signaux is the Signaux Faibles read model: every import of every
// list with its lines, placed by their commune, and, for each company
// (SIREN) Réso has met, its last need, and the needs of the companies the
// list that applies names (sf_need_flags); folded from the log by the
// projections engine, with the queries on them: the list that applies now
// or applied at an instant, the flags of companies, and the alerted
// companies of territories with the date of their last need. The needs
// read model joins sf_need_flags to filter needs by alert and show their
// flags (projections/needs, SFJoin). It depends on the projections
// runtime; projections/readmodels registers it.
//
// A list's content is confidential: it lives in these tables (as in the
// log), never in an error message, a log line or a metric.
package signaux

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
)

// Name is the read model's name, and its checkpoint's; Version the
// schema version of its tables (projections.ReadModel.Version: raise it
// when they change, and the engine rebuilds them).
const (
	Version = 1
	Name    = "signaux"
)

// ReadModel declares the Signaux Faibles read model to the engine; geo
// places the communes of lines and needs.
func ReadModel(geo *domain.Geography) projections.ReadModel {
	return projections.ReadModel{Name: Name, Version: Version, Tables: tables, New: func(fresh bool) projections.Projection {
		return &projection{geo: geo, loaded: fresh, imports: map[uuid.UUID]*importRow{}, companies: map[string]*company{}}
	}}
}

// projection maintains sf_imports, sf_lines and sf_companies. Imports are
// few (a list a month, and its corrections): it keeps them all in memory,
// read back once from sf_imports unless its tables were empty.
type projection struct {
	geo     *domain.Geography
	loaded  bool // imports and next hold what sf_imports holds
	imports map[uuid.UUID]*importRow
	next    int64 // the seq of the next import

	dirty     []*importRow
	lines     [][]any
	companies map[string]*company // what this flush adds, by SIREN
	needs     []newNeed           // captured since the last flush
	// flagsSeq is the import sf_need_flags holds the needs of (0: none):
	// the one that applies, by the rows of sf_imports, since both are
	// written in the same transactions.
	flagsSeq int64
}

// newNeed is a row of sf_needs.
type newNeed struct {
	id    uuid.UUID
	siren string
	at    int64
}

// importRow is a row of sf_imports.
type importRow struct {
	seq                  int64
	id, list             uuid.UUID
	period, label, by    string
	version, at          int64
	lines, f1, f2, parts int
	seen                 int
	digest               string
	dirty                bool
}

// company is what needs captured since the last flush add to a row of
// sf_companies: their number and the latest of them.
type company struct {
	needs                              int
	at                                 int64
	name                               string
	commune, epci, departement, region string
}

var (
	importCols = []string{"seq", "import_id", "list_id", "period", "label", "stream_version", "imported_at",
		"imported_by", "lines", "f1", "f2", "parts", "parts_seen", "digest"}
	lineCols = []string{"seq", "siren", "alert", "score", "algo", "batch", "commune", "epci", "departement", "region"}
	compCols = []string{"siren", "needs", "last_need_at", "company_name", "commune", "epci", "departement", "region"}
)

// latestWins keeps a company's row's description from its latest need (the
// last folded when two share an instant) and adds the counts.
const latestWins = `needs={T}.needs+excluded.needs,
	last_need_at=CASE WHEN excluded.last_need_at>={T}.last_need_at THEN excluded.last_need_at ELSE {T}.last_need_at END,
	company_name=CASE WHEN excluded.last_need_at>={T}.last_need_at THEN excluded.company_name ELSE {T}.company_name END,
	commune=CASE WHEN excluded.last_need_at>={T}.last_need_at THEN excluded.commune ELSE {T}.commune END,
	epci=CASE WHEN excluded.last_need_at>={T}.last_need_at THEN excluded.epci ELSE {T}.epci END,
	departement=CASE WHEN excluded.last_need_at>={T}.last_need_at THEN excluded.departement ELSE {T}.departement END,
	region=CASE WHEN excluded.last_need_at>={T}.last_need_at THEN excluded.region ELSE {T}.region END`

func (p *projection) Idle() bool {
	return len(p.dirty) == 0 && len(p.lines) == 0 && len(p.companies) == 0 && len(p.needs) == 0
}

// load reads the imports back from the table a runner resumes on.
func (p *projection) load(ctx context.Context, tx projections.Txn, table string) error {
	if p.loaded {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, import_id, period, stream_version, parts, parts_seen FROM `+table)
	if err != nil {
		return fmt.Errorf("load imports from %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		r := new(importRow)
		var id string
		if err := rows.Scan(&r.seq, &id, &r.period, &r.version, &r.parts, &r.seen); err != nil {
			return fmt.Errorf("load imports from %s: %w", table, err)
		}
		if r.id, err = uuid.Parse(id); err != nil {
			return fmt.Errorf("load imports from %s: %w", table, err)
		}
		p.imports[r.id] = r
		p.next = max(p.next, r.seq)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load imports from %s: %w", table, err)
	}
	p.loaded = true
	p.flagsSeq = p.applying()
	return nil
}

// applying is the seq of the import that applies (domain.SFApplies): the
// greatest period's last complete import; 0 when none.
func (p *projection) applying() int64 {
	var best *importRow
	for _, r := range p.imports {
		if r.seen != r.parts {
			continue
		}
		if best == nil || domain.SFApplies(domain.SFImport{Period: r.period, Version: r.version},
			domain.SFImport{Period: best.period, Version: best.version}) {
			best = r
		}
	}
	if best == nil {
		return 0
	}
	return best.seq
}

func (p *projection) Apply(ctx context.Context, tx projections.Txn, suffix string, evs []projections.Decoded) error {
	if err := p.load(ctx, tx, "sf_imports"+suffix); err != nil {
		return err
	}
	for _, d := range evs {
		var err error
		switch e := d.Event.(type) {
		case domain.SignauxFaiblesListImported:
			err = p.header(e, d.Stored.Version)
		case domain.SignauxFaiblesLinesRecorded:
			err = p.part(e)
		case domain.NeedCaptured:
			p.need(e)
		}
		if err != nil {
			// The error names the event, never a line's content.
			return fmt.Errorf("event %s (%s of %s): %w", d.Stored.ID, d.Stored.Type, d.Stored.StreamID, err)
		}
	}
	return nil
}

func (p *projection) header(e domain.SignauxFaiblesListImported, version int64) error {
	if _, dup := p.imports[e.ImportID]; dup {
		return projections.Unfit("import %s recorded twice", e.ImportID)
	}
	p.next++
	r := &importRow{seq: p.next, id: e.ImportID, list: e.ListID, period: e.Period, label: e.Label, by: e.By.ID.String(),
		version: version, at: projections.Micros(e.At), lines: e.Lines, f1: e.F1, f2: e.F2, parts: e.Parts, digest: e.Digest}
	p.imports[r.id] = r
	p.touch(r)
	return nil
}

func (p *projection) part(e domain.SignauxFaiblesLinesRecorded) error {
	r := p.imports[e.ImportID]
	if r == nil {
		return projections.Unfit("lines of import %s, which was never recorded", e.ImportID)
	}
	if e.Part != r.seen+1 || e.Part > r.parts {
		return projections.Unfit("part %d of import %s after %d of its %d parts", e.Part, e.ImportID, r.seen, r.parts)
	}
	r.seen++
	p.touch(r)
	for _, l := range e.Lines {
		c, _ := p.geo.Commune(l.Commune)
		p.lines = append(p.lines, []any{r.seq, l.SIREN, string(l.Alert), l.Score, l.Algo, l.Batch, l.Commune,
			c.EPCI, c.Departement, c.Region})
	}
	return nil
}

func (p *projection) touch(r *importRow) {
	if !r.dirty {
		r.dirty = true
		p.dirty = append(p.dirty, r)
	}
}

// need counts a need of its company and keeps the latest one's name and
// place.
func (p *projection) need(e domain.NeedCaptured) {
	if len(e.SIRET) < 9 {
		return
	}
	siren := e.SIRET[:9]
	at := projections.Micros(e.At)
	p.needs = append(p.needs, newNeed{id: e.NeedID, siren: siren, at: at})
	c := p.companies[siren]
	if c == nil {
		c = &company{}
		p.companies[siren] = c
	}
	c.needs++
	if c.needs == 1 || at >= c.at {
		geo, _ := p.geo.Commune(e.Commune)
		c.at, c.name, c.commune, c.epci, c.departement, c.region = at, e.CompanyName, e.Commune, geo.EPCI, geo.Departement, geo.Region
	}
}

func (p *projection) Flush(ctx context.Context, tx projections.Txn, suffix string) error {
	if len(p.dirty) > 0 {
		rows := make([][]any, 0, len(p.dirty))
		for _, r := range p.dirty {
			rows = append(rows, []any{r.seq, r.id.String(), r.list.String(), r.period, r.label, r.version, r.at, r.by,
				r.lines, r.f1, r.f2, r.parts, r.seen, r.digest})
			r.dirty = false
		}
		slices.SortFunc(rows, func(a, b []any) int { return int(a[0].(int64) - b[0].(int64)) })
		if err := projections.Upsert(ctx, tx, "sf_imports"+suffix, importCols, importCols[:1], projections.ReplaceAll(importCols, importCols[:1]), rows); err != nil {
			return err
		}
		p.dirty = p.dirty[:0]
	}
	if len(p.lines) > 0 {
		if err := projections.Upsert(ctx, tx, "sf_lines"+suffix, lineCols, lineCols[:2], projections.ReplaceAll(lineCols, lineCols[:2]), p.lines); err != nil {
			return err
		}
		p.lines = nil
	}
	if len(p.companies) > 0 {
		sirens := make([]string, 0, len(p.companies))
		for s := range p.companies {
			sirens = append(sirens, s)
		}
		slices.Sort(sirens)
		rows := make([][]any, len(sirens))
		for i, s := range sirens {
			c := p.companies[s]
			rows[i] = []any{s, c.needs, c.at, c.name, c.commune, c.epci, c.departement, c.region}
		}
		if err := projections.Upsert(ctx, tx, "sf_companies"+suffix, compCols, compCols[:1], latestWins, rows); err != nil {
			return err
		}
		clear(p.companies)
	}
	var needIDs []any
	if len(p.needs) > 0 {
		rows := make([][]any, len(p.needs))
		needIDs = make([]any, len(p.needs))
		for i, n := range p.needs {
			needIDs[i] = projections.IDArg(tx.Dialect(), n.id)
			rows[i] = []any{needIDs[i], n.siren, n.at}
		}
		if err := projections.Upsert(ctx, tx, "sf_needs"+suffix, needCols, needCols[:1], projections.ReplaceAll(needCols, needCols[:1]), rows); err != nil {
			return err
		}
		p.needs = p.needs[:0]
	}
	return p.flags(ctx, tx, suffix, needIDs)
}

var needCols = []string{"need_id", "siren", "captured_at"}

// flags brings sf_need_flags up to date: all of it again when the list
// that applies changed (an import of a later period, or the same period's
// correction), otherwise the needs captured since the last flush (needIDs),
// when their company is on it. Both are one statement joining sf_needs
// with the list's lines, so that a flush costs a join, not a lookup a
// need.
func (p *projection) flags(ctx context.Context, tx projections.Txn, suffix string, needIDs []any) error {
	flagsT, needsT, linesT := "sf_need_flags"+suffix, "sf_needs"+suffix, "sf_lines"+suffix
	insert := `INSERT INTO ` + flagsT + ` (sf_need, sf_seq, sf_alert, sf_score, sf_at)
		SELECT n.need_id, l.seq, l.alert, l.score, n.captured_at FROM ` + linesT + ` l JOIN ` + needsT + ` n ON n.siren=l.siren
		WHERE l.seq=$1`
	a := p.applying()
	if a != p.flagsSeq {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+flagsT); err != nil {
			return fmt.Errorf("flag the needs of import %d: %w", a, err)
		}
		if a != 0 {
			if _, err := tx.ExecContext(ctx, insert, a); err != nil {
				return fmt.Errorf("flag the needs of import %d: %w", a, err)
			}
		}
		p.flagsSeq = a
		return nil
	}
	for a != 0 && len(needIDs) > 0 {
		n := min(len(needIDs), 500)
		args := append([]any{a}, needIDs[:n]...)
		if _, err := tx.ExecContext(ctx, insert+` AND n.need_id IN (`+placeholders(1, n)+`)`, args...); err != nil {
			return fmt.Errorf("flag new needs of import %d: %w", a, err)
		}
		needIDs = needIDs[n:]
	}
	return nil
}

// placeholders is "$from+1,…,$from+n".
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "$%d", from+i+1)
	}
	return b.String()
}
