package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/mailpit"
	"github.com/reso-fr/reso/internal/notify"
	"github.com/reso-fr/reso/internal/pgschema"
	"github.com/reso-fr/reso/internal/server"
)

// NotifyConfig shapes the notification benchmark.
type NotifyConfig struct {
	// Store is "sqlite" (a temporary data directory) or "postgres" (a
	// bench_<random> schema of DSN).
	Store string
	DSN   string
	// Burst needs are forwarded at once, each to two referents: their
	// mails measure deliveries per second (default 500).
	Burst int
	// Paced needs are then forwarded one every Interval: their mails
	// measure the delay from the forward to Mailpit's receipt (defaults
	// 200 and 100 ms: 20 mails a second, well below the burst's rate, so
	// that the delay is not queueing).
	Paced    int
	Interval time.Duration
	// Workers is how many deliveries the notifier runs at once (default
	// the notifier's, 8).
	Workers int
	// Progress receives progress lines (nil: none).
	Progress io.Writer
}

// NotifyReport is what the benchmark measured.
type NotifyReport struct {
	Store   string `json:"store"`
	Workers int    `json:"workers"`
	// Burst: mails of the burst, from the first forward to the last
	// receipt.
	BurstMails   int     `json:"burst_mails"`
	BurstSeconds float64 `json:"burst_s"`
	PerSec       float64 `json:"deliveries_per_s"`
	// Delay: from a paced forward's command to Mailpit's receipt of each
	// of its two mails.
	Delay      Latency `json:"forward_to_mail"`
	IntervalMs float64 `json:"paced_interval_ms"`
}

