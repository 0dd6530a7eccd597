package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// OutageOptions configures Outage.
type OutageOptions struct {
	Server *Server // on PostgreSQL, not started
	// StopDatabase stops the PostgreSQL server as a crash would;
	// StartDatabase starts it and returns once it accepts connections.
	StopDatabase, StartDatabase func() error
	Clients                     int // clients sending commands (default 8)
	Readers                     int // clients reading needs, from the log and the read models (default 4)
	// Load runs Before the outage, the database stays Down, and the load
	// goes on After its return (defaults 2 s, 3 s, 2 s).
	Before, Down, After time.Duration
	Seed                uint64
	Logf                func(format string, args ...any)
}

// OutageFigures is what an outage run saw.
type OutageFigures struct {
	DownMS int64 `json:"down_ms"`
	// Answers to the requests sent and answered while the database was
	// down: by status, how many of them were not problem+json, how many
	// got no HTTP answer at all, and the slowest.
	WhileDown map[int]int `json:"while_down"`
	// WhileStarting: answers while the database was starting again
	// (from the start command to its first accepted connection), by
	// status: 503 or 2xx only.
	WhileStarting      map[int]int `json:"while_starting"`
	NotProblem         int         `json:"not_problem_json"`
	NoAnswer           int         `json:"no_answer"`
	SlowestWhileDownMS int64       `json:"slowest_while_down_ms"`
	// From the command starting the database: StartMS until it accepted
	// a connection of the suite's own, FirstCommandMS until the server
	// answered a command 2xx (before StartMS: it served as soon as the
	// database did), CaughtUpMS until every projection had applied that
	// command.
	StartMS        int64 `json:"start_ms"`
	FirstCommandMS int64 `json:"first_command_ms"`
	CaughtUpMS     int64 `json:"caught_up_ms"`
	Commands       int   `json:"commands"`
	LogCheck
	Mismatches int      `json:"mismatches"`
	Problems   []string `json:"problems,omitempty"`
	Unanswered int      `json:"unanswered"`
}

// OK reports whether every answer while the database was down was a 503
// problem+json within 5 s (then 503 or 2xx while it started), the server
// answered a command within 5 s of the database accepting connections, and
// the log and read models hold what the crash suite demands.
func (f OutageFigures) OK() bool {
	for status := range f.WhileDown {
		if status != http.StatusServiceUnavailable {
			return false
		}
	}
	for status := range f.WhileStarting {
		if status != http.StatusServiceUnavailable && (status < 200 || status > 299) {
			return false
		}
	}
	return f.NotProblem == 0 && f.NoAnswer == 0 && f.SlowestWhileDownMS <= 5000 && f.FirstCommandMS-f.StartMS <= 5000 &&
		f.Lost == 0 && f.Duplicates == 0 && f.Mismatches == 0 && f.Unanswered == 0
}

