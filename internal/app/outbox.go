package app

import (
	"context"
	"fmt"
	"time"

	"github.com/reso-fr/reso/domain"
)

// The outbox: a server without a mail server (the demo) writes each mail
// as an .eml file in its data directory; admins read them there, through
// the service like any other read. Mails hold personal data (contacts'
// names and addresses): only the admins' ActionOutbox reads them.

// OutboxMail is a mail of the outbox. Text, its plain text, is filled by
// OutboxMail only.
type OutboxMail struct {
	ID      string    `json:"id"`
	ToName  string    `json:"to_name"`
	ToEmail string    `json:"to_email"`
	Subject string    `json:"subject"`
	Date    time.Time `json:"date"`
	Size    int64     `json:"size"`
	Text    string    `json:"text,omitempty"`
}

// OutboxPage is the newest mails of the outbox. Enabled says whether the
// server writes mails to an outbox at all (not when it has a mail server,
// or no notifier); Total counts the mails the outbox holds.
type OutboxPage struct {
	Enabled bool         `json:"enabled"`
	Total   int          `json:"total"`
	Items   []OutboxMail `json:"items"`
}

// Outbox is where a server without a mail server writes its mails;
// internal/server adapts *mail.Outbox to it.
type Outbox interface {
	// List returns the newest mails, at most limit, without their text,
	// and how many the outbox holds.
	List(ctx context.Context, limit int) ([]OutboxMail, int, error)
	// Read returns one mail with its text. It returns an error wrapping
	// ErrNotFound for an id that is no mail of the outbox.
	Read(ctx context.Context, id string) (OutboxMail, error)
}

// UseOutbox gives the service the outbox behind OutboxMails and
// OutboxMail. Call it before serving.
func (s *Service) UseOutbox(o Outbox) { s.outbox = o }

// OutboxMails lists the newest mails of the outbox (limit 0: 100, at most
// 1000) for an admin. It returns a *ForbiddenError for every other role, a
// *domain.ValidationError for a bad limit, and the outbox's error. A
// server without an outbox answers a page with Enabled false.
func (s *Service) OutboxMails(ctx context.Context, p Principal, limit int) (OutboxPage, error) {
	if err := s.Authorize(p, ActionOutbox); err != nil {
		return OutboxPage{}, err
	}
	var err error
	if limit, err = outboxLimit(limit); err != nil {
		return OutboxPage{}, err
	}
	if s.outbox == nil {
		return OutboxPage{Items: []OutboxMail{}}, nil
	}
	items, total, err := s.outbox.List(ctx, limit)
	if err != nil {
		return OutboxPage{}, fmt.Errorf("outbox: %w", err)
	}
	if items == nil {
		items = []OutboxMail{}
	}
	return OutboxPage{Enabled: true, Total: total, Items: items}, nil
}

// OutboxMail returns one mail of the outbox with its plain text, for an
// admin. It returns a *ForbiddenError for every other role, ErrNotFound
// for an unknown id (or a server without an outbox), and the outbox's
// error.
func (s *Service) OutboxMail(ctx context.Context, p Principal, id string) (OutboxMail, error) {
	if err := s.Authorize(p, ActionOutbox); err != nil {
		return OutboxMail{}, err
	}
	if s.outbox == nil {
		return OutboxMail{}, fmt.Errorf("%w: mail %q (no outbox on this server)", ErrNotFound, id)
	}
	return s.outbox.Read(ctx, id)
}

func outboxLimit(n int) (int, error) {
	switch {
	case n == 0:
		return 100, nil
	case n < 0 || n > 1000:
		return 0, &domain.ValidationError{Field: "limit", Message: "an integer from 1 to 1000"}
	}
	return n, nil
}
