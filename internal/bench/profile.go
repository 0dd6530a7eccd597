package bench

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// StartCPUProfile starts a CPU profile written to path (nothing when path
// is empty); the returned function stops it and closes the file. It returns
// the file's or the profiler's error.
func StartCPUProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil
	}, nil
}

// PhaseCPUProfile creates path and returns a hook for HTTPConfig.Phase that
// profiles only the phase named phase, and a function closing the file.
// A profiler that will not start is reported on log and the phase runs
// unprofiled. It returns the file's error.
func PhaseCPUProfile(path, phase string, log io.Writer) (hook func(name string) func(), closeFile func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	hook = func(name string) func() {
		if name != phase {
			return nil
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(log, "cpu profile: %v\n", err)
			return nil
		}
		return pprof.StopCPUProfile
	}
	return hook, f.Close, nil
}
