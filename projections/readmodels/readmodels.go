// Package readmodels puts Réso's read models together: it registers the
// directory, needs (with matches and inboxes), statistics and Signaux
// Faibles read models
// with the projections engine, and answers every query on them through
// one value.
//
// Dependencies point one way: the runtime (package projections: engine,
// checkpoints, rebuild and swap, tail, relay, bulk writes) knows no read
// model; each read model (projections/directory, needs, stats, with their
// queries, and projections/needfold, the fold needs and statistics share)
// depends on the runtime; this package, the only one that knows them all,
// depends on every one of them. See docs/projections.md.
package readmodels

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
	_ "time/tzdata" // Europe/Paris months on machines without a zoneinfo database

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/directory"
	"github.com/reso-fr/reso/projections/needs"
	"github.com/reso-fr/reso/projections/signaux"
	"github.com/reso-fr/reso/projections/stats"
	"github.com/reso-fr/reso/sqldb"
)

// Names of the read models.
const (
	Directory = directory.Name
	Needs     = needs.Name
	Stats     = stats.Name
	Signaux   = signaux.Name
)

// Names returns the name of every read model, in the order they run.
func Names() []string { return []string{Directory, Needs, Stats, Signaux} }

// Options configure the read models and their engine. The zero value is
// usable.
type Options struct {
	// Geography places communes in their EPCI, département and région
	// (nil: domain.DefaultGeography()).
	Geography *domain.Geography
	// Thresholds drive the reminder baskets and expired matches of queries
	// (zero: domain.DefaultThresholds()).
	Thresholds domain.Thresholds
	// Location is where months of statistics begin (nil: Europe/Paris).
	Location *time.Location
	// TakeChargeWindows are the "within 3 days" and "within 5 days" limits
	// of statistics (zero: 72 h and 120 h). Changing them is a rule change:
	// rebuild the stats read model.
	TakeChargeWindows [2]time.Duration
	// Projections limits the engine to these names (nil: all of Names()).
	Projections []string
	// BatchSize is the most events a runner folds per transaction
	// (default 1000). A rebuild reads RebuildBatch events at a time
	// (default 10000) and keeps what it folds in memory, writing it every
	// RebuildFlush events (default 200000) in one transaction.
	BatchSize    int
	RebuildBatch int
	RebuildFlush int
	// RetryDelay is the pause before a failed projection restarts (default
	// 1 s); StandbyRetry how often a standby process tries to take a
	// projection over (default 2 s).
	RetryDelay   time.Duration
	StandbyRetry time.Duration
	// BeforeCommit, when set, runs inside each runner batch's transaction
	// just before it commits; an error makes the batch fail and roll back.
	// Tests use it to inject failures.
	BeforeCommit func(projection string, events []eventstore.Event) error
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

func (o *Options) defaults() error {
	if o.Geography == nil {
		o.Geography = domain.DefaultGeography()
	}
	if o.Thresholds == (domain.Thresholds{}) {
		o.Thresholds = domain.DefaultThresholds()
	}
	if err := o.Thresholds.Validate(); err != nil {
		return fmt.Errorf("projections options: %w", err)
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			return fmt.Errorf("projections options: %w", err)
		}
		o.Location = loc
	}
	if o.TakeChargeWindows == [2]time.Duration{} {
		o.TakeChargeWindows = [2]time.Duration{72 * time.Hour, 120 * time.Hour}
	}
	return nil
}

// Engine is the projections engine running Réso's read models, with their
// queries. It is safe for concurrent use.
type Engine struct {
	*projections.Engine
	db        *sql.DB // for the queries that join read models
	opts      Options
	directory *directory.Queries
	needs     *needs.Queries
	stats     *stats.Queries
	signaux   *signaux.Queries
}

