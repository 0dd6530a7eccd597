// Package consolebench measures the web console's pages: it fills a store
// with simulated needs (100,000 by default), starts the real server on it,
// and times each page as the server serves it, in process, for the role
// whose main pages they are. cmd/reso-bench runs it; its figures are in
// docs/benchmarks.md.
package consolebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections/directory"
	"github.com/reso-fr/reso/projections/stats"
)

// Options tune a run; the zero value measures 100,000 needs.
type Options struct {
	Needs    int    // needs simulated (default 100,000)
	Requests int    // requests per page (default 200)
	DataDir  string // the embedded store's directory (required); a store with events is measured as it is
	Seed     int64
	Out      io.Writer // progress (nil: none)
}

// Page is the timing of one page.
type Page struct {
	Role     domain.Role
	Path     string // as requested, with one of its need ids
	Requests int
	P50, P99 time.Duration
	Max      time.Duration
	Status   int // of the last request
}

// Result is a run's figures.
type Result struct {
	Needs, Events int
	Seed, CatchUp time.Duration
	Pages         []Page
	Limit         time.Duration // the target p99
	SlowestPage   string
	SlowestP99    time.Duration
}

// sealer seals the simulated contacts with the real keyring, as the demo
// does: need pages open them.
type sealer struct{ k *keys.Keyring }

func (s sealer) Seal(ctx context.Context, needID uuid.UUID, siret string, c simulate.Contact) (domain.SealedContact, error) {
	return s.k.Seal(ctx, needID, siret, keys.Contact(c))
}

func (o *Options) defaults() error {
	if o.Needs <= 0 {
		o.Needs = 100_000
	}
	if o.Requests <= 0 {
		o.Requests = 200
	}
	if o.DataDir == "" {
		return errors.New("consolebench: a data directory is required")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return nil
}

// Run seeds, starts the server, times every page and returns the figures.
// It returns the store's, the simulation's or a page's error (a page that
// does not answer 200).
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	master, err := benchMaster(o.DataDir)
	if err != nil {
		return Result{}, err
	}
	// The measure is each page's time: no rate limit.
	srv, err := server.New(sctx, server.Config{Addr: "127.0.0.1:0", DataDir: o.DataDir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MasterKeys: []*keys.Master{master},
		Limits: server.Limits{Off: true}})
	if err != nil {
		return Result{}, err
	}
	res := Result{Limit: 50 * time.Millisecond}
	b := srv.Backend()
	head, err := b.Events.Head(ctx)
	if err != nil {
		srv.Shutdown(context.Background())
		return res, err
	}
	users := map[domain.Role]uuid.UUID{}
	last := head
	if head.IsZero() {
		now := time.Now().UTC()
		months := 18
		start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -months+1, 0)
		fmt.Fprintf(o.Out, "seeding %d needs over %d months...\n", o.Needs, months)
		t0 := time.Now()
		sim, err := simulate.Run(ctx, b.Events, simulate.Options{Seed: o.Seed, Start: start, Months: months, Now: now,
			TotalNeeds: o.Needs, Writers: 4, Sealer: sealer{b.Keys},
			// A list each month, as the demo: the animateur's alerts and
			// companies to visit are measured over real joins.
			SignauxFaibles: true})
		if err != nil {
			srv.Shutdown(context.Background())
			return res, fmt.Errorf("simulate: %w", err)
		}
		res.Needs, res.Events, res.Seed, last = sim.Needs, int(sim.Events), time.Since(t0), sim.Last
		for role, ids := range sim.Users {
			users[role] = ids[0]
		}
		fmt.Fprintf(o.Out, "seeded %d needs (%d events) in %s\n", res.Needs, res.Events, res.Seed.Round(time.Second))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Shutdown(context.Background())
		return res, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	defer func() { cancel(); <-served }()
	<-srv.Started()
	fmt.Fprintln(o.Out, "projections catching up...")
	t0 := time.Now()
	for {
		err := srv.Service().WaitForPosition(ctx, last)
		if err == nil {
			break
		}
		if !errors.Is(err, app.ErrLagging) {
			return res, err
		}
	}
	res.CatchUp = time.Since(t0)
	fmt.Fprintf(o.Out, "caught up in %s; timing pages...\n", res.CatchUp.Round(time.Second))
	if len(users) == 0 {
		// A store seeded before: its users and size from the read models.
		if err := fromReadModels(ctx, srv, users, &res); err != nil {
			return res, err
		}
	}
	pages, err := plan(ctx, srv, users)
	if err != nil {
		return res, err
	}
	for _, pg := range pages {
		p, err := measure(ctx, srv, pg, o.Requests)
		if err != nil {
			return res, err
		}
		fmt.Fprintf(o.Out, "  %-10s %-60s p50 %6.1f ms  p99 %6.1f ms\n", p.Role, p.Path, ms(p.P50), ms(p.P99))
		res.Pages = append(res.Pages, p)
		if p.P99 > res.SlowestP99 {
			res.SlowestP99, res.SlowestPage = p.P99, string(p.Role)+" "+p.Path
		}
	}
	return res, nil
}

