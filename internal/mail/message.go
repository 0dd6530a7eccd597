package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Address is a mailbox: a display name (may be empty) and an address.
type Address struct {
	Name, Email string
}

// String is the address as a header shows it.
func (a Address) String() string {
	return (&mail.Address{Name: a.Name, Address: a.Email}).String()
}

// ParseAddress reads "Name <addr>" or a bare address. It returns an error
// for anything else.
func ParseAddress(s string) (Address, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return Address{}, fmt.Errorf("mail address %q: %w", s, err)
	}
	return Address{Name: a.Name, Email: a.Address}, nil
}

// Message is one mail to one recipient.
type Message struct {
	From, To Address
	Subject  string
	Text     string // plain text body
	HTML     string // HTML alternative (may be empty)
	// ID is the Message-ID without its angle brackets. A delivery that is
	// tried again keeps its ID, so that a mail client can tell a repeat.
	ID string
	// Date is the Date header (zero: now).
	Date time.Time
	// Headers are extra headers, such as X-Reso-Kind.
	Headers map[string]string
}

// Sender delivers messages.
type Sender interface {
	// Send delivers m. commit, when not nil, runs at the last moment
	// before the message is handed over for good (over SMTP, before the
	// final dot): when it fails, nothing is delivered and Send returns
	// its error wrapped in ErrAborted; once it returned nil, a crash of
	// the process no longer stops the delivery. Send returns the
	// transport's error, wrapped.
	Send(ctx context.Context, m Message, commit func() error) error
	// Transport names the sender in logs and history: "smtp" or "outbox".
	Transport() string
	// Close releases the sender's connections.
	Close() error
}

// ErrInvalidMessage means a message lacks a recipient or a sender.
var ErrInvalidMessage = errors.New("invalid mail message")

// build turns m into a go-mail message.
func (m Message) build() (*gomail.Msg, error) {
	if m.To.Email == "" || m.From.Email == "" {
		return nil, fmt.Errorf("%w: from %q to %q", ErrInvalidMessage, m.From.Email, m.To.Email)
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.From.Name, m.From.Email); err != nil {
		return nil, fmt.Errorf("%w: from: %v", ErrInvalidMessage, err)
	}
	if err := msg.AddToFormat(m.To.Name, m.To.Email); err != nil {
		return nil, fmt.Errorf("%w: to: %v", ErrInvalidMessage, err)
	}
	msg.Subject(m.Subject)
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID)
	} else {
		msg.SetMessageID()
	}
	if m.Date.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Date)
	}
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	for k, v := range m.Headers {
		msg.SetGenHeader(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}
