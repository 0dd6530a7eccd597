package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/directoryfile"
)

// ImportInput is a directory file to import.
type ImportInput struct {
	FileName string
	Data     []byte
	// DryRun decides and reports without writing anything.
	DryRun bool
	// RemoveMissing deactivates the referents of the file's organisations
	// that the file no longer lists (they are reported either way).
	RemoveMissing bool
}

// ImportReport is what an import did, or would do.
type ImportReport struct {
	// ImportID names the import's record in the log, and is the
	// correlation id of every change it made; nil unless Written.
	ImportID      uuid.UUID         `json:"import_id,omitempty"`
	FileName      string            `json:"file_name"`
	FileSHA256    string            `json:"file_sha256"`
	Format        string            `json:"format"`
	Headers       string            `json:"headers"`
	DryRun        bool              `json:"dry_run"`
	RemoveMissing bool              `json:"remove_missing"`
	Written       bool              `json:"written"`
	At            time.Time         `json:"at"`
	Totals        ImportTotals      `json:"totals"`
	Lines         []ImportLineView  `json:"lines"`
	Missing       []MissingReferent `json:"missing"`
	// Position is the global position of the import's last event (zero
	// unless Written): reading with it as min_position sees the import.
	Position eventstore.Position `json:"-"`
}

// ImportTotals counts an import's lines and what it creates.
type ImportTotals struct {
	Lines                int `json:"lines"`
	Created              int `json:"created"`
	Updated              int `json:"updated"`
	Unchanged            int `json:"unchanged"`
	Errors               int `json:"errors"`
	Missing              int `json:"missing"`
	Removed              int `json:"removed"`
	OrganisationsCreated int `json:"organisations_created"`
	AntennesCreated      int `json:"antennes_created"`
	Events               int `json:"events"`
}

// ImportLineView is one line of an import's report.
type ImportLineView struct {
	Line         int               `json:"line"`
	Status       string            `json:"status"` // created, updated, unchanged or error
	Organisation string            `json:"organisation"`
	Email        string            `json:"email"`
	ReferentID   *uuid.UUID        `json:"referent_id,omitempty"`
	Changes      []string          `json:"changes,omitempty"`
	Errors       []ImportLineError `json:"errors,omitempty"`
}