// target is one page to time: its role's principal and its paths (need
// pages rotate over several needs).
type target struct {
	p     app.Principal
	paths []string
}

// plan lists the pages of each role, with need ids the role may open.
func plan(ctx context.Context, srv *server.Server, users map[domain.Role]uuid.UUID) ([]target, error) {
	svc := srv.Service()
	principal := func(role domain.Role) (app.Principal, error) {
		id, ok := users[role]
		if !ok {
			return app.Principal{}, fmt.Errorf("consolebench: the store has no %s", role)
		}
		return svc.PrincipalOfUser(ctx, id)
	}
	var ps = map[domain.Role]app.Principal{}
	for _, r := range []domain.Role{domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur, domain.RoleFunder, domain.RoleAdmin} {
		p, err := principal(r)
		if err != nil {
			return nil, err
		}
		ps[r] = p
	}
	needsOf := func(role domain.Role) ([]string, error) {
		page, err := svc.ListNeeds(ctx, ps[role], app.NeedQuery{Limit: 20})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, n := range page.Items {
			out = append(out, n.ID.String())
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("consolebench: the %s has no need", role)
		}
		return out, nil
	}
	each := func(ids []string, format string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, strings.Replace(format, "%s", id, 1))
		}
		return out
	}
	adv, err := needsOf(domain.RoleAdvisor)
	if err != nil {
		return nil, err
	}
	ref, err := needsOf(domain.RoleReferent)
	if err != nil {
		return nil, err
	}
	anim, err := needsOf(domain.RoleAnimateur)
	if err != nil {
		return nil, err
	}
	one := func(p string) []string { return []string{p} }
	past := url(time.Now().AddDate(0, -1, 0))
	return []target{
		{ps[domain.RoleAdvisor], one("/besoins")},
		{ps[domain.RoleAdvisor], one("/besoins/nouveau")},
		{ps[domain.RoleAdvisor], each(adv, "/besoins/%s")},
		{ps[domain.RoleAdvisor], each(adv, "/besoins/%s/mise-en-relation")},
		{ps[domain.RoleReferent], one("/boite")},
		{ps[domain.RoleReferent], one("/boite?onglet=done")},
		{ps[domain.RoleReferent], each(ref, "/besoins/%s")},
		{ps[domain.RoleAnimateur], one("/tableau-de-bord")},
		{ps[domain.RoleAnimateur], one("/besoins")},
		{ps[domain.RoleAnimateur], one("/besoins?relance=poke")},
		{ps[domain.RoleAnimateur], one("/besoins?statut=taking_care&sujet=recruitment")},
		{ps[domain.RoleAnimateur], each(anim, "/besoins/%s/historique")},
		{ps[domain.RoleAnimateur], each(anim, "/besoins/%s/historique?au="+past)},
		{ps[domain.RoleAnimateur], one("/besoins?alerte=any")},
		{ps[domain.RoleAnimateur], one("/entreprises-a-visiter")},
		{ps[domain.RoleAnimateur], one("/entreprises-a-visiter?sans_besoin_depuis=" + time.Now().AddDate(-1, 0, 0).Format(time.DateOnly))},
		{ps[domain.RoleAnimateur], one("/statistiques")},
		{ps[domain.RoleFunder], one("/statistiques")},
		{ps[domain.RoleFunder], one("/statistiques?departement=59&sujet=recruitment")},
		{ps[domain.RoleFunder], one("/statistiques.csv")},
		{ps[domain.RoleFunder], one("/statistiques.xlsx")},
		{ps[domain.RoleAdmin], one("/besoins")},
		{ps[domain.RoleAdmin], one("/admin/annuaire")},
		{ps[domain.RoleAdmin], one("/admin/annuaire?onglet=referents")},
		{ps[domain.RoleAdmin], one("/admin/annuaire?onglet=utilisateurs")},
		{ps[domain.RoleAdmin], one("/admin/projections")},
		{ps[domain.RoleAdmin], one("/admin/notifications")},
		{ps[domain.RoleAdmin], one("/entreprises-a-visiter")},
		{ps[domain.RoleAdmin], one("/tableau-de-bord")},
	}, nil
}

