package sqlite

import (
	"context"
	"log/slog"
	"time"
)

// CheckpointInterval is how often the store's background goroutine copies
// the WAL back into the database file, when something was appended.
const CheckpointInterval = 100 * time.Millisecond

// checkpointer runs PASSIVE checkpoints off the writer's path until Close.
// SQLite would otherwise checkpoint inside the commit that crosses
// wal_autocheckpoint pages, and that commit would pay for copying the pages
// and two fsyncs: measured, half of a single writer's time. A passive
// checkpoint never waits for readers or the writer; what it cannot copy now
// it copies next time. The wal_autocheckpoint OpenDB sets stays as a safety
// net should this goroutine fall behind.
func (s *Store) checkpointer() {
	defer close(s.checkpointDone)
	t := time.NewTicker(CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
		}
		if !s.dirty.Swap(false) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var busy, logFrames, done int
		err := s.db.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done)
		cancel()
		if err != nil {
			slog.Warn("sqlite event store: checkpoint", "err", translate(err))
			s.dirty.Store(true)
			continue
		}
		if done < logFrames {
			s.dirty.Store(true) // readers held some frames: try again
		}
	}
}
