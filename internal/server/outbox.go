package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/mail"
)

// outboxReader shows the notifier's outbox to the service (app.Outbox):
// the admins' console page lists and reads it through app.
type outboxReader struct{ o *mail.Outbox }

func mailOf(m mail.OutboxMessage) app.OutboxMail {
	return app.OutboxMail{ID: m.Name, ToName: m.To.Name, ToEmail: m.To.Email, Subject: m.Subject, Date: m.Date, Size: m.Size, Text: m.Text}
}

// List implements app.Outbox.
func (r outboxReader) List(_ context.Context, limit int) ([]app.OutboxMail, int, error) {
	msgs, total, err := r.o.Messages(limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]app.OutboxMail, len(msgs))
	for i, m := range msgs {
		out[i] = mailOf(m)
	}
	return out, total, nil
}

// Read implements app.Outbox.
func (r outboxReader) Read(_ context.Context, id string) (app.OutboxMail, error) {
	m, err := r.o.Read(id)
	if errors.Is(err, mail.ErrNoMessage) {
		return app.OutboxMail{}, fmt.Errorf("%w: %v", app.ErrNotFound, err)
	}
	if err != nil {
		return app.OutboxMail{}, err
	}
	return mailOf(m), nil
}

var _ app.Outbox = outboxReader{}
