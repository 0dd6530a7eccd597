package signaux

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/query"
)

// Queries answers questions on the Signaux Faibles read model. It is safe
// for concurrent use.
type Queries struct{ db *sql.DB }

// NewQueries returns the queries on the Signaux Faibles tables of db.
func NewQueries(db *sql.DB) *Queries { return &Queries{db: db} }

// Import is an import of a list, as sf_imports has it. Seq numbers the
// imports in log order; the lines of an import are those of sf_lines with
// its Seq.
type Import struct {
	Seq        int64     `json:"-"`
	ImportID   uuid.UUID `json:"import_id"`
	ListID     uuid.UUID `json:"list_id"`
	Period     string    `json:"period"`
	Label      string    `json:"label"`
	ImportedAt time.Time `json:"imported_at"`
	ImportedBy uuid.UUID `json:"imported_by"`
	Lines      int       `json:"lines"`
	F1         int       `json:"f1"`
	F2         int       `json:"f2"`
}

const importSelect = `SELECT seq, import_id, list_id, period, label, imported_at, imported_by, lines, f1, f2 FROM sf_imports`

func scanImport(sc interface{ Scan(...any) error }) (Import, error) {
	var r Import
	var id, list, by string
	var at int64
	if err := sc.Scan(&r.Seq, &id, &list, &r.Period, &r.Label, &at, &by, &r.Lines, &r.F1, &r.F2); err != nil {
		return r, err
	}
	r.ImportID, _ = uuid.Parse(id)
	r.ListID, _ = uuid.Parse(list)
	r.ImportedBy, _ = uuid.Parse(by)
	r.ImportedAt = projections.FromMicros(at)
	return r, nil
}

