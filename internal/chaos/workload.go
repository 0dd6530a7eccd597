package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// command is one command a client sent, with what became of it.
type command struct {
	kind, key string
	user      string // the principal's user id
	need      string // the need's id (a capture's, from its answer)
	acked     bool   // answered 2xx
	cut       bool   // at least one attempt got no answer, or a 5xx
	refused   int    // the 4xx status that ended it
	attempts  int
}

// open is a need a client works on, and how far it went.
type open struct {
	id       string
	stage    int // 0 captured, 1 forwarded, 2 taken in charge
	referent user
}

// tally counts the answers every client saw.
type tally struct {
	mu           sync.Mutex
	cmds         []*command
	serverErrors map[int]int // 5xx answers by status
	answers      []answer    // every answer, when recording (outage)
	record       bool
	// captured are the needs whose capture was answered, for readers
	// running beside the clients: a command's fields are its client's
	// until the clients stop.
	captured []string
}

// capture notes a need whose capture was answered.
func (t *tally) capture(id string) {
	t.mu.Lock()
	t.captured = append(t.captured, id)
	t.mu.Unlock()
}

// capturedNeeds returns the needs captured so far.
func (t *tally) capturedNeeds() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.captured...)
}

func (t *tally) add(c *command) {
	t.mu.Lock()
	t.cmds = append(t.cmds, c)
	t.mu.Unlock()
}

func (t *tally) saw(a answer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a.status >= 500 {
		if t.serverErrors == nil {
			t.serverErrors = map[int]int{}
		}
		t.serverErrors[a.status]++
	}
	if t.record {
		a.body = append([]byte(nil), a.body[:min(len(a.body), 300)]...)
		if a.header != nil {
			a.header = http.Header{"Content-Type": a.header["Content-Type"], "Reso-Position": a.header["Reso-Position"]}
		}
		t.answers = append(t.answers, a)
	}
}

// commands returns a copy of the commands sent so far.
func (t *tally) commands() []*command {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*command(nil), t.cmds...)
}

// client sends need commands as one advisor, with the network's referents
// acting on the matches, one command at a time: a command without an
// answer (a kill, a 5xx) is sent again with the same key and body until it
// gets one, or until timeout.
type client struct {
	api     *api
	net     *network
	advisor user
	rng     *rand.Rand
	tally   *tally
	gate    *sync.RWMutex // held for reading while a command runs; Lock pauses the clients
	timeout time.Duration
	n       int // captures sent, for SIRETs
	id      int
	open    []*open
}

// run sends commands until stop is set (after the command under way) or
// ctx ends.
func (c *client) run(ctx context.Context, stop *atomic.Bool) {
	for !stop.Load() && ctx.Err() == nil {
		c.gate.RLock()
		c.step(ctx)
		c.gate.RUnlock()
	}
}

// step picks and sends the next command.
func (c *client) step(ctx context.Context) {
	if len(c.open) < 2 || c.rng.IntN(4) == 0 {
		c.n++
		body := map[string]any{
			"siret": siret(c.id*1000000 + c.n), "company_name": fmt.Sprintf("Entreprise %d-%d", c.id, c.n), "commune": commune,
			"subject": subject, "description": "Recruter un apprenti",
			"contact": map[string]string{"name": "Contact", "email": fmt.Sprintf("c%d.%d@company.test", c.id, c.n), "phone": "0320000000"},
		}
		cmd, a := c.send(ctx, "capture", c.advisor, "/api/needs", body)
		if cmd.acked {
			var v struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(a.body, &v) == nil {
				cmd.need = v.ID
				c.open = append(c.open, &open{id: v.ID})
				c.tally.capture(v.ID)
			}
		}
		return
	}
	i := c.rng.IntN(len(c.open))
	o := c.open[i]
	var cmd *command
	switch o.stage {
	case 0:
		o.referent = c.net.referents[c.rng.IntN(len(c.net.referents))]
		cmd, _ = c.send(ctx, "forward", c.advisor, "/api/needs/"+o.id+"/forward", map[string]any{"referent_ids": []string{o.referent.referentID}})
	case 1:
		cmd, _ = c.send(ctx, "take_charge", o.referent, "/api/needs/"+o.id+"/matches/"+o.referent.referentID, map[string]string{"action": "take_charge"})
	default:
		if c.rng.IntN(2) == 0 {
			cmd, _ = c.send(ctx, "comment", c.advisor, "/api/needs/"+o.id+"/comments", map[string]string{"text": "Point d'étape"})
			cmd.need = o.id
			return
		}
		cmd, _ = c.send(ctx, "done", o.referent, "/api/needs/"+o.id+"/matches/"+o.referent.referentID, map[string]string{"action": "done"})
	}
	cmd.need = o.id
	if cmd.acked && o.stage < 2 {
		o.stage++
		return
	}
	// Done, refused, or given up without an answer: the client leaves
	// the need.
	c.open = append(c.open[:i], c.open[i+1:]...)
}

// send sends one command with a key of its own until it gets an answer
// other than a 5xx or a key still in progress, or its time runs out.
func (c *client) send(ctx context.Context, kind string, as user, path string, body any) (*command, answer) {
	cmd := &command{kind: kind, key: uuid.NewString(), user: as.id}
	c.tally.add(cmd)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	wait := 10 * time.Millisecond
	for {
		cmd.attempts++
		a := c.api.do(ctx, http.MethodPost, path, as.token, cmd.key, body)
		a.command = true
		c.tally.saw(a)
		switch {
		case a.status >= 200 && a.status < 300:
			cmd.acked = true
			return cmd, a
		case a.status == http.StatusConflict && strings.HasSuffix(a.problemType(), "/in-progress"):
			// The first attempt's key is still pending: wait for it.
		case a.status >= 400 && a.status < 500:
			cmd.refused = a.status
			return cmd, a
		default:
			cmd.cut = true
		}
		select {
		case <-ctx.Done():
			return cmd, a
		case <-time.After(wait):
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}
