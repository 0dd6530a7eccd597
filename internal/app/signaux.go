package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/sflist"
	"github.com/reso-fr/reso/projections/needs"
	"github.com/reso-fr/reso/projections/signaux"
)

// Signaux Faibles (issue 16): admins import the lists; the latest applies;
// animateurs (on their territories) and admins see a company's alert on its
// needs, filter needs by it, and list the alerted companies; advisors,
// referents and funders never see an alert (funders see statistics by
// alert, in aggregate). A list's content is confidential: nothing here
// logs it, and the errors this file returns never quote it, except the
// refused lines' reasons, which go to the admin who imports the file.

// SFAlertFilters are the values of a need list's sf_alert filter: one
// level, or any alert.
func SFAlertFilters() []string { return []string{"F1", "F2", "any"} }

// sfAlerts are the levels a filter value keeps.
func sfAlerts(filter string) []domain.SFAlert {
	if filter == "any" {
		return domain.SFAlerts()
	}
	return []domain.SFAlert{domain.SFAlert(filter)}
}

// checkSFFilter refuses the sf_alert filter to those who may not see
// alerts (a *ForbiddenError), and an unknown value (a
// *domain.ValidationError).
func (s *Service) checkSFFilter(p Principal, filter string) error {
	if filter == "" {
		return nil
	}
	if err := s.Authorize(p, ActionSFFlags); err != nil {
		return err
	}
	return oneOf("sf_alert", filter, SFAlertFilters())
}

// sfJoin is what a need list of p joins: the list that applies now, when
// p may see alerts; nil otherwise, or when no list was imported. none says
// that filter asks for alerted needs while no list applies: the page is
// empty. It returns the read models' errors.
func (s *Service) sfJoin(ctx context.Context, p Principal, rm ReadModels, filter string) (join *needs.SFJoin, none bool, err error) {
	if !s.Can(p, ActionSFFlags) {
		return nil, false, nil
	}
	imp, ok, err := rm.SFApplying(ctx, time.Time{})
	if err != nil {
		return nil, false, fmt.Errorf("signaux faibles: %w", err)
	}
	if !ok {
		return nil, filter != "", nil
	}
	join = &needs.SFJoin{Seq: imp.Seq, List: imp.Label, Periode: imp.Period}
	if filter != "" {
		join.Alerts = sfAlerts(filter)
	}
	return join, false, nil
}

// sfFlag sets v's Signaux Faibles flag, for those who may see it: the
// alert of its company in the list that applied at asOf (nil: now). A
// service without read models shows none. It returns the read models'
// errors.
func (s *Service) sfFlag(ctx context.Context, p Principal, v *NeedView, asOf *time.Time) error {
	if !s.Can(p, ActionSFFlags) || s.reads == nil || len(v.SIRET) < 9 {
		return nil
	}
	var at time.Time
	if asOf != nil {
		at = *asOf
	}
	f, ok, err := s.reads.SFFlagAt(ctx, v.SIRET[:9], at)
	if err != nil {
		return err
	}
	if ok {
		v.SignauxFaibles = &f
	}
	return nil
}

// ErrMediaType: a request body of a type the operation does not read.
var ErrMediaType = errors.New("unsupported media type")

// SFFormatOfMediaType is the format of a list sent with contentType:
// "csv" for text/csv, "json" for application/json (UTF-8). It returns an
// error wrapping ErrMediaType otherwise.
func SFFormatOfMediaType(contentType string) (string, error) {
	f, err := sflist.FormatOfMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMediaType, err)
	}
	return string(f), nil
}

// SFCompaniesQuery selects the alerted companies of the list that applies.
type SFCompaniesQuery struct {
	// Alert keeps one level (F1 or F2; "" both).
	Alert string
	// WithoutNeedSince, a day YYYY-MM-DD, keeps the companies with no need
	// captured on or after that day (from midnight, Europe/Paris), never
	// met ones included; "" keeps all.
	WithoutNeedSince string
	Limit            int
	Cursor           string
	// MinPosition: as NeedQuery's.
	MinPosition eventstore.Position
}

// SFCompanyPage is a page of the alerted companies, with the list they
// come from (nil, and no company, before any list was imported).
type SFCompanyPage struct {
	List       *SFList        `json:"list"`
	Items      []SFCompanyRow `json:"items"`
	NextCursor string         `json:"next_cursor"`
}