// ImportLineError is why a line cannot be imported: the column, as the
// file's header names it, and the reason.
type ImportLineError struct {
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// MissingReferent is an active referent of an organisation the file
// imports, that the file no longer lists.
type MissingReferent struct {
	ReferentID     uuid.UUID `json:"referent_id"`
	OrganisationID uuid.UUID `json:"organisation_id"`
	Organisation   string    `json:"organisation"`
	Name           string    `json:"name"`
	Email          string    `json:"email"`
	Removed        bool      `json:"removed"`
}

// ErrImportRefused: a file with an error in any line is not imported at
// all. The concrete error is an *ImportRefusedError holding the report.
var ErrImportRefused = errors.New("import refused")

// ImportRefusedError refuses a whole file because of its lines' errors.
type ImportRefusedError struct{ Report *ImportReport }

func (e *ImportRefusedError) Error() string {
	return fmt.Sprintf("%s: %d of %d lines have errors; nothing was written",
		e.Report.FileName, e.Report.Totals.Errors, e.Report.Totals.Lines)
}

// Is makes errors.Is(err, ErrImportRefused) hold.
func (e *ImportRefusedError) Is(target error) bool { return target == ErrImportRefused }

// ImportDirectory imports a directory file (admin only): it reads the
// file, compares it with the directory read from the log, and unless
// in.DryRun or a line has an error, appends the changes: first the
// import's record (domain.DirectoryImported: who, which file, when), then
// every change with the import's id as correlation id and its record's
// stream as causation id. It returns the report, and with it an
// *ImportRefusedError when a line has an error (and in.DryRun is false).
// Other errors: a *ForbiddenError, a *domain.ValidationError (field
// "file") for a file it cannot read, ErrConflict when concurrent changes
// keep getting in the way, and the store's errors.
func (s *Service) ImportDirectory(ctx context.Context, p Principal, in ImportInput) (*ImportReport, error) {
	if err := s.Authorize(p, ActionImportDirectory); err != nil {
		return nil, err
	}
	file, err := directoryfile.Parse(in.FileName, in.Data)
	if err != nil {
		var fe *directoryfile.FileError
		if errors.As(err, &fe) {
			return nil, &domain.ValidationError{Field: "file", Message: fe.Error()}
		}
		return nil, err
	}
	sum := sha256.Sum256(in.Data)
	at := s.now().UTC().Round(0)
	rep := &ImportReport{FileName: in.FileName, FileSHA256: hex.EncodeToString(sum[:]), Format: string(file.Format),
		Headers: string(file.Headers), DryRun: in.DryRun, RemoveMissing: in.RemoveMissing, At: at,
		Lines: []ImportLineView{}, Missing: []MissingReferent{}}
	opts := domain.ImportOptions{RemoveMissing: in.RemoveMissing, Geography: s.geo, By: actor(p), At: at}
	log, err := s.readDirectory(ctx)
	if err != nil {
		return nil, err
	}
	plan, err := planOn(log, file.Rows, opts)
	if err != nil {
		return nil, err
	}
	rep.fill(file, plan)
	switch {
	case rep.Totals.Errors > 0 && !in.DryRun:
		return rep, &ImportRefusedError{Report: rep}
	case in.DryRun || len(plan.Changes) == 0:
		return rep, nil
	}
	importID, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("import id: %w", err)
	}
	record := domain.DirectoryImported{Meta: domain.Meta{At: at, By: actor(p)}, ImportID: importID,
		FileName: in.FileName, FileSHA256: rep.FileSHA256, Format: rep.Format, Headers: rep.Headers, ByName: p.Name}
	meta := CommandMeta{CorrelationID: importID.String()}
	if _, err := s.append(ctx, "import_directory", domain.ImportStream(importID), eventstore.NoStream, p, meta, []domain.Event{record}); err != nil {
		return nil, err
	}
	meta.CausationID = importCause(importID)
	var last eventstore.Position
	for attempt := 1; ; attempt++ {
		pos, err := s.writePlan(ctx, p, meta, log.versions, plan)
		if !last.Less(pos) {
			pos = last
		}
		last = pos
		if err == nil {
			break
		}
		if !errors.Is(err, eventstore.ErrConcurrency) || attempt >= s.attempts {
			if errors.Is(err, eventstore.ErrConcurrency) {
				err = fmt.Errorf("%w: %v", ErrConflict, err)
			}
			return nil, fmt.Errorf("import %s (partly written; importing the file again completes it): %w", importID, err)
		}
		// Another writer changed the directory meanwhile: decide again on
		// what it is now, and write what remains.
		s.conflicts.Inc()
		if log, err = s.readDirectory(ctx); err != nil {
			return nil, err
		}
		if plan, err = planOn(log, file.Rows, opts); err != nil {
			return nil, err
		}
		if n := plan.Count(domain.LineError); n > 0 {
			return nil, fmt.Errorf("import %s: %w: the directory changed during the import and %d lines no longer fit; import the file again", importID, ErrConflict, n)
		}
	}
	rep.ImportID, rep.Written, rep.Position = importID, true, last
	for _, l := range rep.Lines {
		if l.ReferentID != nil && len(l.Changes) > 0 {
			s.forgetName(*l.ReferentID)
		}
	}
	return rep, nil
}

// planOn folds the directory now and plans the import on it.
func planOn(log *directoryLog, rows []domain.ImportRow, opts domain.ImportOptions) (domain.ImportPlan, error) {
	d, err := log.fold(nil)
	if err != nil {
		return domain.ImportPlan{}, err
	}
	return domain.PlanImport(d, rows, opts)
}

// importWriters is how many appends an import keeps in flight: the
// stores commit concurrent appends together (SQLite's group commit, one
// round trip each on PostgreSQL), so that thousands of referents' streams
// take seconds, not minutes.
const importWriters = 16

