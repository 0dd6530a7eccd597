// Package server wires Réso together: storage (backend), projection
// workers, the notifier, the application service and the HTTP API, with
// demo seeding, readiness and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/console"
	"github.com/reso-fr/reso/internal/demo"
	"github.com/reso-fr/reso/internal/httpapi"
	"github.com/reso-fr/reso/internal/idempotency"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/mail"
	"github.com/reso-fr/reso/internal/notify"
	"github.com/reso-fr/reso/internal/ratelimit"
	"github.com/reso-fr/reso/internal/websession"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/readmodels"
)

// Config is the server's configuration; cmd/reso fills it from flags and
// environment.
type Config struct {
	Addr          string // listen address, default ":8080"
	DataDir       string // embedded SQLite directory (and demo tokens file)
	DatabaseURL   string // postgres:// for log and read models
	EventStoreURL string // kurrentdb:// for the log
	// AdminToken, when set, is an admin's token from the start (RESO_ADMIN_TOKEN).
	AdminToken string
	// MasterKeys wrap the contact keys (RESO_MASTER_KEY or
	// --master-key-file, then a previous key during a rotation). Without
	// one, a demo uses DataDir's master.key, generating it the first time;
	// anything else refuses to start.
	MasterKeys []*keys.Master
	// Demo seeds a demo network into an empty store.
	Demo        bool
	DemoOptions demo.Options
	// Notify, when set, runs the notifier: mails to referents, advisors
	// and companies (nil: no mail at all).
	Notify *NotifyConfig
	Logger *slog.Logger // default: JSON to stderr
	// ShutdownTimeout bounds the graceful stop (default 15 s).
	ShutdownTimeout time.Duration
	// Limits bound each client address's and each principal's request
	// rate; zero limits are ratelimit's defaults.
	Limits Limits
	// Timeouts of the HTTP server; zero fields take the defaults.
	Timeouts Timeouts
	// TokenTTL is how long new API tokens live (default 90 days).
	TokenTTL time.Duration
	// Out, when set, is told the console's address once the server
	// listens (reso serve prints it).
	Out io.Writer
	// BaseURL is the console's public address (links in mails); "": each
	// request's host.
	BaseURL string
}

// Limits are the request rates a server allows. A zero Limit is the
// default one; a negative rate means no limit.
type Limits struct {
	PerAddress, PerPrincipal ratelimit.Limit
	// Off turns rate limiting off (benchmarks, load tests).
	Off bool
}

// Timeouts bound how long a connection may take. A client that sends its
// headers one byte a second is cut at ReadHeader; one that holds an idle
// connection, at Idle.
type Timeouts struct {
	ReadHeader time.Duration // default 10 s
	Read       time.Duration // whole request, body included; default 30 s
	Write      time.Duration // the answer; default 60 s (a large export)
	Idle       time.Duration // keep-alive between requests; default 120 s
}

func (t *Timeouts) defaults() {
	for _, f := range []struct {
		d   *time.Duration
		def time.Duration
	}{{&t.ReadHeader, 10 * time.Second}, {&t.Read, 30 * time.Second}, {&t.Write, 60 * time.Second}, {&t.Idle, 120 * time.Second}} {
		if *f.d <= 0 {
			*f.d = f.def
		}
	}
}

// guard builds the limiters of l.
func (l Limits) guard() *ratelimit.Guard {
	if l.Off {
		return nil
	}
	pick := func(l, def ratelimit.Limit) ratelimit.Limit {
		switch {
		case l == (ratelimit.Limit{}):
			return def
		case l.Rate < 0:
			return ratelimit.Limit{}
		}
		return l
	}
	return ratelimit.NewGuard(pick(l.PerAddress, ratelimit.DefaultPerAddress), pick(l.PerPrincipal, ratelimit.DefaultPerPrincipal))
}