// SFCompanies returns a page of the companies the list that applies
// alerts, in p's territories (an admin: all), F1 first then by score: the
// companies to visit, with their commune when known and the date of their
// last need in Réso, if any. It returns a *ForbiddenError for roles that
// may not see alerts, a *domain.ValidationError for a bad filter or
// cursor, and the read models' errors.
func (s *Service) SFCompanies(ctx context.Context, p Principal, q SFCompaniesQuery) (SFCompanyPage, error) {
	if err := s.Authorize(p, ActionSFCompanies); err != nil {
		return SFCompanyPage{}, err
	}
	var err error
	if err = oneOf("alert", q.Alert, []string{"F1", "F2"}); err != nil {
		return SFCompanyPage{}, err
	}
	if q.Limit, err = limit(q.Limit); err != nil {
		return SFCompanyPage{}, err
	}
	var since time.Time
	if q.WithoutNeedSince != "" {
		var err error
		if since, err = time.ParseInLocation(time.DateOnly, q.WithoutNeedSince, paris); err != nil {
			return SFCompanyPage{}, &domain.ValidationError{Field: "without_need_since", Message: "a day YYYY-MM-DD"}
		}
	}
	f := signaux.CompanyFilter{Alert: domain.SFAlert(q.Alert), WithoutNeedSince: since, Limit: q.Limit, Cursor: q.Cursor}
	if p.Role != domain.RoleAdmin {
		// A non-nil slice restricts, even empty: no territory, no company.
		f.ScopeZones = append([]domain.Zone{}, p.Territories...)
	}
	rm, err := s.readModels()
	if err != nil {
		return SFCompanyPage{}, err
	}
	if err := s.WaitForPosition(ctx, q.MinPosition); err != nil {
		return SFCompanyPage{}, err
	}
	imp, ok, err := rm.SFApplying(ctx, time.Time{})
	if err != nil {
		return SFCompanyPage{}, fmt.Errorf("signaux faibles companies: %w", err)
	}
	if !ok {
		return SFCompanyPage{Items: []SFCompanyRow{}}, nil
	}
	f.Import = imp
	page, err := rm.SFCompanies(ctx, f)
	if err != nil {
		return SFCompanyPage{}, fromReadModel(err, q.Cursor)
	}
	for i := range page.Items {
		if c, ok := s.geo.Commune(page.Items[i].Commune); ok {
			page.Items[i].CommuneName = c.Name
		}
	}
	return SFCompanyPage{List: &imp, Items: page.Items, NextCursor: page.NextCursor}, nil
}

// MaxSFListBytes is the largest list file an import takes: a national list
// of 500,000 lines.
const MaxSFListBytes = 32 << 20

// SFImportInput is a list file to import.
type SFImportInput struct {
	Data   []byte
	Format string // "csv" or "json"
	// Label names the list ("" gives "Mars 2026" for 2026-03); Period is
	// its month, YYYY-MM ("" takes the lines' periode).
	Label, Period string
	// SkipInvalid imports the valid lines of a file with refused ones,
	// instead of nothing.
	SkipInvalid bool
}

// SFRejected is a refused line of a list file.
type SFRejected = sflist.Rejected

// SFImportResult says what an import did: which list, the lines read,
// those imported (with an alert), kept out (without alert) and refused.
// Unchanged says the list's last import had the same label and lines:
// nothing was recorded, and ImportID is that import's.
type SFImportResult struct {
	ListID        uuid.UUID           `json:"list_id"`
	ImportID      uuid.UUID           `json:"import_id"`
	Label         string              `json:"label"`
	Period        string              `json:"period"`
	Unchanged     bool                `json:"unchanged"`
	Read          int                 `json:"read"`
	Lines         int                 `json:"lines"`
	F1            int                 `json:"f1"`
	F2            int                 `json:"f2"`
	WithoutAlert  int                 `json:"without_alert"`
	RejectedCount int                 `json:"rejected_count"`
	Rejected      []SFRejected        `json:"rejected"`
	ImportedAt    time.Time           `json:"imported_at"`
	Position      eventstore.Position `json:"-"`
}

// SFRejectedError refuses a file with invalid lines, imported without
// SkipInvalid: nothing was imported. Rejected lists the first refused
// lines (sflist.MaxRejected), Count counts them all. errors.Is(err,
// domain.ErrValidation) holds. Its message never quotes the file.
type SFRejectedError struct {
	Count    int
	Read     int
	Rejected []SFRejected
}

func (e *SFRejectedError) Error() string {
	return fmt.Sprintf("%d of the file's %d lines are invalid: nothing was imported (skip_invalid imports the others)", e.Count, e.Read)
}

// Is makes errors.Is(err, domain.ErrValidation) hold.
func (e *SFRejectedError) Is(target error) bool { return target == domain.ErrValidation }

