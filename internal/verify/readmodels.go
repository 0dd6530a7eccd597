package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/readmodels"
)

// maxRowsShown bounds the differing rows a table's problem quotes.
const maxRowsShown = 3

// ReadModels compares the read models of e with a rebuild from the log.
// It first runs e's projections until they reach the log's head (as a
// standby when another process holds them), then reads every table, then
// rebuilds every projection (Engine.RebuildAll: the rebuilt tables replace
// the live ones) and reads them again: each table must hold the same rows.
// It adds a problem for each table that differs, quoting a few rows, and
// one when the log moved meanwhile (a writer was running: the comparison
// then proves nothing). Only a hash of each live row is kept, so memory
// grows by 32 bytes a row. It returns the engine's or the database's error.
func ReadModels(ctx context.Context, r *Report, e *readmodels.Engine, store eventstore.Store, db *sql.DB) error {
	head, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := catchUp(ctx, e, head); err != nil {
		return err
	}
	live := map[string][][32]byte{}
	for _, t := range e.Tables() {
		rows, err := dump(ctx, db, t)
		if err != nil {
			return err
		}
		live[t] = hashes(rows)
	}
	if err := e.RebuildAll(ctx, nil); err != nil {
		return fmt.Errorf("verify: rebuild: %w", err)
	}
	r.Tables = map[string]int{}
	for _, t := range e.Tables() {
		rows, err := dump(ctx, db, t)
		if err != nil {
			return err
		}
		r.Tables[t] = len(rows)
		compare(r, t, live[t], rows)
	}
	after, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if after != head {
		r.problem("the log moved from %s to %s while the read models were compared: stop the writers, or verify a restored copy", head, after)
	}
	return nil
}

// catchUp runs e until its projections reach head. A projection that fails
// meanwhile (an event it cannot apply) ends the wait with its error.
func catchUp(ctx context.Context, e *readmodels.Engine, head eventstore.Position) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = e.Run(runCtx) }()
	for {
		waitCtx, stop := context.WithTimeout(ctx, time.Second)
		err := e.WaitFor(waitCtx, head)
		stop()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("verify: bring the read models to %s: %w", head, ctx.Err())
		}
		sts, serr := e.Status(ctx)
		if serr != nil {
			return fmt.Errorf("verify: %w", serr)
		}
		for _, st := range sts {
			if st.State == projections.StateFailed {
				return fmt.Errorf("verify: projection %s failed before reaching %s: %s", st.Name, head, st.LastError)
			}
		}
	}
}

// dump reads every row of table as text, one line per row, sorted.
func dump(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("verify: read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("verify: read %s: %w", table, err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	var line strings.Builder
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("verify: read %s: %w", table, err)
		}
		line.Reset()
		for i, v := range vals {
			if i > 0 {
				line.WriteByte('|')
			}
			if b, ok := v.([]byte); ok {
				fmt.Fprintf(&line, "%x", b)
			} else {
				fmt.Fprint(&line, v)
			}
		}
		out = append(out, line.String())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("verify: read %s: %w", table, err)
	}
	slices.Sort(out)
	return out, nil
}

func hashes(rows []string) [][32]byte {
	out := make([][32]byte, len(rows))
	for i, row := range rows {
		out[i] = sha256.Sum256([]byte(row))
	}
	slices.SortFunc(out, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// compare adds a problem when the rebuilt rows are not the live ones (as a
// multiset), quoting rebuilt rows the live table lacked. Both sides are
// walked in hash order.
func compare(r *Report, table string, live [][32]byte, rebuilt []string) {
	type row struct {
		h    [32]byte
		text string
	}
	rb := make([]row, len(rebuilt))
	for i, text := range rebuilt {
		rb[i] = row{sha256.Sum256([]byte(text)), text}
	}
	slices.SortFunc(rb, func(a, b row) int { return bytes.Compare(a.h[:], b.h[:]) })
	missing, extra := 0, 0
	var shown []string
	i, j := 0, 0
	for i < len(live) || j < len(rb) {
		c := 0
		switch {
		case i == len(live):
			c = 1
		case j == len(rb):
			c = -1
		default:
			c = bytes.Compare(live[i][:], rb[j].h[:])
		}
		switch {
		case c == 0:
			i++
			j++
		case c < 0:
			missing++
			i++
		default:
			extra++
			if len(shown) < maxRowsShown {
				shown = append(shown, rb[j].text)
			}
			j++
		}
	}
	if missing == 0 && extra == 0 {
		return
	}
	msg := fmt.Sprintf("read model %s: %d live rows, %d after a rebuild; %d live rows the rebuild does not have, %d rebuilt rows the live table did not have",
		table, len(live), len(rebuilt), missing, extra)
	if len(shown) > 0 {
		msg += "; for instance: " + strings.Join(shown, " / ")
	}
	r.problem("%s", msg)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
