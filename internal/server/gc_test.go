package server

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneGC: the server's target applies unless GOGC chose one.
func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	tests := []struct {
		name, env string
		set       bool
		runtime   int // the target in force before TuneGC (from GOGC at start)
		want      int
	}{
		{"no GOGC", "", false, 100, GCPercent},
		{"GOGC set", "150", true, 150, 150},
		{"GOGC off", "off", true, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set {
				t.Setenv("GOGC", tt.env)
			} else {
				t.Setenv("GOGC", "")
				unsetenv(t, "GOGC")
			}
			debug.SetGCPercent(tt.runtime)
			if got := TuneGC(); got != tt.want {
				t.Errorf("TuneGC() = %d, want %d", got, tt.want)
			}
			if got := debug.SetGCPercent(100); got != tt.want {
				t.Errorf("target in force %d, want %d", got, tt.want)
			}
		})
	}
}

// unsetenv removes key for the rest of the test; t.Setenv before it
// restores the value the process had.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