func url(t time.Time) string { return strings.ReplaceAll(t.UTC().Format(time.RFC3339), ":", "%3A") }

// measure requests a page n times through the server's handler, in
// process: what is timed is the server's work, not a network.
func measure(ctx context.Context, srv *server.Server, tg target, n int) (Page, error) {
	sess, err := srv.Sessions().Open(ctx, tg.p)
	if err != nil {
		return Page{}, err
	}
	cookie := &http.Cookie{Name: "reso_session", Value: srv.Sessions().Cookie(sess.ID)}
	h := srv.Handler()
	times := make([]time.Duration, 0, n)
	p := Page{Role: tg.p.Role, Path: tg.paths[0], Requests: n}
	if len(tg.paths) > 1 {
		p.Path = strings.Replace(tg.paths[0], strings.Split(strings.TrimPrefix(tg.paths[0], "/besoins/"), "/")[0], "{id}", 1)
	}
	for i := 0; i < n; i++ {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, tg.paths[i%len(tg.paths)], nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		t0 := time.Now()
		h.ServeHTTP(rec, req)
		times = append(times, time.Since(t0))
		p.Status = rec.Code
		if rec.Code != http.StatusOK {
			return p, fmt.Errorf("consolebench: %s %s answered %d", tg.p.Role, tg.paths[i%len(tg.paths)], rec.Code)
		}
	}
	slices.Sort(times)
	p.P50, p.P99, p.Max = quantile(times, 0.5), quantile(times, 0.99), times[len(times)-1]
	return p, nil
}

// quantile is the nearest-rank quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Markdown writes the figures as the table of docs/benchmarks.md.
func (r Result) Markdown(w io.Writer) {
	if r.Events > 0 {
		fmt.Fprintf(w, "%d needs, %d events; seeded in %s, read models caught up in %s. ", r.Needs, r.Events, r.Seed.Round(time.Second), r.CatchUp.Round(time.Second))
	} else {
		fmt.Fprintf(w, "%d needs (a store seeded before). ", r.Needs)
	}
	fmt.Fprintf(w, "Each page requested as its role through the server's handler, in process.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| role\t| page\t| requests\t| p50 (ms)\t| p99 (ms)\t| max (ms)\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---:\t|---:\t|---:\t|---:\t|")
	for _, p := range r.Pages {
		fmt.Fprintf(tw, "| %s\t| `%s`\t| %d\t| %.1f\t| %.1f\t| %.1f\t|\n", p.Role, p.Path, p.Requests, ms(p.P50), ms(p.P99), ms(p.Max))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nSlowest p99: %.1f ms (%s); target %.0f ms.\n", ms(r.SlowestP99), r.SlowestPage, ms(r.Limit))
}

// fromReadModels finds, in a store seeded before, the first user of each
// role, and counts its needs.
func fromReadModels(ctx context.Context, srv *server.Server, users map[domain.Role]uuid.UUID, res *Result) error {
	e := srv.Backend().Projections
	us, err := e.Users(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(us, func(a, b directory.UserRow) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	for _, u := range us {
		if _, ok := users[u.Role]; !ok && (u.Role != domain.RoleReferent || u.ReferentID != uuid.Nil) {
			users[u.Role] = u.ID
		}
	}
	rows, err := e.Stats(ctx, stats.StatsQuery{})
	if err != nil {
		return err
	}
	for _, r := range rows {
		res.Needs += int(r.Needs)
	}
	return nil
}

// benchMaster is the master key of a kept benchmark store, in its data
// directory (made up data: the key beside it is no secret).
func benchMaster(dir string) (*keys.Master, error) {
	path := filepath.Join(dir, "master.key")
	m, err := keys.LoadMasterFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		return keys.GenerateMasterFile(path)
	}
	return m, err
}