// Outage runs clients against a server on PostgreSQL, stops the database
// under the load, starts it again, and checks what the server answered
// meanwhile and after. It returns an error when the server or the database
// cannot be started or a check cannot run.
func Outage(ctx context.Context, o OutageOptions) (OutageFigures, error) {
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.Readers <= 0 {
		o.Readers = 4
	}
	if o.Before <= 0 {
		o.Before = 2 * time.Second
	}
	if o.Down <= 0 {
		o.Down = 3 * time.Second
	}
	if o.After <= 0 {
		o.After = 2 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	var fig OutageFigures
	s := o.Server
	if err := s.Start(ctx, 60*time.Second); err != nil {
		return fig, err
	}
	defer s.Kill()
	f, err := startFleet(ctx, s, o.Clients, o.Seed, 60*time.Second)
	if err != nil {
		return fig, err
	}
	defer f.stop()
	f.tally.mu.Lock()
	f.tally.record = true
	f.tally.mu.Unlock()
	var readers sync.WaitGroup
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	for i := range o.Readers {
		rng := rand.New(rand.NewPCG(o.Seed, uint64(1000+i)))
		readers.Go(func() { read(readCtx, f, rng) })
	}

	if err := sleep(ctx, o.Before); err != nil {
		return fig, err
	}
	if err := o.StopDatabase(); err != nil {
		return fig, fmt.Errorf("chaos: stop the database: %w", err)
	}
	down := time.Now()
	o.Logf("database stopped")
	if err := sleep(ctx, o.Down); err != nil {
		return fig, err
	}
	upFrom := time.Now()
	if err := o.StartDatabase(); err != nil {
		return fig, fmt.Errorf("chaos: start the database: %w", err)
	}
	up := time.Now()
	fig.DownMS = upFrom.Sub(down).Milliseconds()
	o.Logf("database answers again after %s down (%s to start)", upFrom.Sub(down).Round(time.Millisecond), up.Sub(upFrom).Round(time.Millisecond))
	first, err := f.firstCommandAfter(ctx, upFrom, 30*time.Second)
	if err != nil {
		return fig, err
	}
	fig.StartMS = up.Sub(upFrom).Milliseconds()
	fig.FirstCommandMS = first.start.Add(first.took).Sub(upFrom).Milliseconds()
	// The projections resume: they reach the first command served after
	// the return.
	if err := waitProjections(ctx, f.api, s.AdminToken, first.header.Get("Reso-Position"), 60*time.Second); err != nil {
		return fig, err
	}
	fig.CaughtUpMS = time.Since(upFrom).Milliseconds()
	if err := sleep(ctx, o.After); err != nil {
		return fig, err
	}
	stopReading()
	readers.Wait()
	f.stop()

	f.tally.mu.Lock()
	answers := f.tally.answers
	f.tally.mu.Unlock()
	fig.WhileDown, fig.WhileStarting = map[int]int{}, map[int]int{}
	for _, a := range answers {
		end := a.start.Add(a.took)
		if !a.start.Before(upFrom) && end.Before(up) {
			fig.WhileStarting[a.status]++
			if a.status == http.StatusServiceUnavailable && !a.problem() {
				fig.NotProblem++
			}
		}
		if !a.start.Before(down) && end.Before(upFrom) {
			fig.WhileDown[a.status]++
			switch {
			case a.status == 0:
				fig.NoAnswer++
			case !a.problem():
				fig.NotProblem++
			}
			fig.SlowestWhileDownMS = max(fig.SlowestWhileDownMS, a.took.Milliseconds())
		}
	}
	lc, problems, err := f.check(ctx, s)
	if err != nil {
		return fig, err
	}
	fig.LogCheck, fig.Mismatches, fig.Problems = lc, len(problems), problems
	for _, c := range f.tally.commands() {
		fig.Commands++
		if !c.acked && c.refused == 0 {
			fig.Unanswered++
		}
	}
	return fig, s.Stop(15 * time.Second)
}

// firstCommandAfter waits for the first command answered 2xx after t, at
// most timeout, and returns its answer.
func (f *fleet) firstCommandAfter(ctx context.Context, t time.Time, timeout time.Duration) (answer, error) {
	deadline := time.Now().Add(timeout)
	for {
		f.tally.mu.Lock()
		var first answer
		for _, a := range f.tally.answers {
			end := a.start.Add(a.took)
			if a.command && a.status >= 200 && a.status < 300 && end.After(t) && (first.status == 0 || end.Before(first.start.Add(first.took))) {
				first = a
			}
		}
		f.tally.mu.Unlock()
		if first.status != 0 {
			return first, nil
		}
		if time.Now().After(deadline) {
			return answer{}, fmt.Errorf("chaos: no command served within %s of the database's return", timeout)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return answer{}, err
		}
	}
}

// read reads needs the fleet's clients captured, from their streams and
// from the read models, until ctx ends.
func read(ctx context.Context, f *fleet, rng *rand.Rand) {
	for ctx.Err() == nil {
		var id string
		for _, need := range f.tally.capturedNeeds() {
			if rng.IntN(4) == 0 {
				id = need
				break
			}
		}
		path := "/api/needs?limit=5"
		if id != "" && rng.IntN(2) == 0 {
			path = "/api/needs/" + id
		}
		a := f.api.do(ctx, http.MethodGet, path, f.net.admin, "", nil)
		if ctx.Err() != nil {
			return
		}
		f.tally.saw(a)
		_ = sleep(ctx, time.Duration(10+rng.IntN(40))*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
