package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

// unknownActual marks a concurrency error whose actual version the server
// did not state; Append looks it up before returning.
const unknownActual = -1

// translate is the one place that reads the client library's errors. It
// returns a *eventstore.ConcurrencyError for a wrong expected version,
// an error wrapping eventstore.ErrNotFound for a missing or deleted stream,
// context.DeadlineExceeded for a gRPC deadline, and err itself otherwise.
// stream is Réso's stream id (without namespace).
func translate(err error, stream string, expected eventstore.ExpectedVersion) error {
	var kerr *kdb.Error
	if err == nil || !errors.As(err, &kerr) {
		return err
	}
	return mapCode(kerr.Code(), kerr.Err(), err, stream, expected)
}

// mapCode maps a client error code and the error it carries (inner, which
// may be nil); whole is the error as received, kept for other codes.
func mapCode(code kdb.ErrorCode, inner, whole error, stream string, expected eventstore.ExpectedVersion) error {
	switch code {
	case kdb.ErrorCodeWrongExpectedVersion, kdb.ErrorCodeStreamRevisionConflict:
		actual, ok := actualVersion(inner)
		if !ok {
			actual = unknownActual
		}
		return &eventstore.ConcurrencyError{Stream: stream, Expected: expected, Actual: actual}
	case kdb.ErrorCodeResourceNotFound, kdb.ErrorCodeStreamDeleted, kdb.ErrorCodeStreamTombstoned:
		return fmt.Errorf("%w: %v", eventstore.ErrNotFound, whole)
	case kdb.ErrorCodeDeadlineExceeded:
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, whole)
	}
	return whole
}

// actualVersion reads the stream's actual version from the error a wrong
// expected version carries: the typed conflict of newer servers, or the
// text "expecting 'x' but got 'y'" the client builds for the classic
// append, where y is a revision or no_stream.
func actualVersion(inner error) (int64, bool) {
	if inner == nil {
		return 0, false
	}
	var conflict *kdb.StreamRevisionConflictError
	if errors.As(inner, &conflict) {
		return versionOfState(conflict.ActualRevision)
	}
	msg := inner.Error()
	_, rest, ok := strings.Cut(msg, "but got '")
	if !ok {
		return 0, false
	}
	got, _, ok := strings.Cut(rest, "'")
	if !ok {
		return 0, false
	}
	if got == "no_stream" {
		return 0, true
	}
	rev, err := strconv.ParseInt(got, 10, 64)
	if err != nil || rev < -1 {
		return 0, false
	}
	// The client formats a missing stream as revision -1 on some paths.
	return rev + 1, true
}

// versionOfState maps a stream state reported by the server to a version.
func versionOfState(s kdb.StreamState) (int64, bool) {
	switch v := s.(type) {
	case kdb.NoStream:
		return 0, true
	case kdb.StreamRevision:
		return versionOf(v.Value), true
	}
	return 0, false
}

// clientClosed reports whether err says the client itself is closed: the
// client library closes it for good when discovery fails.
func clientClosed(err error) bool {
	var kerr *kdb.Error
	return errors.As(err, &kerr) && kerr.Code() == kdb.ErrorCodeConnectionClosed
}

// retryable reports whether an operation that failed with err may be sent
// again. A follower refusing a leader-only request (the client has already
// reconnected to the leader) wrote nothing. An unavailable node may have
// written an append before failing: sending it again is only safe when the
// expected version is explicit, because the server then recognises the
// same ids at the same place as a retry; with AnyVersion its idempotence is
// best effort, so the error goes back to the caller.
func retryable(err error, write bool, expected eventstore.ExpectedVersion) bool {
	var kerr *kdb.Error
	if !errors.As(err, &kerr) {
		return false
	}
	return codeRetryable(kerr.Code(), write, expected)
}

func codeRetryable(code kdb.ErrorCode, write bool, expected eventstore.ExpectedVersion) bool {
	switch code {
	case kdb.ErrorCodeNotLeader:
		return true
	case kdb.ErrorUnavailable, kdb.ErrorAborted:
		return !write || expected != eventstore.AnyVersion
	}
	return false
}

// permanent reports whether err will not go away by trying again: the
// server refuses the user or the request. A subscription that meets it
// fails instead of resubscribing forever.
func permanent(err error) bool {
	var kerr *kdb.Error
	return errors.As(err, &kerr) && codePermanent(kerr.Code())
}

func codePermanent(code kdb.ErrorCode) bool {
	switch code {
	case kdb.ErrorCodeAccessDenied, kdb.ErrorCodeUnauthenticated, kdb.ErrorCodeUnsupportedFeature:
		return true
	}
	return false
}
