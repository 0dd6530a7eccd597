package verify

import (
	"fmt"
	"io"

	"github.com/reso-fr/reso/eventstore"
)

// maxProblems bounds the problems a Report lists; the others are counted.
const maxProblems = 100

// Report is what a verification found.
type Report struct {
	Events  int64               // events in the global order
	Streams int                 // streams, by their events
	Needs   int                 // need streams folded
	Head    eventstore.Position // the last event read
	// Tables counts the rows of each read-model table compared with its
	// rebuild (nil when the read models were not compared).
	Tables map[string]int
	// Problems lists the differences found, at most maxProblems of them;
	// Omitted counts the others.
	Problems []string
	Omitted  int
}

// OK reports whether nothing was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.Omitted == 0 }

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) >= maxProblems {
		r.Omitted++
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Write prints the report for an operator.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "log: %d events in %d streams (%d needs), head %s\n", r.Events, r.Streams, r.Needs, r.Head)
	if r.Tables != nil {
		fmt.Fprint(w, "read models compared with a rebuild:")
		for _, t := range sortedKeys(r.Tables) {
			fmt.Fprintf(w, " %s %d rows;", t, r.Tables[t])
		}
		fmt.Fprintln(w)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(w, "PROBLEM:", p)
	}
	if r.Omitted > 0 {
		fmt.Fprintf(w, "... and %d more problems\n", r.Omitted)
	}
	if r.OK() {
		fmt.Fprintln(w, "ok: no difference found")
	}
}
