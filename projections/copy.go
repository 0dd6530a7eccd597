package projections

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// bulkSet lets a writer that started on empty tables (a rebuild, or a
// runner starting from the beginning of the log) load rows with COPY: it
// remembers a hash of every key it has written to each table, so that a row
// whose key it has never written cannot conflict with a stored one and needs
// no ON CONFLICT. A hash collision only sends a new row through the upsert,
// which is always correct; the opposite mistake (COPYing a key that is
// stored) cannot happen as long as every write to those tables goes through
// upsert with this set, which the writer guarantees by owning the tables:
// a rebuild owns its _rebuild tables, a runner its tables until a swap
// (which makes it restart with a new set).
type bulkSet struct {
	seed   maphash.Seed
	tables map[string]*keySet
}

type keySet struct {
	seen map[uint64]struct{}
	off  bool // too many keys: every row goes through the upsert
}

// maxBulkKeys bounds the memory of one table's set (about 40 bytes a key);
// past it that table's rows all go through the upsert.
const maxBulkKeys = 4_000_000

// minCopyRows is the fewest new rows worth a COPY: below, a multi-row
// INSERT costs fewer round trips (COPY first asks for the column types).
const minCopyRows = 64

func newBulkSet() *bulkSet {
	return &bulkSet{seed: maphash.MakeSeed(), tables: make(map[string]*keySet)}
}

// split returns the rows whose key the set has never seen (and records
// them) and the others. keyIdx are the positions of the key columns.
func (b *bulkSet) split(table string, keyIdx []int, rows [][]any) (fresh, seen [][]any) {
	ks := b.tables[table]
	if ks == nil {
		ks = &keySet{seen: make(map[uint64]struct{})}
		b.tables[table] = ks
	}
	if ks.off {
		return nil, rows
	}
	var h maphash.Hash
	h.SetSeed(b.seed)
	var buf []byte
	for _, r := range rows {
		h.Reset()
		for _, i := range keyIdx {
			// A string is hashed in place: the same bytes as
			// appendKeyValue's, without copying it into buf.
			switch v := r[i].(type) {
			case string:
				buf = append(strconv.AppendInt(buf[:0], int64(len(v)), 10), ':')
				h.Write(buf)
				h.WriteString(v)
				continue
			case [16]byte:
				h.WriteString("16:")
				h.Write(v[:])
				continue
			}
			buf = appendKeyValue(buf[:0], r[i])
			h.Write(buf)
		}
		k := h.Sum64()
		if _, ok := ks.seen[k]; ok {
			seen = append(seen, r)
			continue
		}
		ks.seen[k] = struct{}{}
		fresh = append(fresh, r)
	}
	if len(ks.seen) > maxBulkKeys {
		ks.off, ks.seen = true, nil
	}
	return fresh, seen
}

// appendKeyValue encodes one key value, length-prefixed so that ("ab","c")
// and ("a","bc") differ.
func appendKeyValue(buf []byte, v any) []byte {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case []byte:
		s = string(v)
	case [16]byte: // an id (Dialect.idArg)
		s = string(v[:])
	default:
		s = fmt.Sprint(v)
	}
	buf = strconv.AppendInt(buf, int64(len(s)), 10)
	buf = append(buf, ':')
	return append(buf, s...)
}

// errNoCopy means the connection is not pgx's: the caller upserts instead.
var errNoCopy = errors.New("projections: connection cannot COPY")

// copyRows loads rows into table with PostgreSQL's COPY, on the
// transaction's connection.
func copyRows(ctx context.Context, tx Txn, table string, cols []string, rows [][]any) error {
	err := tx.conn.Raw(func(dc any) error {
		c, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			return errNoCopy
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil && !errors.Is(err, errNoCopy) {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return err
}