// ImportSignauxFaibles imports a Signaux Faibles list file (admins only):
// every line is checked (sflist, domain.ParseSFLine); a file with any
// refused line imports nothing unless in.SkipInvalid; the lines with an
// alert become an import of the list of their period, recorded in the log
// with who and when; the same list again records nothing (Unchanged).
//
// It returns a *ForbiddenError, a *domain.ValidationError for a file that
// cannot be read as a whole, a bad period or label, or a file without any
// line with an alert, an *SFRejectedError, ErrConflict after too many
// concurrent imports of the same list, and the store's errors.
func (s *Service) ImportSignauxFaibles(ctx context.Context, p Principal, in SFImportInput, m CommandMeta) (SFImportResult, error) {
	if err := s.Authorize(p, ActionImportSF); err != nil {
		return SFImportResult{}, err
	}
	format := sflist.Format(in.Format)
	if format != sflist.CSV && format != sflist.JSON {
		return SFImportResult{}, &domain.ValidationError{Field: "format", Message: "csv or json"}
	}
	read, err := sflist.Read(in.Data, format, sflist.Options{Period: in.Period})
	if err != nil {
		return SFImportResult{}, err
	}
	if read.RejectedCount > 0 && !in.SkipInvalid {
		return SFImportResult{}, &SFRejectedError{Count: read.RejectedCount, Read: read.Read, Rejected: read.Rejected}
	}
	if len(read.Lines) == 0 {
		return SFImportResult{}, &domain.ValidationError{Field: "file", Message: fmt.Sprintf(
			"no line with an alert among the file's %d lines (%d without alert, %d refused): nothing to import",
			read.Read, read.WithoutAlert, read.RejectedCount)}
	}
	res := SFImportResult{ListID: domain.SFListID(read.Period), Period: read.Period, Read: read.Read, WithoutAlert: read.WithoutAlert,
		RejectedCount: read.RejectedCount, Rejected: read.Rejected}
	if res.Rejected == nil {
		res.Rejected = []SFRejected{}
	}
	stream := domain.SFListStream(res.ListID)
	for attempt := 1; ; attempt++ {
		list, err := s.loadSFList(ctx, read.Period)
		if err != nil {
			return SFImportResult{}, err
		}
		loaded := list.Version()
		importID, err := uuid.NewV7()
		if err != nil {
			return SFImportResult{}, fmt.Errorf("import id: %w", err)
		}
		err = list.Import(domain.SFListImport{Label: in.Label, Period: read.Period, Lines: read.Lines}, importID, actor(p), s.now().UTC())
		if errors.Is(err, domain.ErrSFListUnchanged) {
			last, _ := list.Last()
			res.fill(last)
			res.Unchanged = true
			return res, nil
		}
		if err != nil {
			return SFImportResult{}, err
		}
		expected := eventstore.NoStream
		if loaded > 0 {
			expected = eventstore.Exactly(loaded)
		}
		ar, err := s.append(ctx, "import_signaux_faibles", stream, expected, p, m, list.Changes())
		if err == nil {
			last, _ := list.Last()
			res.fill(last)
			res.Position = ar.Position
			s.log.InfoContext(ctx, "signaux faibles list imported", "period", read.Period, "import", importID,
				"lines", last.Lines, "by", p.UserID)
			return res, nil
		}
		if !errors.Is(err, eventstore.ErrConcurrency) {
			return SFImportResult{}, err
		}
		s.conflicts.Inc()
		if attempt >= s.attempts {
			return SFImportResult{}, fmt.Errorf("import list %s after %d attempts: %w", read.Period, attempt, ErrConflict)
		}
		d := time.Duration(rand.IntN(1+min(attempt, 10)*500)) * time.Microsecond
		select {
		case <-ctx.Done():
			return SFImportResult{}, ctx.Err()
		case <-time.After(d):
		}
	}
}

func (r *SFImportResult) fill(i domain.SFImport) {
	r.ImportID, r.Label, r.Lines, r.F1, r.F2, r.ImportedAt = i.ImportID, i.Label, i.Lines, i.F1, i.F2, i.At
}

// loadSFList folds the stream of the list of period. It returns the
// store's errors.
func (s *Service) loadSFList(ctx context.Context, period string) (*domain.SFList, error) {
	l := domain.NewSFList(period)
	stream := domain.SFListStream(l.ID())
	raw, err := s.store.ReadStream(ctx, stream, 1, 0)
	if errors.Is(err, eventstore.ErrNotFound) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	for _, r := range raw {
		e, err := domain.Unmarshal(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			return nil, fmt.Errorf("read %s version %d: %w", stream, r.Version, err)
		}
		if err := l.Apply(e); err != nil {
			return nil, fmt.Errorf("read %s version %d: %w", stream, r.Version, err)
		}
	}
	return l, nil
}
