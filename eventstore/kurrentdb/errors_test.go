package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"testing"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

func TestMapCodeConcurrency(t *testing.T) {
	t.Parallel()
	// The texts are those the client builds in AppendToStream.
	tests := []struct {
		name     string
		code     kdb.ErrorCode
		inner    error
		expected eventstore.ExpectedVersion
		actual   int64
	}{
		{"revision", kdb.ErrorCodeWrongExpectedVersion,
			errors.New("wrong expected version: expecting '3' but got '5'"), eventstore.Exactly(4), 6},
		{"no stream yet", kdb.ErrorCodeWrongExpectedVersion,
			errors.New("wrong expected version: expecting '0' but got 'no_stream'"), eventstore.Exactly(1), 0},
		{"stream exists", kdb.ErrorCodeWrongExpectedVersion,
			errors.New("wrong expected version: expecting 'no_stream' but got '2'"), eventstore.NoStream, 3},
		{"minus one is no stream", kdb.ErrorCodeWrongExpectedVersion,
			errors.New("wrong expected version: expecting '0' but got '-1'"), eventstore.Exactly(1), 0},
		{"unreadable text", kdb.ErrorCodeWrongExpectedVersion,
			errors.New("something else"), eventstore.NoStream, unknownActual},
		{"no inner error", kdb.ErrorCodeWrongExpectedVersion, nil, eventstore.NoStream, unknownActual},
		{"typed conflict", kdb.ErrorCodeStreamRevisionConflict,
			&kdb.StreamRevisionConflictError{Stream: "s", ExpectedRevision: kdb.StreamRevision{Value: 0}, ActualRevision: kdb.StreamRevision{Value: 2}},
			eventstore.Exactly(1), 3},
		{"typed conflict, no stream", kdb.ErrorCodeStreamRevisionConflict,
			&kdb.StreamRevisionConflictError{Stream: "s", ExpectedRevision: kdb.StreamRevision{Value: 0}, ActualRevision: kdb.NoStream{}},
			eventstore.Exactly(1), 0},
		{"typed conflict, unknown state", kdb.ErrorCodeStreamRevisionConflict,
			&kdb.StreamRevisionConflictError{Stream: "s", ExpectedRevision: kdb.NoStream{}, ActualRevision: kdb.StreamExists{}},
			eventstore.NoStream, unknownActual},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := mapCode(tt.code, tt.inner, fmt.Errorf("whole: %v", tt.inner), "need-1", tt.expected)
			if !errors.Is(err, eventstore.ErrConcurrency) {
				t.Fatalf("error %v: want ErrConcurrency", err)
			}
			var ce *eventstore.ConcurrencyError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T: want *eventstore.ConcurrencyError", err)
			}
			if ce.Stream != "need-1" || ce.Expected != tt.expected || ce.Actual != tt.actual {
				t.Errorf("got %+v, want stream need-1 expected %d actual %d", ce, tt.expected, tt.actual)
			}
		})
	}
}

func TestMapCodeOthers(t *testing.T) {
	t.Parallel()
	whole := errors.New("as received")
	tests := []struct {
		code   kdb.ErrorCode
		target error // errors.Is target; nil: the error is returned as is
	}{
		{kdb.ErrorCodeResourceNotFound, eventstore.ErrNotFound},
		{kdb.ErrorCodeStreamDeleted, eventstore.ErrNotFound},
		{kdb.ErrorCodeStreamTombstoned, eventstore.ErrNotFound},
		{kdb.ErrorCodeDeadlineExceeded, context.DeadlineExceeded},
		{kdb.ErrorCodeUnknown, nil},
		{kdb.ErrorCodeAccessDenied, nil},
		{kdb.ErrorCodeNotLeader, nil},
		{kdb.ErrorUnavailable, nil},
		{kdb.ErrorCodeConnectionClosed, nil},
	}
	for _, tt := range tests {
		err := mapCode(tt.code, nil, whole, "s", eventstore.AnyVersion)
		if tt.target == nil {
			if err != whole {
				t.Errorf("code %d: %v, want the error as received", tt.code, err)
			}
			continue
		}
		if !errors.Is(err, tt.target) {
			t.Errorf("code %d: %v, want %v", tt.code, err, tt.target)
		}
		if errors.Is(err, eventstore.ErrConcurrency) {
			t.Errorf("code %d: %v is a concurrency error", tt.code, err)
		}
	}
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	if translate(nil, "s", eventstore.AnyVersion) != nil {
		t.Errorf("translate(nil) is not nil")
	}
	plain := errors.New("plain")
	if got := translate(plain, "s", eventstore.AnyVersion); got != plain {
		t.Errorf("translate(plain) = %v", got)
	}
	// FromError is the only exported way to build a client error: it
	// wraps a foreign error with ErrorCodeUnknown.
	kerr, _ := kdb.FromError(plain)
	wrapped := fmt.Errorf("could not read. Reason: %w", kerr)
	got := translate(wrapped, "s", eventstore.AnyVersion)
	if got != wrapped || !errors.Is(got, plain) {
		t.Errorf("translate(unknown client error) = %v, want it unchanged", got)
	}
	if clientClosed(wrapped) || retryable(wrapped, false, eventstore.AnyVersion) {
		t.Errorf("an unknown client error is taken as closed or retryable")
	}
}

func TestCodeRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code     kdb.ErrorCode
		write    bool
		expected eventstore.ExpectedVersion
		want     bool
	}{
		{kdb.ErrorCodeNotLeader, true, eventstore.AnyVersion, true},
		{kdb.ErrorCodeNotLeader, false, eventstore.AnyVersion, true},
		{kdb.ErrorUnavailable, false, eventstore.AnyVersion, true},
		{kdb.ErrorUnavailable, true, eventstore.Exactly(3), true},
		{kdb.ErrorUnavailable, true, eventstore.NoStream, true},
		{kdb.ErrorUnavailable, true, eventstore.AnyVersion, false},
		{kdb.ErrorAborted, true, eventstore.AnyVersion, false},
		{kdb.ErrorCodeWrongExpectedVersion, true, eventstore.Exactly(3), false},
		{kdb.ErrorCodeDeadlineExceeded, false, eventstore.AnyVersion, false},
		{kdb.ErrorCodeAccessDenied, false, eventstore.AnyVersion, false},
	}
	for _, tt := range tests {
		if got := codeRetryable(tt.code, tt.write, tt.expected); got != tt.want {
			t.Errorf("codeRetryable(%d, write %v, %d) = %v, want %v", tt.code, tt.write, tt.expected, got, tt.want)
		}
	}
}

func TestCodePermanent(t *testing.T) {
	t.Parallel()
	for code, want := range map[kdb.ErrorCode]bool{
		kdb.ErrorCodeAccessDenied:       true,
		kdb.ErrorCodeUnauthenticated:    true,
		kdb.ErrorCodeUnsupportedFeature: true,
		kdb.ErrorUnavailable:            false,
		kdb.ErrorCodeNotLeader:          false,
		kdb.ErrorCodeDeadlineExceeded:   false,
		kdb.ErrorCodeUnknown:            false,
		kdb.ErrorCodeConnectionClosed:   false,
	} {
		if got := codePermanent(code); got != want {
			t.Errorf("codePermanent(%d) = %v, want %v", code, got, want)
		}
	}
	if permanent(errors.New("plain")) {
		t.Errorf("a plain error is permanent")
	}
}
