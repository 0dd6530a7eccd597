package testwait

import (
	"errors"
	"testing"
	"time"
)

func TestEventually(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		okAfter int // calls before check returns nil; -1: never
		timeout time.Duration
		wantErr bool
	}{
		{"at once", 0, time.Second, false},
		{"after a few polls", 3, time.Second, false},
		{"never", -1, 5 * Interval, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			err := Eventually(tt.timeout, func() error {
				calls++
				if tt.okAfter >= 0 && calls > tt.okAfter {
					return nil
				}
				return errors.New("not yet")
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Eventually = %v after %d calls, want error %v", err, calls, tt.wantErr)
			}
			if !tt.wantErr && calls != tt.okAfter+1 {
				t.Errorf("%d calls, want %d", calls, tt.okAfter+1)
			}
			if tt.wantErr && (calls < 2 || err.Error() != "not yet") {
				t.Errorf("%d calls and error %v: want the condition's last error after several polls", calls, err)
			}
		})
	}
}

func TestScale(t *testing.T) {
	t.Parallel()
	got := Scale(time.Second)
	if Race && got <= time.Second || !Race && got != time.Second {
		t.Errorf("Scale(1s) = %s with race %v", got, Race)
	}
}