// Applying returns the import that applies at instant at (the zero instant:
// now): among the complete imports made at or before it, the list of the
// greatest period, in its last import (domain.SFApplies). ok is false when
// no list applies. It returns the database error.
func (qs *Queries) Applying(ctx context.Context, at time.Time) (imp Import, ok bool, err error) {
	q := importSelect + ` WHERE parts_seen=parts`
	var args []any
	if !at.IsZero() {
		q += ` AND imported_at<=$1`
		args = append(args, projections.Micros(at))
	}
	imp, err = scanImport(qs.db.QueryRowContext(ctx, q+` ORDER BY period DESC, stream_version DESC LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Import{}, false, nil
	}
	if err != nil {
		return Import{}, false, fmt.Errorf("applying signaux faibles list: %w", err)
	}
	return imp, true, nil
}

// Imports returns every complete import, the latest first. It returns the
// database error.
func (qs *Queries) Imports(ctx context.Context) ([]Import, error) {
	rows, err := qs.db.QueryContext(ctx, importSelect+` WHERE parts_seen=parts ORDER BY seq DESC`)
	if err != nil {
		return nil, fmt.Errorf("signaux faibles imports: %w", err)
	}
	defer rows.Close()
	out := []Import{}
	for rows.Next() {
		r, err := scanImport(rows)
		if err != nil {
			return nil, fmt.Errorf("signaux faibles imports: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("signaux faibles imports: %w", err)
	}
	return out, nil
}

// Flags returns the flags of the companies sirens in import imp, by SIREN:
// only those the list names. It returns the database error.
func (qs *Queries) Flags(ctx context.Context, imp Import, sirens []string) (map[string]domain.SFFlag, error) {
	out := make(map[string]domain.SFFlag)
	for len(sirens) > 0 {
		n := min(len(sirens), 500)
		args := make([]any, 0, n+1)
		args = append(args, imp.Seq)
		for _, s := range sirens[:n] {
			args = append(args, s)
		}
		rows, err := qs.db.QueryContext(ctx, `SELECT siren, alert, score FROM sf_lines WHERE seq=$1 AND siren IN (`+placeholders(1, n)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("signaux faibles flags: %w", err)
		}
		for rows.Next() {
			var siren, alert string
			var score float64
			if err := rows.Scan(&siren, &alert, &score); err != nil {
				rows.Close()
				return nil, fmt.Errorf("signaux faibles flags: %w", err)
			}
			out[siren] = domain.SFFlag{Alert: domain.SFAlert(alert), Score: score, List: imp.Label, Periode: imp.Period}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("signaux faibles flags: %w", err)
		}
		sirens = sirens[n:]
	}
	return out, nil
}

// FlagAt returns the flag of the company siren in the list that applied
// at instant at (the zero instant: now), in one statement; ok is false when
// no list applied or it does not name the company. It returns the database
// error.
func (qs *Queries) FlagAt(ctx context.Context, siren string, at time.Time) (f domain.SFFlag, ok bool, err error) {
	cond, args := "", []any{siren}
	if !at.IsZero() {
		cond, args = " AND imported_at<=$2", append(args, projections.Micros(at))
	}
	var alert string
	err = qs.db.QueryRowContext(ctx, `SELECT l.alert, l.score, i.label, i.period FROM sf_imports i
		JOIN sf_lines l ON l.seq=i.seq AND l.siren=$1
		WHERE i.seq=(SELECT seq FROM sf_imports WHERE parts_seen=parts`+cond+` ORDER BY period DESC, stream_version DESC LIMIT 1)`,
		args...).Scan(&alert, &f.Score, &f.List, &f.Periode)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.SFFlag{}, false, nil
	}
	if err != nil {
		return domain.SFFlag{}, false, fmt.Errorf("signaux faibles flag: %w", err)
	}
	f.Alert = domain.SFAlert(alert)
	return f, true, nil
}

// CompanyFilter selects the alerted companies of an import.
type CompanyFilter struct {
	Import Import
	// Alert keeps one level ("" both).
	Alert domain.SFAlert
	// WithoutNeedSince keeps the companies with no need captured at or
	// after it (those with none included); zero keeps all.
	WithoutNeedSince time.Time
	// ScopeZones, when not nil (even empty), keeps the companies placed in
	// one of those zones: by the list's commune, or, when it gives none (or
	// one the geography does not know), the commune of the company's last
	// need.
	ScopeZones []domain.Zone
	Limit      int    // default 50, at most 500
	Cursor     string // NextCursor of the previous page
}

// CompanyRow is an alerted company: its line of the list, and what Réso
// knows of it (nothing when it never captured a need of it). Commune is
// the list's, unless the geography does not know it (or the list gives
// none) and the company's last need names one.
type CompanyRow struct {
	SIREN       string         `json:"siren"`
	Alert       domain.SFAlert `json:"alert"`
	Score       float64        `json:"score"`
	Commune     string         `json:"commune,omitempty"`
	CommuneName string         `json:"commune_name,omitempty"` // filled by the caller, from its geography
	CompanyName string         `json:"company_name,omitempty"`
	Needs       int            `json:"needs"`
	LastNeedAt  *time.Time     `json:"last_need_at"`
}

// CompanyPage is a page of companies, F1 first, then by score, highest
// first, then SIREN.
type CompanyPage struct {
	Items      []CompanyRow `json:"items"`
	NextCursor string       `json:"next_cursor"` // "" on the last page
}

// place is the expression of a company's column col: the list's, or, when
// its commune is not placed, its last need's.
func place(col string) string {
	return "CASE WHEN l.departement<>'' THEN l." + col + " ELSE COALESCE(c." + col + ",'') END"
}

func companyScope(w *query.Where, zones []domain.Zone) {
	if zones == nil {
		return
	}
	var ors []string
	for _, z := range zones {
		switch z.Level {
		case domain.LevelNational:
			ors = append(ors, "1=1")
		case domain.LevelRegion:
			ors = append(ors, place("region")+"="+w.Arg(z.Code))
		case domain.LevelDepartement:
			ors = append(ors, place("departement")+"="+w.Arg(z.Code))
		case domain.LevelEPCI:
			ors = append(ors, place("epci")+"="+w.Arg(z.Code))
		case domain.LevelCommune:
			ors = append(ors, place("commune")+"="+w.Arg(z.Code))
		}
	}
	if len(ors) == 0 {
		ors = []string{"1=0"}
	}
	w.Conds = append(w.Conds, "("+strings.Join(ors, " OR ")+")")
}

// encodeCursor and decodeCursor make the opaque cursor of a page whose last
// row sorts at (alert, score, siren).
func encodeCursor(r CompanyRow) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(r.Alert) + "|" + strconv.FormatFloat(r.Score, 'g', -1, 64) + "|" + r.SIREN))
}

func decodeCursor(c string) (alert string, score float64, siren string, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	parts := strings.Split(string(raw), "|")
	if err != nil || len(parts) != 3 {
		return "", 0, "", fmt.Errorf("%w: bad cursor", projections.ErrInvalidQuery)
	}
	score, err = strconv.ParseFloat(parts[1], 64)
	if err != nil {
		return "", 0, "", fmt.Errorf("%w: bad cursor", projections.ErrInvalidQuery)
	}
	return parts[0], score, parts[2], nil
}

// Companies returns a page of the alerted companies f selects. It returns
// projections.ErrInvalidQuery for a bad cursor, or the database error.
func (qs *Queries) Companies(ctx context.Context, f CompanyFilter) (CompanyPage, error) {
	var w query.Where
	w.Add("l.seq=%s", f.Import.Seq)
	if f.Alert != "" {
		w.Add("l.alert=%s", string(f.Alert))
	}
	if !f.WithoutNeedSince.IsZero() {
		w.Add("(c.last_need_at IS NULL OR c.last_need_at<%s)", projections.Micros(f.WithoutNeedSince))
	}
	companyScope(&w, f.ScopeZones)
	if f.Cursor != "" {
		alert, score, siren, err := decodeCursor(f.Cursor)
		if err != nil {
			return CompanyPage{}, err
		}
		w.Add("(l.alert>%s OR (l.alert=%s AND (l.score<%s OR (l.score=%s AND l.siren>%s))))", alert, alert, score, score, siren)
	}
	limit := query.Limit(f.Limit)
	q := `SELECT l.siren, l.alert, l.score, CASE WHEN l.departement<>'' OR c.commune IS NULL THEN l.commune ELSE c.commune END,
		COALESCE(c.company_name,''), COALESCE(c.needs,0), COALESCE(c.last_need_at,0)
		FROM sf_lines l LEFT JOIN sf_companies c ON c.siren=l.siren` + w.SQL() +
		fmt.Sprintf(" ORDER BY l.alert, l.score DESC, l.siren LIMIT %d", limit+1)
	rows, err := qs.db.QueryContext(ctx, q, w.Args...)
	if err != nil {
		return CompanyPage{}, fmt.Errorf("signaux faibles companies: %w", err)
	}
	defer rows.Close()
	page := CompanyPage{Items: []CompanyRow{}}
	for rows.Next() {
		var r CompanyRow
		var alert string
		var last int64
		if err := rows.Scan(&r.SIREN, &alert, &r.Score, &r.Commune, &r.CompanyName, &r.Needs, &last); err != nil {
			return CompanyPage{}, fmt.Errorf("signaux faibles companies: %w", err)
		}
		r.Alert = domain.SFAlert(alert)
		if last != 0 {
			t := projections.FromMicros(last)
			r.LastNeedAt = &t
		}
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return CompanyPage{}, fmt.Errorf("signaux faibles companies: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = encodeCursor(page.Items[limit-1])
	}
	return page, nil
}
