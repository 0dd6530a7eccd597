package kurrentdb

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// deadURL points at a port where nothing listens, with one discovery
// attempt, so that the client library gives up (and closes itself) fast.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return "kurrentdb://" + addr + "?tls=false&maxDiscoverAttempts=1&discoveryInterval=10&gossipTimeout=1"
}

// mustUnconnectedStore builds a store on deadURL without Open's first
// read, which would fail.
func mustUnconnectedStore(t *testing.T) *Store {
	t.Helper()
	conf, err := parseURL(deadURL(t))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	conf.Logger = clientLogger(log)
	conn, err := newConnection(conf)
	if err != nil {
		t.Fatalf("new connection: %v", err)
	}
	o := defaultOptions()
	o.readTimeout = 3 * time.Second
	o.backoffMin, o.backoffMax = time.Millisecond, 2*time.Millisecond
	s := &Store{opts: o, log: log, conn: conn, url: "dead", subs: map[*subscription]struct{}{}}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestClientRecreatedAfterFailedDiscovery(t *testing.T) {
	t.Parallel()
	s := mustUnconnectedStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	first := s.conn.current()
	// The first read fails discovery: the client library closes that client.
	if _, err := s.Head(ctx); err == nil {
		t.Fatal("head without a server succeeded")
	}
	// The next call finds the client closed, replaces it and tries again;
	// discovery fails again, but with a live client that is not closed.
	_, err := s.ReadAll(ctx, eventstore.Start, 10)
	if err == nil {
		t.Fatal("read all without a server succeeded")
	}
	if clientClosed(err) {
		t.Errorf("error %v: the closed client was not replaced", err)
	}
	if s.conn.current() == first {
		t.Errorf("the client closed by the failed discovery is still in use")
	}
}

func TestOpenWithoutServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Open(ctx, deadURL(t), WithReadTimeout(3*time.Second), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err == nil {
		_ = s.Close()
		t.Fatal("open without a server succeeded")
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("open took %s to fail", took)
	}
	if _, err := Open(ctx, "postgres://127.0.0.1/test"); !errors.Is(err, ErrInvalidURL) {
		t.Errorf("open with a PostgreSQL URL: %v, want ErrInvalidURL", err)
	}
	if _, err := Open(ctx, "kurrentdb://localhost:2113?tls=false", WithNamespace("$sys-")); err == nil {
		t.Errorf("open with a $ namespace succeeded")
	}
}

func TestClosedStoreAndSubscription(t *testing.T) {
	t.Parallel()
	s := mustUnconnectedStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	sub, err := s.Subscribe(ctx, eventstore.Start)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	// Without a server Next fails, and does not hang past its context.
	nctx, ncancel := context.WithTimeout(ctx, 5*time.Second)
	if _, err := sub.Next(nctx, 10); err == nil {
		t.Errorf("next without a server succeeded")
	}
	ncancel()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("second close: %v, want ErrClosed", err)
	}
	if _, err := sub.Next(ctx, 10); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("next after the store closed: %v, want ErrClosed", err)
	}
	calls := map[string]func() error{
		"append": func() error {
			_, err := s.Append(ctx, "s", eventstore.AnyVersion, eventstore.NewEvent{Type: "t", Data: []byte(`{}`)})
			return err
		},
		"read stream": func() error { _, err := s.ReadStream(ctx, "s", 1, 0); return err },
		"read all":    func() error { _, err := s.ReadAll(ctx, eventstore.Start, 1); return err },
		"head":        func() error { _, err := s.Head(ctx); return err },
		"subscribe":   func() error { _, err := s.Subscribe(ctx, eventstore.Start); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
}

func TestAppendValidatesBeforeAnyCall(t *testing.T) {
	t.Parallel()
	// Nothing listens: a call to the server would fail with a connection
	// error, not the validation error.
	s := mustUnconnectedStore(t)
	ctx := t.Context()
	good := eventstore.NewEvent{Type: "t", Data: []byte(`{}`)}
	big := make([]byte, eventstore.MaxEventSize+1)
	tests := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		events   []eventstore.NewEvent
		want     error
	}{
		{"empty stream", "", eventstore.AnyVersion, []eventstore.NewEvent{good}, eventstore.ErrInvalidEvent},
		{"no event", "s", eventstore.AnyVersion, nil, eventstore.ErrInvalidEvent},
		{"no type", "s", eventstore.AnyVersion, []eventstore.NewEvent{{Data: []byte(`{}`)}}, eventstore.ErrInvalidEvent},
		{"not json", "s", eventstore.AnyVersion, []eventstore.NewEvent{{Type: "t", Data: []byte(`{`)}}, eventstore.ErrInvalidEvent},
		{"too big", "s", eventstore.AnyVersion, []eventstore.NewEvent{{Type: "t", Data: big}}, eventstore.ErrInvalidEvent},
		{"bad expected version", "s", eventstore.ExpectedVersion(-2), []eventstore.NewEvent{good}, eventstore.ErrInvalidEvent},
		{"same id twice", "s", eventstore.NoStream, []eventstore.NewEvent{{ID: mustUUID(t), Type: "t", Data: []byte(`1`)}}, nil},
	}
	dup := tests[len(tests)-1].events[0]
	tests[len(tests)-1].events = append(tests[len(tests)-1].events, dup)
	tests[len(tests)-1].want = eventstore.ErrDuplicateEvent
	for _, tt := range tests {
		start := time.Now()
		_, err := s.Append(ctx, tt.stream, tt.expected, tt.events...)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: took %s, as if it called the server", tt.name, took)
		}
	}
	if _, err := s.ReadStream(ctx, "", 1, 0); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Errorf("read stream with an empty id: %v, want ErrInvalidEvent", err)
	}
}
