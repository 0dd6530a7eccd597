package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
)

// HTTPClientEnv, set to "1" in a child's environment, makes reso-bench
// run one phase of `reso-bench http`'s load (HTTPClientFromEnv) instead of
// a command. The load then runs in a process of its own, so that the
// bench process's CPU time is the server's alone: on a 2-core machine the
// client's share is large and moves with the request mix.
const HTTPClientEnv = "RESO_BENCH_HTTP_CLIENT"

// clientJob is one phase to run, as the parent sends it to the child.
type clientJob struct {
	Phase           string        `json:"phase"` // commands, get_need or stats
	Base            string        `json:"base"`
	AdminToken      string        `json:"admin_token"`
	Dir             jsonDirectory `json:"directory"`
	IDs             [][]string    `json:"ids,omitempty"`
	Clients         int           `json:"clients"`
	Duration        time.Duration `json:"duration"`
	IdempotencyKeys bool          `json:"idempotency_keys"`
}

// clientResult is what a phase measured.
type clientResult struct {
	Phase     HTTPPhase  `json:"phase"`
	IDs       [][]string `json:"ids,omitempty"`
	StatsRows int        `json:"stats_rows,omitempty"`
}

// jsonDirectory carries an httpDirectory to the child.
type jsonDirectory struct {
	Subject        string      `json:"subject"`
	Orgs           []uuid.UUID `json:"orgs"`
	Referents      []uuid.UUID `json:"referents"`
	ReferentOrg    []uuid.UUID `json:"referent_org"`
	ReferentTokens []string    `json:"referent_tokens"`
	Advisors       []uuid.UUID `json:"advisors"`
	AdvisorTokens  []string    `json:"advisor_tokens"`
}

func (d *httpDirectory) toJSON() jsonDirectory {
	return jsonDirectory{d.subject, d.orgs, d.referents, d.referentOrg, d.referentTokens, d.advisors, d.advisorTokens}
}

func (j jsonDirectory) directory() *httpDirectory {
	return &httpDirectory{j.Subject, j.Orgs, j.Referents, j.ReferentOrg, j.ReferentTokens, j.Advisors, j.AdvisorTokens}
}

// newLoadClient is the keep-alive HTTP client of a phase's workers.
func newLoadClient(clients int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, IdleConnTimeout: time.Minute,
	}}
}

// runJob runs one phase in this process.
func runJob(ctx context.Context, hc *http.Client, job clientJob) (clientResult, error) {
	api := apiClient{base: job.Base, hc: hc}
	d := job.Dir.directory()
	switch job.Phase {
	case "commands":
		ph, ids := runCommands(ctx, api, d, job.Clients, job.Duration, job.IdempotencyKeys)
		return clientResult{Phase: ph, IDs: ids.per}, nil
	case "get_need":
		ids := &needIDs{per: job.IDs}
		return clientResult{Phase: runGets(ctx, api, d, ids, job.Clients, job.Duration)}, nil
	case "stats":
		ph, rows := runStats(ctx, api.as(job.AdminToken), job.Clients, job.Duration)
		return clientResult{Phase: ph, StatsRows: rows}, nil
	}
	return clientResult{}, fmt.Errorf("bench http: unknown phase %q", job.Phase)
}

// runChild runs one phase in a child process started with command; the
// child's stderr goes to progress.
func runChild(ctx context.Context, command []string, job clientJob, progress io.Writer) (clientResult, error) {
	in, err := json.Marshal(job)
	if err != nil {
		return clientResult{}, err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Env = append(os.Environ(), HTTPClientEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, progress
	if err := cmd.Run(); err != nil {
		return clientResult{}, fmt.Errorf("bench http: load process for %s: %w", job.Phase, err)
	}
	var res clientResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return clientResult{}, fmt.Errorf("bench http: load process for %s: %w", job.Phase, err)
	}
	return res, nil
}

// HTTPClientFromEnv runs the phase the parent wrote on stdin and writes
// what it measured on stdout (the child's side of runChild). It returns
// the exit status.
func HTTPClientFromEnv(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
	var job clientJob
	if err := json.NewDecoder(stdin).Decode(&job); err != nil {
		fmt.Fprintln(stderr, "bench http client: read job:", err)
		return 1
	}
	// The load shares the server's cores: its collector, on a heap of a
	// few megabytes, would otherwise run a hundred times a second.
	debug.SetGCPercent(800)
	before := processCPU()
	res, err := runJob(ctx, newLoadClient(job.Clients), job)
	if n := res.Phase.Requests; n > 0 {
		res.Phase.ClientCPUMs = Round(float64(processCPU()-before)/float64(time.Millisecond)/float64(n), 3)
	}
	if err == nil {
		err = json.NewEncoder(stdout).Encode(res)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench http client:", err)
		return 1
	}
	return 0
}