// NotifyConfig configures the notifier's mail.
type NotifyConfig struct {
	// SMTPURL is smtp://[user:pass@]host:port (see mail.ParseSMTPURL);
	// empty writes each mail as an .eml file to OutboxDir.
	SMTPURL string
	// OutboxDir is where mails go without SMTPURL (default
	// DataDir/outbox).
	OutboxDir string
	// MailFrom is the sender, "Name <address>" (default Réso
	// <ne-pas-repondre@localhost>).
	MailFrom string
	// BaseURL is the console's address in links (default Config.BaseURL,
	// else http://localhost and the port of Config.Addr).
	BaseURL string
	// Notifier tunes the notifier (clock, intervals, retries); the server
	// fills in its storage, keys, read models, sender and addresses.
	Notifier notify.Config
	// SMTP, when set, adjusts the SMTP configuration parsed from SMTPURL
	// (tests trust their server's certificate with it).
	SMTP func(*mail.SMTPConfig)
}

// Server is a running Réso. Create it with New, run it with Start or Serve.
type Server struct {
	cfg      Config
	log      *slog.Logger
	backend  *backend.Backend
	service  *app.Service
	notifier *notify.Notifier
	handler  http.Handler
	sessions *websession.Store
	registry *prometheus.Registry
	demo     demo.Result
	// background bounds the work requests start and leave running
	// (rebuilds); Shutdown ends it.
	background     context.Context
	stopBackground context.CancelFunc

	mu       sync.Mutex
	http     *http.Server
	addr     string
	started  chan struct{}
	stopProj context.CancelFunc
	projDone chan struct{}
	running  atomic.Bool

	demoMu   sync.Mutex
	demoList []demo.Token

	shutdownOnce sync.Once
	shutdownErr  error
	done         chan struct{}
}

// New opens the storage (running migrations), makes RESO_ADMIN_TOKEN's
// admin exist, seeds the demo when asked, and builds the HTTP handler. It
// does not listen yet. It returns the storage's or the seeding's error.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	cfg.Timeouts.defaults()
	s := &Server{cfg: cfg, log: cfg.Logger, started: make(chan struct{}), done: make(chan struct{})}
	s.background, s.stopBackground = context.WithCancel(context.WithoutCancel(ctx))
	masters, err := s.masterKeys()
	if err != nil {
		return nil, err
	}
	b, err := backend.Open(ctx, backend.Config{
		DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL, EventStoreURL: cfg.EventStoreURL,
		Projections: readmodels.Options{Logger: cfg.Logger}, Logger: cfg.Logger, Masters: masters,
	})
	if err != nil {
		return nil, err
	}
	s.backend = b
	s.log.Info("storage open", "kind", b.Kind, "path", b.Path)
	b.WatchKeyErasures(cfg.Logger)
	b.Auth.UseTokenTTL(cfg.TokenTTL)
	s.service, err = app.New(app.Config{
		Store: b.Events, Keys: b.Keys, Auth: b.Auth, ReadModels: b.Projections, Logger: cfg.Logger, Unavailable: postgres.IsUnavailable,
		Background: s.background,
	})
	if err != nil {
		b.Close()
		return nil, err
	}
	if cfg.Notify != nil {
		var outbox *mail.Outbox
		if s.notifier, outbox, err = newNotifier(ctx, cfg, b); err != nil {
			b.Close()
			return nil, err
		}
		s.service.UseNotifications(s.notifier)
		if outbox != nil {
			s.service.UseOutbox(outboxReader{outbox})
		}
	}
	if cfg.Demo {
		opts := cfg.DemoOptions
		if opts.Out == nil {
			opts.Out = os.Stdout
		}
		s.demo, err = demo.Run(ctx, b, s.service, cfg.DataDir, opts)
		if err != nil {
			s.closeStorage()
			return nil, fmt.Errorf("demo: %w", err)
		}
		if s.demo.Seeded {
			s.log.Info("demo seeded", "events", s.demo.Events, "needs", s.demo.Needs, "seconds", s.demo.Duration.Seconds())
			// The demo's past happened to nobody: no mail for it.
			if s.notifier != nil {
				if err := s.notifier.SkipTo(ctx, s.demo.Last); err != nil {
					s.closeStorage()
					return nil, err
				}
			}
		}
	}
	if cfg.AdminToken != "" {
		id, err := b.Auth.EnsureAdmin(ctx, cfg.AdminToken)
		if err != nil {
			s.closeStorage()
			return nil, fmt.Errorf("admin from RESO_ADMIN_TOKEN: %w", err)
		}
		s.log.Info("admin token ready", "user_id", id)
	}
	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.registry.MustRegister(s.service.Collectors()...)
	s.registry.MustRegister(&lagCollector{engine: b.Projections})
	if s.notifier != nil {
		s.registry.MustRegister(s.notifier.Collectors()...)
	}
	// One guard for both doors: a caller's requests count once.
	guard := cfg.Limits.guard()
	api := httpapi.New(httpapi.Deps{
		Service: s.service, Idempotency: b.Idempotency,
		Logger: cfg.Logger, Registry: s.registry, Ready: s.Ready, Guard: guard, Background: s.background,
	})
	s.sessions, err = websession.New(ctx, b.DB, websession.Options{})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("console sessions: %w", err)
	}
	deps := console.Deps{Service: s.service, Sessions: s.sessions, Logger: cfg.Logger, BaseURL: cfg.BaseURL, Guard: guard}
	if cfg.Demo {
		deps.DemoUsers = s.demoUsers
	}
	if s.notifier != nil {
		deps.SendLink = s.notifier.SendSignInLink
	}
	s.handler = mount(api, console.New(deps))
	if cfg.Demo {
		mux := http.NewServeMux()
		mux.HandleFunc("/demo/tokens.txt", s.serveDemoTokens)
		mux.Handle("/", s.handler)
		s.handler = mux
	}
	return s, nil
}

