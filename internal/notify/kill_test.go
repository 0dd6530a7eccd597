package notify_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/mailtest"
	"github.com/reso-fr/reso/internal/testwait"
)

// The real binary, seeded with the demo, mailing to Mailpit: a forward by
// the demo advisor mails each referent once, the demo's past mails nobody,
// and a SIGKILL right after the forward, then a restart, sends no mail
// twice and loses none. The kill lands while both deliveries are in the
// middle of their SMTP dialogue (the test holds the mail server's side),
// as soon as the mail server has accepted the first mail (before its
// record, most often), right after the forward's response, and once both
// were recorded (River may not have marked their jobs done yet).
func TestServeDemoSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	t.Parallel()
	mp := mailtest.Start(t, mailtest.Options{})
	relay := newStallProxy(t, mp.SMTPAddr())
	bin := filepath.Join(t.TempDir(), "reso")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/reso")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build reso: %v", err)
	}
	data := t.TempDir()
	addr := freeAddr(t)
	args := []string{"serve", "--demo", "--demo-months", "2", "--data", data, "--addr", addr,
		"--smtp-url", "smtp://" + relay.addr, "--base-url", baseURL,
		"--notify-job-timeout", "5s", "--notify-rescue-after", "10s", "--notify-retry-base", "1s", "--notify-scan-interval", "1s"}
	s := &proc{t: t, bin: bin, args: args, base: "http://" + addr}
	s.start()
	t.Cleanup(s.kill)
	toks, err := os.ReadFile(filepath.Join(data, "demo-tokens.txt"))
	if err != nil {
		t.Fatal(err)
	}
	admin, advisor := tokenOf(t, string(toks), "admin"), tokenOf(t, string(toks), "advisor")

	kills := []string{"while both deliveries are mid-SMTP", "as the first mail is accepted", "right after the forward's response",
		"once both deliveries are recorded"}
	for round, killWhen := range kills {
		var need struct {
			ID string `json:"id"`
		}
		s.do(advisor, "POST", "/api/needs", map[string]any{
			"siret": siret(t, 900+round), "company_name": fmt.Sprintf("Scierie %d", round), "commune": lille, "subject": "recruitment",
			"description": "Recruter deux scieurs", "contact": map[string]string{"name": "Camille", "email": "camille@entreprise.test"},
		}, http.StatusCreated, &need)
		var sug struct {
			Referents []struct {
				ID string `json:"referent_id"`
			} `json:"referents"`
		}
		// The directory read model catches up with the demo in the background.
		waitFor(t, "two suggestions", func() bool {
			s.do(advisor, "GET", "/api/needs/"+need.ID+"/suggestions", nil, http.StatusOK, &sug)
			return len(sug.Referents) >= 2
		})
		if round == 0 {
			relay.stall()
		}
		s.do(advisor, "POST", "/api/needs/"+need.ID+"/forward", map[string]any{
			"referent_ids": []string{sug.Referents[0].ID, sug.Referents[1].ID}}, http.StatusOK, nil)
		switch round {
		case 0:
			waitFor(t, "both deliveries to reach the mail server", func() bool { return relay.held() >= 2 })
		case 1:
			for c, _ := mp.Count(); c < 2*round+1; c, _ = mp.Count() {
				// Polls as fast as Mailpit answers, to kill right at the
				// acceptance: no pause.
			}
		case 3:
			waitFor(t, "both deliveries to be recorded", func() bool { return sentSteps(s, admin, need.ID) == 2 })
		}
		s.kill()
		t.Logf("round %d: SIGKILL %s", round, killWhen)
		relay.resume()
		s.start()
		mp.WaitCount(t, 2*round+2, 60*time.Second)
		// Idle: no delivery waits, and the need's history has both.
		waitFor(t, "the deliveries to settle", func() bool {
			var busy struct {
				Items []any `json:"items"`
			}
			s.do(admin, "GET", "/api/notifications?status=pending", nil, http.StatusOK, &busy)
			n := len(busy.Items)
			s.do(admin, "GET", "/api/notifications?status=retrying", nil, http.StatusOK, &busy)
			return n+len(busy.Items) == 0 && sentSteps(s, admin, need.ID) == 2
		})
		msgs := mp.Messages(t)
		per := map[string]int{}
		for _, m := range msgs {
			per[m.Subject+" → "+m.To[0].Address]++
		}
		if len(msgs) != 2*round+2 || len(per) != len(msgs) {
			t.Fatalf("round %d (SIGKILL %s): %d mails, %v", round, killWhen, len(msgs), per)
		}
	}
	// Every delivery the server ever had is one of these: the demo's two
	// months of history planned none.
	var all struct {
		Items []struct {
			Status string `json:"status"`
		} `json:"items"`
	}
	s.do(admin, "GET", "/api/notifications", nil, http.StatusOK, &all)
	if len(all.Items) != 2*len(kills) {
		t.Fatalf("%d deliveries in all, want %d: %+v", len(all.Items), 2*len(kills), all.Items)
	}
}

// sentSteps counts the NotificationSent steps of a need's history.
func sentSteps(s *proc, admin, needID string) int {
	var h struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	s.do(admin, "GET", "/api/needs/"+needID+"/history", nil, http.StatusOK, &h)
	n := 0
	for _, e := range h.Events {
		if e.Type == "NotificationSent" {
			n++
		}
	}
	return n
}

// stallProxy relays SMTP connections to a server; while stalled it
// accepts connections and reads what clients send, but passes nothing on:
// a client's dialogue is then stuck before the server could accept a
// mail. Connections opened while stalled are dropped on resume.
type stallProxy struct {
	t      *testing.T
	addr   string
	target string

	mu      sync.Mutex
	stalled bool
	waiting int
	cond    *sync.Cond
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{t: t, addr: ln.Addr().String(), target: target}
	p.cond = sync.NewCond(&p.mu)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *stallProxy) serve(c net.Conn) {
	defer c.Close()
	p.mu.Lock()
	if p.stalled {
		p.waiting++
		p.cond.Broadcast()
		for p.stalled {
			p.cond.Wait()
		}
		p.waiting--
		p.mu.Unlock()
		return // the client was killed meanwhile, or gives up: drop it
	}
	p.mu.Unlock()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { _, _ = io.Copy(c, s); c.Close() }()
	_, _ = io.Copy(s, c)
}

// stall holds the connections opened from now on (a server that has sent
// nothing since it started has none open already).
func (p *stallProxy) stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

// held is how many connections are held.
func (p *stallProxy) held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting
}

func (p *stallProxy) resume() {
	p.mu.Lock()
	p.stalled = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// proc is the server binary run as a subprocess.
type proc struct {
	t    *testing.T
	bin  string
	args []string
	base string
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start() {
	p.t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), "RESO_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = io.Discard, testWriter{p.t}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	// Polling /readyz, the server's own signal.
	testwait.MustEventually(p.t, 90*time.Second, func() error {
		select {
		case <-p.done:
			p.t.Fatal("the server exited")
		default:
		}
		resp, err := http.Get(p.base + "/readyz")
		if err != nil {
			return fmt.Errorf("the server is not ready: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("the server is not ready: /readyz = %d", resp.StatusCode)
		}
		return nil
	})
}

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

func (p *proc) do(token, method, path string, body any, want int, out any) {
	p.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, r)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		p.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// tokenOf reads a role's token from demo-tokens.txt.
func tokenOf(t *testing.T, file, role string) string {
	t.Helper()
	for _, line := range strings.Split(file, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == role {
			return f[len(f)-1]
		}
	}
	t.Fatalf("no %s token in %s", role, file)
	return ""
}
