package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/reso-fr/reso/sqldb"
)

// maxParams keeps one statement under both drivers' parameter limits
// (SQLite 32766, PostgreSQL 65535).
const maxParams = 30000

// Upsert writes rows into table with multi-row INSERT ... ON CONFLICT (keys)
// DO UPDATE SET set, where set may use {T} for the table and excluded.col
// for the new values. Rows go in chunks of a few sizes only, so that the
// drivers' statement caches stay small. Callers never pass the same key
// twice in one call (PostgreSQL refuses it).
//
// On PostgreSQL, when tx has a bulk set, the rows of keys never written
// are loaded with COPY, several times faster than INSERT; the others are
// upserted.
func Upsert(ctx context.Context, tx Txn, table string, cols, keys []string, set string, rows [][]any) error {
	if tx.bulk != nil && tx.conn != nil && tx.d == sqldb.Postgres && len(rows) > 0 {
		// Few new rows (or no COPY): one upsert for all, in key order.
		fresh, seen := tx.bulk.split(table, keyIndexes(cols, keys), rows)
		if len(fresh) >= minCopyRows {
			switch err := copyRows(ctx, tx, table, cols, fresh); {
			case err == nil:
				rows = seen
			case !errors.Is(err, errNoCopy):
				return err
			}
		}
	}
	per := min(500, maxParams/len(cols))
	// Full chunks share one prepared statement: preparing a statement of
	// thousands of parameters costs about as much as running it.
	if full := len(rows) / per; full > 1 {
		stmt, err := tx.PrepareContext(ctx, upsertSQL(tx.d, table, cols, keys, set, per))
		if err != nil {
			return fmt.Errorf("upsert into %s: %w", table, err)
		}
		defer stmt.Close()
		args := make([]any, 0, per*len(cols))
		for ; full > 0; full-- {
			args = args[:0]
			for _, r := range rows[:per] {
				args = append(args, r...)
			}
			if err := tx.writing(ctx); err != nil {
				return fmt.Errorf("upsert into %s: %w", table, err)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("upsert into %s: %w", table, err)
			}
			if err := tx.breathe(ctx); err != nil {
				return fmt.Errorf("upsert into %s: %w", table, err)
			}
			rows = rows[per:]
		}
	}
	for len(rows) > 0 {
		n := Chunk(len(rows), per)
		if err := upsertChunk(ctx, tx, table, cols, keys, set, rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	// The caller computes before its next statement: a relayed flush
	// gives the write lock back meanwhile.
	if err := tx.pause(ctx); err != nil {
		return fmt.Errorf("upsert into %s: %w", table, err)
	}
	return nil
}

// Chunk picks the size of the next statement (or batch) from left items:
// the largest of per, 64, 8 and 1 that fits, so that statements come in a
// few sizes only and the drivers' statement caches stay small.
func Chunk(left, per int) int {
	for _, n := range []int{per, 64, 8, 1} {
		if left >= n {
			return n
		}
	}
	return 1
}

func upsertSQL(d sqldb.Dialect, table string, cols, keys []string, set string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ","))
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		Placeholders(&b, d, i*len(cols), len(cols))
	}
	fmt.Fprintf(&b, " ON CONFLICT (%s) DO ", strings.Join(keys, ","))
	if set == "" {
		b.WriteString("NOTHING")
	} else {
		b.WriteString("UPDATE SET " + strings.ReplaceAll(set, "{T}", table))
	}
	return b.String()
}

func upsertChunk(ctx context.Context, tx Txn, table string, cols, keys []string, set string, rows [][]any) error {
	args := make([]any, 0, len(rows)*len(cols))
	for _, r := range rows {
		args = append(args, r...)
	}
	if _, err := tx.ExecContext(ctx, upsertSQL(tx.d, table, cols, keys, set, len(rows)), args...); err != nil {
		return fmt.Errorf("upsert into %s: %w", table, err)
	}
	return nil
}

// ReplaceAll is the SET clause of Upsert that overwrites every non-key
// column.
func ReplaceAll(cols, keys []string) string {
	var parts []string
	for _, c := range cols {
		isKey := false
		for _, k := range keys {
			isKey = isKey || k == c
		}
		if !isKey {
			parts = append(parts, c+"=excluded."+c)
		}
	}
	return strings.Join(parts, ",")
}

// keyIndexes returns the positions of keys among cols.
func keyIndexes(cols, keys []string) []int {
	out := make([]int, 0, len(keys))
	for _, k := range keys {
		for i, c := range cols {
			if c == k {
				out = append(out, i)
			}
		}
	}
	return out
}
