package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// CrashOptions configures Crash.
type CrashOptions struct {
	Server  *Server // not started; Crash starts, kills and finally stops it
	Clients int     // concurrent clients (default 32)
	Kills   int     // SIGKILLs (default 10)
	// Each kill comes a random time in [MinUp, MaxUp] after the server
	// was ready (default 300 ms to 1.5 s).
	MinUp, MaxUp time.Duration
	// CommandTimeout bounds how long a client repeats one command without
	// an answer (default 60 s).
	CommandTimeout time.Duration
	Seed           uint64
	// Logf, when set, reports each cycle.
	Logf func(format string, args ...any)
}

func (o *CrashOptions) defaults() {
	if o.Clients <= 0 {
		o.Clients = 32
	}
	if o.Kills <= 0 {
		o.Kills = 10
	}
	if o.MinUp <= 0 {
		o.MinUp = 300 * time.Millisecond
	}
	if o.MaxUp < o.MinUp {
		o.MaxUp = max(o.MinUp, 1500*time.Millisecond)
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 60 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Figures is what a crash run found. The last four must be zero.
type Figures struct {
	Kills int `json:"kills"`
	// Commands sent, and of those answered 2xx; AfterRetry were answered
	// only after an attempt without an answer (cut by a kill).
	Commands     int `json:"commands"`
	Acknowledged int `json:"acknowledged"`
	AfterRetry   int `json:"acknowledged_after_retry"`
	Found        int `json:"found_exactly_once"`
	Events       int `json:"events"`
	// Refused: a 4xx ended the command; ServerErrors: 5xx answers seen.
	Refused      int         `json:"refused"`
	ServerErrors map[int]int `json:"server_errors,omitempty"`
	// RestartMaxMS and RestartMedianMS: from the kill to /readyz
	// answering, in milliseconds.
	RestartMaxMS    int64 `json:"restart_max_ms"`
	RestartMedianMS int64 `json:"restart_median_ms"`
	Lost            int   `json:"lost"`
	Duplicates      int   `json:"duplicates"`
	// Mismatches counts the read-model problems verify found, over all
	// checks; Unanswered the commands still without an answer at their
	// timeout.
	Mismatches int      `json:"mismatches"`
	Problems   []string `json:"problems,omitempty"`
	Unanswered int      `json:"unanswered"`
}

// OK reports whether nothing was lost, duplicated or mismatched, and every
// command got an answer.
func (f Figures) OK() bool {
	return f.Lost == 0 && f.Duplicates == 0 && f.Mismatches == 0 && f.Unanswered == 0
}

// fleet is the clients of a run.
type fleet struct {
	api     *api
	net     *network
	tally   *tally
	gate    sync.RWMutex
	stopped atomic.Bool
	running sync.WaitGroup
}

// startFleet builds the network and starts n clients.
func startFleet(ctx context.Context, s *Server, n int, seed uint64, timeout time.Duration) (*fleet, error) {
	f := &fleet{api: newAPI(s.URL), tally: &tally{}}
	var err error
	if f.net, err = setup(ctx, f.api, s.AdminToken, n); err != nil {
		return nil, err
	}
	for i := range n {
		c := &client{api: f.api, net: f.net, advisor: f.net.advisors[i], rng: rand.New(rand.NewPCG(seed, uint64(i))),
			tally: f.tally, gate: &f.gate, timeout: timeout, id: i}
		f.running.Go(func() { c.run(ctx, &f.stopped) })
	}
	return f, nil
}

// stop stops the clients once their commands have ended.
func (f *fleet) stop() {
	f.stopped.Store(true)
	f.running.Wait()
}

// Crash runs the crash suite (see the package comment) and returns its
// figures. It returns an error when the server cannot start or a check
// cannot run; what the checks find is in the Figures.
func Crash(ctx context.Context, o CrashOptions) (Figures, error) {
	o.defaults()
	var fig Figures
	s := o.Server
	if err := s.Start(ctx, 60*time.Second); err != nil {
		return fig, err
	}
	defer s.Kill()
	f, err := startFleet(ctx, s, o.Clients, o.Seed, o.CommandTimeout)
	if err != nil {
		return fig, err
	}
	defer f.stop()
	rng := rand.New(rand.NewPCG(o.Seed, 1<<32))
	var restarts []time.Duration
	for k := 1; k <= o.Kills; k++ {
		up := o.MinUp + time.Duration(rng.Int64N(int64(o.MaxUp-o.MinUp)+1))
		select {
		case <-ctx.Done():
			return fig, ctx.Err()
		case <-time.After(up):
		}
		killed := time.Now()
		if err := s.Kill(); err != nil {
			return fig, err
		}
		fig.Kills++
		if err := s.Start(ctx, 60*time.Second); err != nil {
			return fig, fmt.Errorf("restart %d: %w", k, err)
		}
		restarts = append(restarts, time.Since(killed))
		// The clients finish what they were repeating, then wait.
		f.gate.Lock()
		lc, problems, err := f.check(ctx, s)
		f.gate.Unlock()
		if err != nil {
			return fig, fmt.Errorf("check after kill %d: %w", k, err)
		}
		fig.Mismatches += len(problems)
		for _, p := range problems {
			fig.Problems = append(fig.Problems, fmt.Sprintf("after kill %d: %s", k, p))
		}
		fig.Lost, fig.Duplicates = lc.Lost, lc.Duplicates
		o.Logf("kill %d after %s: restart %s; %d acknowledged, %d found once, %d lost, %d duplicates, %d read-model problems; %d events",
			k, up.Round(time.Millisecond), restarts[len(restarts)-1].Round(time.Millisecond), lc.Acknowledged, lc.Found, lc.Lost, lc.Duplicates, len(problems), lc.Events)
	}
	f.stop()
	lc, problems, err := f.check(ctx, s)
	if err != nil {
		return fig, err
	}
	fig.Mismatches += len(problems)
	fig.Problems = append(fig.Problems, problems...)
	fig.Lost, fig.Duplicates, fig.Found, fig.Acknowledged, fig.Events = lc.Lost, lc.Duplicates, lc.Found, lc.Acknowledged, lc.Events
	for _, c := range f.tally.commands() {
		fig.Commands++
		switch {
		case c.acked && c.cut:
			fig.AfterRetry++
		case c.refused != 0:
			fig.Refused++
		case !c.acked:
			fig.Unanswered++
		}
	}
	fig.ServerErrors = f.tally.serverErrors
	slices.Sort(restarts)
	if len(restarts) > 0 {
		fig.RestartMaxMS, fig.RestartMedianMS = restarts[len(restarts)-1].Milliseconds(), restarts[len(restarts)/2].Milliseconds()
	}
	return fig, s.Stop(15 * time.Second)
}

// check checks the log and the read models, the clients paused.
func (f *fleet) check(ctx context.Context, s *Server) (LogCheck, []string, error) {
	events, err := readLog(ctx, f.api, s.AdminToken)
	if err != nil {
		return LogCheck{}, nil, err
	}
	lc := checkLog(f.tally.commands(), events)
	problems, err := checkReadModels(ctx, s)
	return lc, problems, err
}
