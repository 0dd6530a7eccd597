// Package mailtest runs Mailpit (internal/mailpit) for tests, on free local
// ports, and reads what it received. Tests skip when the mailpit binary is
// missing, unless CI is set: then they fail.
package mailtest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/mailpit"
	"github.com/reso-fr/reso/internal/testwait"
)

// Re-exported for the tests' convenience.
type (
	// Options adjust Start (Dir is the test's temporary directory).
	Options = mailpit.Options
	// Summary is a message in Mailpit's list.
	Summary = mailpit.Summary
	// Message is a message in full.
	Message = mailpit.Message
)

// MustBinary returns the mailpit binary, skipping t when there is none
// (failing under CI).
func MustBinary(t testing.TB) string {
	t.Helper()
	p, err := mailpit.Binary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// Server is a Mailpit running for one test.
type Server struct {
	*mailpit.Process
	t testing.TB
}

// Start runs Mailpit until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	MustBinary(t)
	opts.Dir, opts.Stderr = t.TempDir(), os.Stderr
	p, err := mailpit.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &Server{Process: p, t: t}
}

// Restart starts Mailpit again on the same ports and messages.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.Process.Restart(); err != nil {
		s.t.Fatal(err)
	}
}

// Messages lists every message, oldest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	ms, err := s.Client.Messages()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// Message reads one message in full.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	m, err := s.Client.Message(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// WaitCount polls until Mailpit holds at least n messages, and returns
// them. It fails t after timeout.
func (s *Server) WaitCount(t testing.TB, n int, timeout time.Duration) []Summary {
	t.Helper()
	// Mailpit's API has no way to wait on a message: poll its count.
	testwait.MustEventually(t, timeout, func() error {
		c, err := s.Count()
		if err != nil {
			return fmt.Errorf("mailpit count: %w", err)
		}
		if c < n {
			return fmt.Errorf("mailpit holds %d messages, want %d", c, n)
		}
		return nil
	})
	return s.Messages(t)
}