// demoMasterFile is where a demo keeps its master key, in its data
// directory: a demo's data is made up, and one command must start it.
const demoMasterFile = "master.key"

// masterKeys returns the configured master keys or, for a demo without
// any, the data directory's (generated the first time, and said so). It
// returns keys.ErrNoMasterKey otherwise.
func (s *Server) masterKeys() ([]*keys.Master, error) {
	if len(s.cfg.MasterKeys) > 0 {
		return s.cfg.MasterKeys, nil
	}
	if !s.cfg.Demo || s.cfg.DataDir == "" {
		return nil, keys.ErrNoMasterKey
	}
	path := filepath.Join(s.cfg.DataDir, demoMasterFile)
	m, err := keys.LoadMasterFile(path)
	if err == nil {
		return []*keys.Master{m}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if m, err = keys.GenerateMasterFile(path); err != nil {
		return nil, err
	}
	s.log.Warn("demo: generated a master key for the contact keys; keep it with the data, it alone opens the contacts",
		"file", path, "mode", "0600", "master_key_id", m.ID())
	return []*keys.Master{m}, nil
}

// mount serves the API under /api and the operators' endpoints, and the
// console everywhere else.
func mount(api, web http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", web)
	return mux
}

// demoTokens returns the demo's users with their tokens, read once from
// the saved tokens (only the tokens this store knows).
func (s *Server) demoTokens(ctx context.Context) ([]demo.Token, error) {
	s.demoMu.Lock()
	defer s.demoMu.Unlock()
	if s.demoList != nil {
		return s.demoList, nil
	}
	toks := s.demo.Tokens
	if len(toks) == 0 {
		var err error
		if toks, err = demo.Users(ctx, s.service, s.cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if len(toks) > 0 {
		s.demoList = toks
	}
	return toks, nil
}

// demoUsers lists the demo's users for the console's sign-in page.
func (s *Server) demoUsers(ctx context.Context) ([]console.DemoUser, error) {
	toks, err := s.demoTokens(ctx)
	if err != nil {
		return nil, err
	}
	list := make([]console.DemoUser, 0, len(toks))
	for _, t := range toks {
		list = append(list, console.DemoUser{UserID: t.UserID, Name: t.Name, Role: t.Role})
	}
	return list, nil
}

// serveDemoTokens answers GET /demo/tokens.txt on a demo server: one line
// per role, "role<TAB>name<TAB>token", as in the saved file, so that the
// README's lines find the tokens from any directory. It gives away nothing
// the demo's sign-in page does not: there, one button per role signs in.
func (s *Server) serveDemoTokens(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	toks, err := s.demoTokens(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "demo tokens", "err", err)
		http.Error(w, "demo tokens unavailable", http.StatusServiceUnavailable)
		return
	}
	var b strings.Builder
	for _, t := range toks {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", t.Role, t.Name, t.Token)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, b.String())
}

// Sessions is the console's session store.
func (s *Server) Sessions() *websession.Store { return s.sessions }

// newNotifier builds the notifier on the backend's storage: River and its
// tables in PostgreSQL, or in notify.db beside the SQLite store; and the
// outbox it writes to, without a mail server (nil with one).
func newNotifier(ctx context.Context, cfg Config, b *backend.Backend) (*notify.Notifier, *mail.Outbox, error) {
	nc := cfg.Notify
	var sender mail.Sender
	var outbox *mail.Outbox
	if nc.SMTPURL != "" {
		sc, err := mail.ParseSMTPURL(nc.SMTPURL)
		if err != nil {
			return nil, nil, err
		}
		if sc.MaxIdle == 0 {
			// Every worker keeps its connection between mails.
			sc.MaxIdle = max(nc.Notifier.Workers, 8)
		}
		if nc.SMTP != nil {
			nc.SMTP(&sc)
		}
		if sender, err = mail.NewSMTP(sc); err != nil {
			return nil, nil, err
		}
	} else {
		dir := nc.OutboxDir
		if dir == "" {
			dir = filepath.Join(cfg.DataDir, "outbox")
		}
		o, err := mail.NewOutbox(dir)
		if err != nil {
			return nil, nil, err
		}
		sender, outbox = o, o
	}
	n := nc.Notifier
	base := nc.BaseURL
	if base == "" {
		base = cfg.BaseURL
	}
	if base == "" {
		_, port, _ := net.SplitHostPort(cfg.Addr)
		base = "http://localhost:" + port
	}
	n.Store, n.Keys, n.ReadModels, n.Sender, n.BaseURL = b.Events, b.Keys, b.Projections, sender, strings.TrimRight(base, "/")
	if n.Logger == nil {
		n.Logger = cfg.Logger
	}
	if nc.MailFrom != "" {
		from, err := mail.ParseAddress(nc.MailFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("mail from: %w", err)
		}
		n.From = from
	}
	if p := b.Pool(); p != nil {
		n.Postgres = p
	} else {
		n.SQLitePath = notify.SQLitePath(cfg.DataDir)
	}
	notifier, err := notify.New(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	return notifier, outbox, nil
}

// closeStorage closes what New opened, on a failed New.
func (s *Server) closeStorage() {
	if s.notifier != nil {
		_ = s.notifier.Stop(context.Background())
	}
	s.backend.Close()
}

// Notifier is the notifier (nil when Config.Notify was nil).
func (s *Server) Notifier() *notify.Notifier { return s.notifier }

// Handler is the HTTP API and the console.
func (s *Server) Handler() http.Handler { return s.handler }

// Service is the application service.
func (s *Server) Service() *app.Service { return s.service }

// Backend is the opened storage.
func (s *Server) Backend() *backend.Backend { return s.backend }

// Demo says what demo seeding did (zero when not asked).
func (s *Server) Demo() demo.Result { return s.demo }

// Addr is the address the server listens on, once started ("" before).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Started is closed once the server listens.
func (s *Server) Started() <-chan struct{} { return s.started }

// Ready reports whether the server can serve: the log answers and the
// projection workers run. It returns the reason when not.
func (s *Server) Ready(ctx context.Context) error {
	if err := s.backend.Ready(ctx); err != nil {
		return err
	}
	if !s.running.Load() {
		return errors.New("projections not running")
	}
	st, err := s.backend.Projections.Status(ctx)
	if err != nil {
		return fmt.Errorf("projections status: %w", err)
	}
	for _, p := range st {
		if p.State == projections.StateFailed {
			return fmt.Errorf("projection %s failed: %s", p.Name, p.LastError)
		}
	}
	return nil
}

// Start listens on the configured address and serves until ctx ends or
// Shutdown is called, then stops gracefully. It returns the listen error or
// the shutdown's error.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		s.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve runs the projection workers and serves HTTP on ln until ctx ends or
// Shutdown is called; it then stops gracefully (HTTP first, then
// projections, then storage) and returns the shutdown's error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	projCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.stopProj = stop
	s.projDone = make(chan struct{})
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.Timeouts.ReadHeader,
		ReadTimeout:       s.cfg.Timeouts.Read,
		WriteTimeout:      s.cfg.Timeouts.Write,
		IdleTimeout:       s.cfg.Timeouts.Idle,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	srv, projDone := s.http, s.projDone
	s.mu.Unlock()

	if s.notifier != nil {
		if err := s.notifier.Start(projCtx); err != nil {
			stop()
			s.Shutdown(context.Background())
			return err
		}
	}
	s.running.Store(true)
	go func() {
		defer close(projDone)
		defer s.running.Store(false)
		if err := s.backend.Projections.Run(projCtx); err != nil {
			s.log.Error("projections stopped", "err", err)
		}
	}()
	go s.purgeExpired(projCtx)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	close(s.started)
	s.log.Info("listening", "addr", s.addr)
	if s.cfg.Out != nil {
		fmt.Fprintf(s.cfg.Out, "Console: %s/\n", consoleURL(s.addr))
	}

	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		return s.Shutdown(sctx)
	case err := <-serveErr:
		if errors.Is(err, http.ErrServerClosed) {
			<-s.done // Shutdown was called: wait until it has finished
			return s.shutdownErr
		}
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		s.Shutdown(sctx)
		return fmt.Errorf("serve: %w", err)
	}
}

// Shutdown stops the server gracefully: in-flight requests finish (until ctx
// ends), then the projection workers stop, then the storage closes. It is
// safe to call more than once, and on a server that never served.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		defer close(s.done)
		s.mu.Lock()
		srv, stop, projDone := s.http, s.stopProj, s.projDone
		s.mu.Unlock()
		var errs []error
		if srv != nil {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			}
		}
		s.stopBackground()
		if stop != nil {
			stop()
			select {
			case <-projDone:
			case <-ctx.Done():
				errs = append(errs, fmt.Errorf("projections stop: %w", ctx.Err()))
			}
		}
		if s.notifier != nil {
			if err := s.notifier.Stop(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if err := s.backend.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close storage: %w", err))
		}
		s.shutdownErr = errors.Join(errs...)
		s.log.Info("stopped", "err", s.shutdownErr)
	})
	return s.shutdownErr
}

// consoleURL is the address a browser opens for a server listening on
// addr: a wildcard host reads as localhost.
func consoleURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// purgeExpired deletes, at start and then every hour until ctx ends, what
// no longer needs keeping: the console's form keys older than a day, its
// links and sessions ended a day ago, and the API's Idempotency-Key
// responses older than idempotency.TTL.
func (s *Server) purgeExpired(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		if err := s.sessions.Purge(ctx, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			s.log.Warn("purge console sessions", "err", err)
		}
		if n, err := s.backend.Idempotency.Purge(ctx, now.Add(-idempotency.TTL)); err != nil && ctx.Err() == nil {
			s.log.Warn("purge idempotency keys", "err", err)
		} else if n > 0 {
			s.log.Info("purged idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
