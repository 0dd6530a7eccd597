package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// needIDs are the needs each client captured in the command phase (an
// advisor reads only their own).
type needIDs struct {
	mu  sync.Mutex
	per [][]string
}

func (n *needIDs) add(client int, id string) {
	n.mu.Lock()
	n.per[client] = append(n.per[client], id)
	n.mu.Unlock()
}

func (n *needIDs) len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	for _, p := range n.per {
		k += len(p)
	}
	return k
}

// phaseRun runs one worker per client until d elapses and summarises their
// latencies. Each worker returns false when it cannot go on.
func phaseRun(ctx context.Context, clients int, d time.Duration, work func(ctx context.Context, client int, rec *Recorder, errs *atomic.Int64) bool) HTTPPhase {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	recs := make([]*Recorder, clients)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		recs[i] = &Recorder{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && work(ctx, i, recs[i], &errs) {
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	lat := Merge(recs...)
	return HTTPPhase{Requests: int64(lat.Count), Errors: errs.Load(), Seconds: Round(secs, 2),
		PerSec: Round(float64(lat.Count)/secs, 1), Latency: lat}
}

// timed sends one request and records its latency when it succeeded with
// want; a request cut by the phase's end is not counted at all.
func timed(ctx context.Context, c apiClient, rec *Recorder, errs *atomic.Int64, want int, method, path string, body any, hdr ...string) ([]byte, bool) {
	start := time.Now()
	status, b, err := c.call(ctx, method, path, body, hdr...)
	if ctx.Err() != nil {
		return nil, false
	}
	if err != nil || status != want {
		errs.Add(1)
		return nil, false
	}
	rec.Add(time.Since(start))
	return b, true
}

// runCommands has every client live needs through the API: capture,
// forward, take charge, comment, close; five commands per need.
func runCommands(ctx context.Context, api apiClient, d *httpDirectory, clients int, dur time.Duration, keys bool) (HTTPPhase, *needIDs) {
	ids := &needIDs{per: make([][]string, clients)}
	var seq atomic.Int64
	phase := phaseRun(ctx, clients, dur, func(ctx context.Context, i int, rec *Recorder, errs *atomic.Int64) bool {
		adv, ref := api.as(d.advisorTokens[i]), api.as(d.referentTokens[i])
		n := seq.Add(1)
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		step := 0
		key := func() []string {
			step++
			if !keys {
				return nil
			}
			return []string{"Idempotency-Key", fmt.Sprintf("bench-%d-%d", n, step)}
		}
		body, ok := timed(ctx, adv, rec, errs, http.StatusCreated, "POST", "/api/needs", map[string]any{
			"siret": benchSIRET(rng), "company_name": fmt.Sprintf("Client %d", n), "commune": "59350",
			"subject": d.subject, "description": "mesure",
			"contact": map[string]string{"name": fmt.Sprintf("Contact %d", n), "email": fmt.Sprintf("c%d@bench.test", n), "phone": "0600000000"},
		}, key()...)
		if !ok {
			return ctx.Err() == nil
		}
		var need struct {
			ID uuid.UUID `json:"id"`
		}
		if json.Unmarshal(body, &need) != nil {
			errs.Add(1)
			return true
		}
		ids.add(i, need.ID.String())
		path := "/api/needs/" + need.ID.String()
		steps := []struct {
			c    apiClient
			path string
			body any
		}{
			{adv, path + "/forward", map[string]any{"referent_ids": []uuid.UUID{d.referents[i]}}},
			{ref, path + "/matches/" + d.referents[i].String(), map[string]any{"action": "take_charge"}},
			{adv, path + "/comments", map[string]any{"text": "point d'étape"}},
			{ref, path + "/matches/" + d.referents[i].String(), map[string]any{"action": "done", "comment": "aide proposée"}},
		}
		for _, s := range steps {
			if _, ok := timed(ctx, s.c, rec, errs, http.StatusOK, "POST", s.path, s.body, key()...); !ok {
				break
			}
		}
		return true
	})
	return phase, ids
}

// runGets reads random needs of each client's advisor.
func runGets(ctx context.Context, api apiClient, d *httpDirectory, ids *needIDs, clients int, dur time.Duration) HTTPPhase {
	return phaseRun(ctx, clients, dur, func(ctx context.Context, i int, rec *Recorder, errs *atomic.Int64) bool {
		mine := ids.per[i]
		if len(mine) == 0 {
			return false
		}
		id := mine[rand.IntN(len(mine))]
		timed(ctx, api.as(d.advisorTokens[i]), rec, errs, http.StatusOK, "GET", "/api/needs/"+id, nil)
		return true
	})
}

// statsQueries are what funders ask.
var statsQueries = []string{
	"/api/stats",
	"/api/stats?group_by=month",
	"/api/stats?group_by=region",
	"/api/stats?group_by=departement,subject",
	"/api/stats?group_by=month,departement&from=2025-06&to=2026-05",
	"/api/stats?group_by=organisation",
	"/api/stats?group_by=subject&departement=59",
	"/api/stats?group_by=month,subject",
}

// runStats asks the statistics over the whole seeded history.
func runStats(ctx context.Context, admin apiClient, clients int, dur time.Duration) (HTTPPhase, int) {
	var maxRows, next atomic.Int64
	// Each query's answer is decoded once, to count its rows: decoding
	// every answer cost the load process 0.6 ms of CPU a request, taken
	// from the cores the server shares.
	counted := make([]atomic.Bool, len(statsQueries))
	phase := phaseRun(ctx, clients, dur, func(ctx context.Context, i int, rec *Recorder, errs *atomic.Int64) bool {
		// In turn rather than at random: a short run asks each query, the
		// whole-network one first, so that it always sees rows.
		k := int(next.Add(1)-1) % len(statsQueries)
		body, ok := timed(ctx, admin, rec, errs, http.StatusOK, "GET", statsQueries[k], nil)
		if ok && !counted[k].Swap(true) {
			var out struct {
				Rows []json.RawMessage `json:"rows"`
			}
			if json.Unmarshal(body, &out) == nil && int64(len(out.Rows)) > maxRows.Load() {
				maxRows.Store(int64(len(out.Rows)))
			}
		}
		return true
	})
	return phase, int(maxRows.Load())
}
