package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Outbox writes each message as an .eml file in a directory, for a server
// that has no mail server (the demo): admins open them with any mail
// client. A message whose ID was written already is not written again.
type Outbox struct {
	dir string
}

// NewOutbox returns an outbox writing to dir, created if missing (0700).
// It returns the file system's error.
func NewOutbox(dir string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{dir: dir}, nil
}

// Dir is the outbox directory.
func (o *Outbox) Dir() string { return o.dir }

// Transport implements Sender.
func (o *Outbox) Transport() string { return "outbox" }

// Close implements Sender.
func (o *Outbox) Close() error { return nil }

// Send implements Sender: it writes m to <dir>/<hash of its ID>.eml through
// a temporary file, so that a reader never sees half a message; commit
// runs before the rename. It returns the file system's error.
func (o *Outbox) Send(ctx context.Context, m Message, commit func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg, err := m.build()
	if err != nil {
		return err
	}
	id := m.ID
	if id == "" {
		id = fmt.Sprintf("%d", time.Now().UnixNano())
	}
	sum := sha256.Sum256([]byte(id))
	name := filepath.Join(o.dir, hex.EncodeToString(sum[:12])+".eml")
	if _, err := os.Stat(name); err == nil {
		return nil // written by an earlier attempt
	}
	tmp, err := os.CreateTemp(o.dir, ".eml-*")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := msg.WriteTo(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("outbox: write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("outbox: write %s: %w", name, err)
	}
	if commit != nil {
		if err := commit(); err != nil {
			return fmt.Errorf("%w: %w", ErrAborted, err)
		}
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// OutboxFile is one message of the outbox.
type OutboxFile struct {
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	Written time.Time `json:"written"`
}

// List returns the outbox's messages, newest first. It returns the file
// system's error.
func (o *Outbox) List() ([]OutboxFile, error) {
	entries, err := os.ReadDir(o.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	var out []OutboxFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".eml") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, OutboxFile{Name: e.Name(), Size: info.Size(), Written: info.ModTime().UTC()})
	}
	slices.SortFunc(out, func(a, b OutboxFile) int { return b.Written.Compare(a.Written) })
	return out, nil
}

var _ Sender = (*Outbox)(nil)