// writePlan appends a plan's changes, each stream at the version the log
// had when the plan was decided: the organisations' streams first, in
// order (their referents' events refer to them), then the referents'
// streams, several at a time. It returns the position of the last append,
// and the first error (an eventstore.ErrConcurrency when another writer got
// there first); appends already made stay.
func (s *Service) writePlan(ctx context.Context, p Principal, m CommandMeta, versions map[string]int64, plan domain.ImportPlan) (eventstore.Position, error) {
	var last eventstore.Position
	var mu sync.Mutex
	write := func(ctx context.Context, c domain.StreamChange) error {
		expected := eventstore.NoStream
		if !c.New {
			expected = eventstore.Exactly(versions[c.Stream])
		}
		res, err := s.append(ctx, "import_directory", c.Stream, expected, p, m, c.Events)
		if err != nil {
			return err
		}
		mu.Lock()
		if last.Less(res.Position) {
			last = res.Position
		}
		mu.Unlock()
		return nil
	}
	rest := plan.Changes
	for len(rest) > 0 && domain.StreamKind(rest[0].Stream) == domain.KindOrganisationStream {
		if err := write(ctx, rest[0]); err != nil {
			return last, err
		}
		rest = rest[1:]
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan domain.StreamChange)
	errs := make(chan error, importWriters)
	var wg sync.WaitGroup
	for range min(importWriters, len(rest)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if err := write(wctx, c); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for _, c := range rest {
		select {
		case work <- c:
		case <-wctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	var first error
	for err := range errs {
		// A conflict says what to do next (decide again); a cancellation
		// is only the echo of another writer's error.
		if first == nil || errors.Is(err, eventstore.ErrConcurrency) && !errors.Is(first, eventstore.ErrConcurrency) {
			first = err
		}
	}
	if first == nil {
		first = ctx.Err() // the caller left: some changes may not be written
	}
	return last, first
}

// fill lays a plan out as the report, naming columns as the file does.
func (r *ImportReport) fill(f *directoryfile.File, plan domain.ImportPlan) {
	for _, l := range plan.Lines {
		v := ImportLineView{Line: l.Line, Status: string(l.Outcome), Organisation: l.Organisation, Email: l.Email, Changes: l.Changes}
		if l.ReferentID != uuid.Nil {
			id := l.ReferentID
			v.ReferentID = &id
		}
		for _, is := range l.Issues {
			v.Errors = append(v.Errors, ImportLineError{Column: f.Column(is.Field), Reason: is.Reason})
		}
		r.Lines = append(r.Lines, v)
	}
	for _, m := range plan.Missing {
		r.Missing = append(r.Missing, MissingReferent{ReferentID: m.ReferentID, OrganisationID: m.OrganisationID,
			Organisation: m.Organisation, Name: m.Name, Email: m.Email, Removed: m.Removed})
		if m.Removed {
			r.Totals.Removed++
		}
	}
	r.Totals.Lines = len(plan.Lines)
	r.Totals.Created = plan.Count(domain.LineCreated)
	r.Totals.Updated = plan.Count(domain.LineUpdated)
	r.Totals.Unchanged = plan.Count(domain.LineUnchanged)
	r.Totals.Errors = plan.Count(domain.LineError)
	r.Totals.Missing = len(plan.Missing)
	r.Totals.OrganisationsCreated = plan.OrganisationsCreated
	r.Totals.AntennesCreated = plan.AntennesCreated
	r.Totals.Events = plan.Events()
}

// ExportDirectory writes the directory's active referents as a directory
// file in format (what ImportDirectory reads back unchanged), as the
// directory stands or, with asOf, as it stood then (admin only). It
// returns a *ForbiddenError, and the store's and the writer's errors.
func (s *Service) ExportDirectory(ctx context.Context, p Principal, format directoryfile.Format, asOf *time.Time) ([]byte, error) {
	if err := s.Authorize(p, ActionExportDirectory); err != nil {
		return nil, err
	}
	log, err := s.readDirectory(ctx)
	if err != nil {
		return nil, err
	}
	d, err := log.fold(asOf)
	if err != nil {
		return nil, err
	}
	b, err := directoryfile.Write(format, domain.DirectoryRows(d))
	if err != nil {
		return nil, fmt.Errorf("export directory: %w", err)
	}
	return b, nil
}