func (c *NotifyConfig) defaults() error {
	switch c.Store {
	case "":
		c.Store = "sqlite"
	case "sqlite", "postgres":
	default:
		return fmt.Errorf("bench notify: unknown store %q (sqlite or postgres)", c.Store)
	}
	if c.DSN == "" {
		c.DSN = pgschema.DefaultURL
	}
	if c.Burst <= 0 {
		c.Burst = 500
	}
	if c.Paced <= 0 {
		c.Paced = 200
	}
	if c.Interval <= 0 {
		c.Interval = 100 * time.Millisecond
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return nil
}

// RunNotify starts Mailpit (the binary `go install
// github.com/axllent/mailpit@v1.33.1` builds) and the real server
// in-process with its notifier mailing to it, registers two referents and
// an advisor, then forwards needs: Burst at once (deliveries per second),
// then Paced one at a time (forward-to-mail delay). It returns the setup's
// first error.
func RunNotify(ctx context.Context, cfg NotifyConfig) (NotifyReport, error) {
	if err := cfg.defaults(); err != nil {
		return NotifyReport{}, err
	}
	rep := NotifyReport{Store: cfg.Store, Workers: cfg.Workers, IntervalMs: float64(cfg.Interval) / float64(time.Millisecond)}
	tmp, err := os.MkdirTemp("", "reso-bench-notify-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(tmp)
	mp, err := mailpit.Start(mailpit.Options{Dir: tmp, Max: 2*(cfg.Burst+cfg.Paced) + 100})
	if err != nil {
		return rep, err
	}
	defer mp.Stop()

	var tok [32]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return rep, err
	}
	adminToken := hex.EncodeToString(tok[:])
	master, err := keys.GenerateMaster()
	if err != nil {
		return rep, err
	}
	// The load is the point: no rate limit.
	scfg := server.Config{Addr: "127.0.0.1:0", AdminToken: adminToken, DataDir: tmp,
		MasterKeys: []*keys.Master{master}, Limits: server.Limits{Off: true},
		Logger: slog.New(slog.NewTextHandler(cfg.Progress, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Notify: &server.NotifyConfig{SMTPURL: mp.SMTPURL("", ""), BaseURL: "http://bench.reso.test",
			Notifier: notify.Config{Workers: cfg.Workers}}}
	if cfg.Store == "postgres" {
		dsn, schema, drop, err := TempSchema(ctx, cfg.DSN, false)
		if err != nil {
			return rep, err
		}
		defer func() { _ = drop() }()
		fmt.Fprintf(cfg.Progress, "schema %s\n", schema)
		scfg.DatabaseURL = dsn
	}
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	srv, err := server.New(srvCtx, scfg)
	if err != nil {
		return rep, fmt.Errorf("start server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return rep, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	defer func() {
		stop()
		<-served
	}()
	<-srv.Started()

	nb, err := newNotifyBench(ctx, srv.Service(), adminToken)
	if err != nil {
		return rep, fmt.Errorf("directory: %w", err)
	}

	// Burst: capture first, then forward everything from 8 goroutines.
	ids := make([]uuid.UUID, cfg.Burst)
	for i := range ids {
		if ids[i], err = nb.capture(ctx, fmt.Sprintf("Rafale %05d", i)); err != nil {
			return rep, err
		}
	}
	start := time.Now()
	if err := nb.forwardAll(ctx, ids); err != nil {
		return rep, err
	}
	want := 2 * cfg.Burst
	msgs, err := waitMails(ctx, mp.Client, want, 10*time.Minute)
	if err != nil {
		return rep, err
	}
	last := start
	for _, m := range msgs {
		if m.Created.After(last) {
			last = m.Created
		}
	}
	rep.BurstMails, rep.BurstSeconds = want, Round(last.Sub(start).Seconds(), 3)
	if rep.BurstSeconds > 0 {
		rep.PerSec = Round(float64(want)/last.Sub(start).Seconds(), 1)
	}
	fmt.Fprintf(cfg.Progress, "burst: %d mails in %.2f s, %.0f/s\n", want, rep.BurstSeconds, rep.PerSec)

	// Paced: one forward at a time; each mail's delay from its forward.
	sent := map[string]time.Time{}
	for i := range cfg.Paced {
		company := fmt.Sprintf("Cadence %05d", i)
		id, err := nb.capture(ctx, company)
		if err != nil {
			return rep, err
		}
		sent[company] = time.Now()
		if _, err := nb.svc.ForwardNeed(ctx, nb.advisor, id, nb.refs, app.CommandMeta{}); err != nil {
			return rep, err
		}
		time.Sleep(cfg.Interval) // the pace of the load, not a synchronisation
	}
	msgs, err = waitMails(ctx, mp.Client, want+2*cfg.Paced, 10*time.Minute)
	if err != nil {
		return rep, err
	}
	var rec Recorder
	for _, m := range msgs {
		for company, at := range sent {
			if strings.Contains(m.Subject, company) {
				rec.Add(m.Created.Sub(at))
			}
		}
	}
	if rec.Len() != 2*cfg.Paced {
		return rep, fmt.Errorf("bench notify: %d paced mails matched, want %d", rec.Len(), 2*cfg.Paced)
	}
	rep.Delay = Merge(&rec)
	fmt.Fprintf(cfg.Progress, "forward to mail: p50 %.1f ms, p99 %.1f ms\n", rep.Delay.P50Ms, rep.Delay.P99Ms)
	return rep, nil
}

// notifyBench is the benchmark's directory: two referents, an advisor.
type notifyBench struct {
	svc     *app.Service
	advisor app.Principal
	refs    []uuid.UUID
	n       int
}

func newNotifyBench(ctx context.Context, svc *app.Service, adminToken string) (*notifyBench, error) {
	admin, err := svc.Authenticate(ctx, adminToken)
	if err != nil {
		return nil, err
	}
	org, _, err := svc.CreateOrganisation(ctx, admin, "CCI Banc d'essai", "cci", app.CommandMeta{})
	if err != nil {
		return nil, err
	}
	nb := &notifyBench{svc: svc}
	for _, name := range []string{"chloe", "david"} {
		id, _, err := svc.RegisterReferent(ctx, admin, app.ReferentInput{OrganisationID: org, Name: name,
			Email: name + "@referents.bench", Subjects: []string{"recruitment"},
			Zones: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}}, app.CommandMeta{})
		if err != nil {
			return nil, err
		}
		nb.refs = append(nb.refs, id)
	}
	_, tok, _, err := svc.RegisterUser(ctx, admin, app.UserInput{Name: "Conseil Banc", Email: "conseil@users.bench",
		Role: domain.RoleAdvisor, OrganisationID: org}, app.CommandMeta{})
	if err != nil {
		return nil, err
	}
	nb.advisor, err = svc.Authenticate(ctx, tok)
	return nb, err
}

func (nb *notifyBench) capture(ctx context.Context, company string) (uuid.UUID, error) {
	nb.n++
	res, err := nb.svc.CaptureNeed(ctx, nb.advisor, app.CaptureInput{SIRET: benchSIRETn(nb.n), CompanyName: company,
		Commune: "59350", Subject: "recruitment", Description: "Recruter",
		Contact: app.Contact{Name: "Contact", Email: fmt.Sprintf("contact%d@entreprise.bench", nb.n)}}, app.CommandMeta{})
	if err != nil {
		return uuid.Nil, fmt.Errorf("capture: %w", err)
	}
	return res.Need.ID, nil
}

func (nb *notifyBench) forwardAll(ctx context.Context, ids []uuid.UUID) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	next := make(chan uuid.UUID)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				if _, err := nb.svc.ForwardNeed(ctx, nb.advisor, id, nb.refs, app.CommandMeta{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// benchSIRETn is a valid SIRET (Luhn) built from n.
func benchSIRETn(n int) string {
	base := fmt.Sprintf("%013d", 5_000_000_000_000+n)
	for d := 0; d <= 9; d++ {
		s := base + fmt.Sprint(d)
		if _, err := domain.ParseSIRET(s); err == nil {
			return s
		}
	}
	return base + "0"
}

// waitMails polls Mailpit until it holds n messages.
func waitMails(ctx context.Context, c mailpit.Client, n int, timeout time.Duration) ([]mailpit.Summary, error) {
	deadline := time.Now().Add(timeout)
	for {
		got, err := c.Count()
		if err == nil && got >= n {
			return c.Messages()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bench notify: %d mails after %s, want %d (%v)", got, timeout, n, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
