// Package servertest runs the real server in tests: on a free port of
// 127.0.0.1, until the test ends. Only tests import it (cmd/reso's
// dependency test keeps it, and the testing package, out of the binary).
package servertest

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/reso-fr/reso/internal/server"
)

// Start creates a server from cfg and serves it until the test ends; it
// returns once the server serves (its address is srv.Addr()). It fails the
// test when the server cannot start; TryStart is for starts that may fail.
func Start(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	srv, _, err := TryStart(t, cfg)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	return srv
}

// TryStart is Start returning server.New's error instead of failing the
// test. stop ends the server before the test does; it waits until the
// server has stopped, and the test's cleanup calls it too. A server that
// stops with an error fails the test.
func TryStart(t testing.TB, cfg server.Config) (srv *server.Server, stop func(), err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err = server.New(ctx, cfg)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("server stopped: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	<-srv.Started()
	return srv, stop, nil
}