// New returns the engine of Réso's read models on db (SQLite or PostgreSQL)
// following store. Call Migrate before Run or any query. It returns an
// error for an unknown dialect or projection name, or invalid thresholds.
func New(db sqldb.DB, store eventstore.Store, opts Options) (*Engine, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	models := []projections.ReadModel{
		directory.ReadModel(),
		needs.ReadModel(opts.Geography),
		stats.ReadModel(stats.Config{Geography: opts.Geography, Location: opts.Location, TakeChargeWindows: opts.TakeChargeWindows}),
		signaux.ReadModel(opts.Geography),
	}
	e, err := projections.New(db, store, models, projections.Options{
		Projections: opts.Projections, BatchSize: opts.BatchSize, RebuildBatch: opts.RebuildBatch,
		RebuildFlush: opts.RebuildFlush, RetryDelay: opts.RetryDelay, StandbyRetry: opts.StandbyRetry,
		BeforeCommit: opts.BeforeCommit, Logger: opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Engine{Engine: e, db: db.SQL(), opts: opts, directory: directory.NewQueries(db.SQL(), opts.Geography),
		needs: needs.NewQueries(db.SQL(), opts.Thresholds), stats: stats.NewQueries(db.SQL()),
		signaux: signaux.NewQueries(db.SQL())}, nil
}

// Options returns the engine's options with their defaults filled in.
func (e *Engine) Options() Options { return e.opts }

// The queries of each read model, answered by its package.

// ListNeeds is needs.Queries.ListNeeds.
func (e *Engine) ListNeeds(ctx context.Context, f needs.NeedFilter) (needs.NeedPage, error) {
	return e.needs.ListNeeds(ctx, f)
}

// Need is needs.Queries.Need.
func (e *Engine) Need(ctx context.Context, id uuid.UUID, now time.Time) (needs.NeedRow, error) {
	return e.needs.Need(ctx, id, now)
}

// Matches is needs.Queries.Matches.
func (e *Engine) Matches(ctx context.Context, needID uuid.UUID, now time.Time) ([]needs.MatchRow, error) {
	return e.needs.Matches(ctx, needID, now)
}

// Inbox is needs.Queries.Inbox.
func (e *Engine) Inbox(ctx context.Context, referentID uuid.UUID, tab string, now time.Time, limit int, cursor string) (needs.MatchPage, error) {
	return e.needs.Inbox(ctx, referentID, tab, now, limit, cursor)
}

// Stats is stats.Queries.Stats.
func (e *Engine) Stats(ctx context.Context, q stats.StatsQuery) ([]stats.StatsRow, error) {
	return e.stats.Stats(ctx, q)
}

// Referent is directory.Queries.Referent.
func (e *Engine) Referent(ctx context.Context, id uuid.UUID) (directory.ReferentRow, error) {
	return e.directory.Referent(ctx, id)
}

// Referents is directory.Queries.Referents.
func (e *Engine) Referents(ctx context.Context) ([]directory.ReferentRow, error) {
	return e.directory.Referents(ctx)
}

// Organisation is directory.Queries.Organisation.
func (e *Engine) Organisation(ctx context.Context, id uuid.UUID) (directory.OrganisationRow, error) {
	return e.directory.Organisation(ctx, id)
}

// DirectoryIDs is directory.Queries.IDs.
func (e *Engine) DirectoryIDs(ctx context.Context) (organisations, referents []uuid.UUID, err error) {
	return e.directory.IDs(ctx)
}

// Suggest is directory.Queries.Suggest.
func (e *Engine) Suggest(ctx context.Context, commune, subject string) ([]domain.Coverage, error) {
	return e.directory.Suggest(ctx, commune, subject)
}

// Organisations is directory.Queries.Organisations.
func (e *Engine) Organisations(ctx context.Context) ([]directory.OrganisationRow, error) {
	return e.directory.Organisations(ctx)
}

// Users is directory.Queries.Users.
func (e *Engine) Users(ctx context.Context) ([]directory.UserRow, error) {
	return e.directory.Users(ctx)
}

// UserByEmail is directory.Queries.UserByEmail.
func (e *Engine) UserByEmail(ctx context.Context, email string) (directory.UserRow, error) {
	return e.directory.UserByEmail(ctx, email)
}

// InboxCounts is needs.Queries.InboxCounts.
func (e *Engine) InboxCounts(ctx context.Context, referentID uuid.UUID, now time.Time) (map[string]int, error) {
	return e.needs.InboxCounts(ctx, referentID, now)
}

// Dashboard is needs.Queries.Dashboard.
func (e *Engine) Dashboard(ctx context.Context, q needs.DashboardQuery) (needs.Dashboard, error) {
	return e.needs.Dashboard(ctx, q)
}

// ActorNames is directory.Queries.ActorNames.
func (e *Engine) ActorNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]directory.ActorName, error) {
	return e.directory.ActorNames(ctx, ids)
}

// SFApplying is signaux.Queries.Applying.
func (e *Engine) SFApplying(ctx context.Context, at time.Time) (signaux.Import, bool, error) {
	return e.signaux.Applying(ctx, at)
}

// SFImports is signaux.Queries.Imports.
func (e *Engine) SFImports(ctx context.Context) ([]signaux.Import, error) {
	return e.signaux.Imports(ctx)
}

// SFFlags is signaux.Queries.Flags.
func (e *Engine) SFFlags(ctx context.Context, imp signaux.Import, sirens []string) (map[string]domain.SFFlag, error) {
	return e.signaux.Flags(ctx, imp, sirens)
}

// SFFlagAt is signaux.Queries.FlagAt.
func (e *Engine) SFFlagAt(ctx context.Context, siren string, at time.Time) (domain.SFFlag, bool, error) {
	return e.signaux.FlagAt(ctx, siren, at)
}

// SFCompanies is signaux.Queries.Companies.
func (e *Engine) SFCompanies(ctx context.Context, f signaux.CompanyFilter) (signaux.CompanyPage, error) {
	return e.signaux.Companies(ctx, f)
}
