package chaos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Server is a Réso server process the suite starts and kills.
type Server struct {
	// Command starts a server; the suite adds RESO_ADDR, RESO_DATA,
	// RESO_DATABASE_URL, RESO_ADMIN_TOKEN and RESO_LOG_LEVEL to its
	// environment (reso serve reads them).
	Command []string
	// Env is more environment for the command.
	Env []string
	// DataDir is the data directory (SQLite, when DatabaseURL is empty).
	DataDir     string
	DatabaseURL string
	AdminToken  string
	// Log receives the server's output (nil: discarded).
	Log *os.File

	addr      string
	masterKey string // base64, given to every start
	cmd       *exec.Cmd
	done      chan error
}

// URL is the server's base URL, once started.
func (s *Server) URL() string { return "http://" + s.addr }

// Start starts the server and waits until /readyz answers 200 (at most
// timeout). It keeps the address of the first start, so that clients need
// not learn a new one.
func (s *Server) Start(ctx context.Context, timeout time.Duration) error {
	if s.cmd != nil {
		return errors.New("chaos: server already running")
	}
	if s.addr == "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	if s.masterKey == "" {
		// One master key for the server's life: every restart opens the
		// contacts the first run sealed.
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("chaos: master key: %w", err)
		}
		s.masterKey = base64.StdEncoding.EncodeToString(b)
	}
	cmd := exec.Command(s.Command[0], s.Command[1:]...)
	cmd.Env = append(os.Environ(), s.Env...)
	// A load test: the rate limits (reso serve's flags read these) are off.
	cmd.Env = append(cmd.Env, "RESO_ADDR="+s.addr, "RESO_DATA="+s.DataDir, "RESO_DATABASE_URL="+s.DatabaseURL,
		"RESO_ADMIN_TOKEN="+s.AdminToken, "RESO_LOG_LEVEL=warn", "RESO_MASTER_KEY="+s.masterKey,
		"RESO_RATE_LIMIT=0", "RESO_RATE_LIMIT_ADDRESS=0")
	if s.Log != nil {
		cmd.Stdout, cmd.Stderr = s.Log, s.Log
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaos: start server: %w", err)
	}
	s.cmd = cmd
	s.done = make(chan error, 1)
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(timeout)
	for {
		if ready(ctx, s.URL()) {
			return nil
		}
		select {
		case err := <-s.done:
			s.cmd = nil
			return fmt.Errorf("chaos: server exited while starting: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chaos: server not ready within %s", timeout)
		}
	}
}

// ready reports whether /readyz answers 200.
func ready(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Kill kills the server with SIGKILL and waits until it is gone.
func (s *Server) Kill() error {
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("chaos: kill server: %w", err)
	}
	<-s.done
	s.cmd = nil
	return nil
}

// Stop stops the server gracefully (SIGTERM), killing it after timeout.
func (s *Server) Stop(timeout time.Duration) error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.cmd = nil
		return err
	case <-time.After(timeout):
		return s.Kill()
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("chaos: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
