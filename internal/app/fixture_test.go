package app_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/memory"
	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// routes is a Suggester over the referents the fixture registered: the
// server uses the directory read model instead.
type routes struct{ covs []domain.Coverage }

func (r *routes) Suggest(_ context.Context, commune, subject string) ([]domain.Coverage, error) {
	return domain.Route(domain.DefaultGeography(), r.covs, commune, subject), nil
}

// testMaster wraps the fixtures' contact keys.
var testMaster = func() *keys.Master {
	m, err := keys.GenerateMaster()
	if err != nil {
		panic(err)
	}
	return m
}()

type fixture struct {
	svc    *app.Service
	store  eventstore.Store
	db     *sql.DB
	handle sqldb.DB
	dbPath string
	org    uuid.UUID
	refA   uuid.UUID // covers recruitment in Nord (59)
	refB   uuid.UUID // covers recruitment in Hauts-de-France (32)
	// principals
	admin, advisor, advisor2, referentA, referentB, animNord, animOise, funder app.Principal
	// skew moves the service's clock ahead of the wall clock (nanoseconds),
	// for tests that need time to pass between two commands.
	skew atomic.Int64
}

// now is the service's clock: the wall clock, moved ahead by skew.
func (f *fixture) now() time.Time {
	return time.Now().Add(time.Duration(f.skew.Load()))
}

var ctx = context.Background()

const (
	lille  = "59350" // Nord
	beauv  = "60057" // Beauvais, Oise
	siret  = "73282932000074"
	siret2 = "35600000000048"
)

// mustFixture builds a service on the store kind ("memory", "sqlite" or
// "postgres", where keys and credentials live in the same schema),
// with an organisation, two referents and one user per role.
func mustFixture(t testing.TB, kind string) *fixture {
	t.Helper()
	f := &fixture{dbPath: filepath.Join(t.TempDir(), "reso.db")}
	file, err := sqlite.OpenDB(f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	var db sqldb.DB = file
	switch kind {
	case "postgres":
		st, err := postgres.Open(ctx, pgtest.MustSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		f.store = st
		db = sqldb.NewPostgres(stdlib.OpenDBFromPool(st.Pool()))
	case "memory":
		f.store = memory.New()
	case "sqlite":
		st, err := sqlite.New(ctx, file)
		if err != nil {
			t.Fatal(err)
		}
		f.store = st
	default:
		t.Fatalf("unknown store %q", kind)
	}
	t.Cleanup(func() { f.store.Close() })
	f.db, f.handle = db.SQL(), db
	if _, err := sqlmigrate.Apply(ctx, db, keys.Migrations, auth.Migrations); err != nil {
		t.Fatal(err)
	}
	kr, err := keys.New(ctx, db, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	as, err := auth.New(ctx, db, f.store)
	if err != nil {
		t.Fatal(err)
	}
	r := &routes{}
	f.svc, err = app.New(app.Config{Store: f.store, Keys: kr, Auth: as, Suggester: r, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	const adminToken = "reso_test_admin_token_of_32_characters"
	if _, err := as.EnsureAdmin(ctx, adminToken); err != nil {
		t.Fatal(err)
	}
	f.admin = mustAuth(t, f.svc, adminToken)

	f.org, _, err = f.svc.CreateOrganisation(ctx, f.admin, "CCI Grand Lille", "cci", app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	nord := domain.Zone{Level: domain.LevelDepartement, Code: "59"}
	hdf := domain.Zone{Level: domain.LevelRegion, Code: "32"}
	f.refA = f.mustReferent(t, "Rémi Référent", nord)
	f.refB = f.mustReferent(t, "Berthe Référente", hdf)
	r.covs = []domain.Coverage{
		{ReferentID: f.refA, OrganisationID: f.org, Name: "Rémi Référent", Subjects: []string{"recruitment"}, Zones: []domain.Zone{nord}, Active: true},
		{ReferentID: f.refB, OrganisationID: f.org, Name: "Berthe Référente", Subjects: []string{"recruitment"}, Zones: []domain.Zone{hdf}, Active: true},
	}

	f.advisor = f.mustUser(t, app.UserInput{Name: "Alain Conseiller", Email: "alain@cci.fr", Role: domain.RoleAdvisor, OrganisationID: f.org})
	f.advisor2 = f.mustUser(t, app.UserInput{Name: "Autre Conseiller", Email: "autre@cci.fr", Role: domain.RoleAdvisor, OrganisationID: f.org})
	f.referentA = f.mustUser(t, app.UserInput{Name: "Rémi Référent", Email: "remi@cci.fr", Role: domain.RoleReferent, ReferentID: f.refA})
	f.referentB = f.mustUser(t, app.UserInput{Name: "Berthe Référente", Email: "berthe@cci.fr", Role: domain.RoleReferent, ReferentID: f.refB})
	f.animNord = f.mustUser(t, app.UserInput{Name: "Ana Nord", Email: "ana@region.fr", Role: domain.RoleAnimateur, Territories: []domain.Zone{nord}})
	f.animOise = f.mustUser(t, app.UserInput{Name: "Oscar Oise", Email: "oscar@region.fr", Role: domain.RoleAnimateur, Territories: []domain.Zone{{Level: domain.LevelDepartement, Code: "60"}}})
	f.funder = f.mustUser(t, app.UserInput{Name: "Fanny DGE", Email: "fanny@dge.fr", Role: domain.RoleFunder})
	return f
}

func mustAuth(t testing.TB, svc *app.Service, token string) app.Principal {
	t.Helper()
	p, err := svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) mustReferent(t testing.TB, name string, z domain.Zone) uuid.UUID {
	t.Helper()
	id, _, err := f.svc.RegisterReferent(ctx, f.admin, app.ReferentInput{
		OrganisationID: f.org, Name: name, Email: uuid.NewString()[:8] + "@cci.fr",
		Subjects: []string{"recruitment"}, Zones: []domain.Zone{z},
	}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) mustUser(t testing.TB, in app.UserInput) app.Principal {
	t.Helper()
	_, tok, _, err := f.svc.RegisterUser(ctx, f.admin, in, app.CommandMeta{})
	if err != nil {
		t.Fatalf("register %s: %v", in.Name, err)
	}
	return mustAuth(t, f.svc, tok)
}

func capture(commune string) app.CaptureInput {
	return app.CaptureInput{
		SIRET: siret, CompanyName: "Boulangerie du Beffroi", Commune: commune, Subject: "recruitment",
		Description: "Recruter deux boulangers avant l'été",
		Contact:     app.Contact{Name: "Camille Dupont", Email: "camille.dupont@beffroi.fr", Phone: "03 20 00 00 00"},
	}
}

// mustNeed captures a need by f.advisor in commune and, when refs are
// given, forwards it to them.
func (f *fixture) mustNeed(t testing.TB, commune string, refs ...uuid.UUID) uuid.UUID {
	t.Helper()
	r, err := f.svc.CaptureNeed(ctx, f.advisor, capture(commune), app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) > 0 {
		if _, err := f.svc.ForwardNeed(ctx, f.advisor, r.Need.ID, refs, app.CommandMeta{}); err != nil {
			t.Fatal(err)
		}
	}
	return r.Need.ID
}

type uuidT = uuid.UUID
