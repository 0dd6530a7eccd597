package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// ErrConfig means an SMTP URL Réso cannot use.
var ErrConfig = errors.New("invalid SMTP configuration")

// SMTPConfig is where and how to reach the mail server.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no authentication
	Password string
	// ImplicitTLS connects over TLS from the start (smtps://); otherwise
	// the connection is upgraded with STARTTLS when the server offers it,
	// or always when RequireTLS is set.
	ImplicitTLS bool
	RequireTLS  bool
	// Timeout bounds connecting and each command (default 15 s).
	Timeout time.Duration
	// MaxIdle is how many connections stay open between sends (default 4).
	MaxIdle int
	// RootCAs, when set, are the only certificates trusted for TLS (nil:
	// the system's). Tests set it; the URL cannot.
	RootCAs *x509.CertPool
}

// ParseSMTPURL reads smtp://[user:pass@]host[:port][?tls=required] (port
// 25 by default; STARTTLS when offered, required with tls=required) or
// smtps://[user:pass@]host[:port] (implicit TLS, port 465 by default). It
// returns an error wrapping ErrConfig for anything else.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return SMTPConfig{}, fmt.Errorf("%w: %v", ErrConfig, redact(err))
	}
	var c SMTPConfig
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		c.Port = gomail.DefaultPort
	case "smtps":
		c.Port, c.ImplicitTLS = gomail.DefaultPortSSL, true
	default:
		return SMTPConfig{}, fmt.Errorf("%w: the URL must start with smtp:// or smtps:// (got %q)", ErrConfig, u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return SMTPConfig{}, fmt.Errorf("%w: no host in the SMTP URL", ErrConfig)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("%w: port %q", ErrConfig, p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	switch q.Get("tls") {
	case "", "opportunistic":
	case "required":
		c.RequireTLS = true
	default:
		return SMTPConfig{}, fmt.Errorf("%w: tls=%q (opportunistic or required)", ErrConfig, q.Get("tls"))
	}
	return c, nil
}

// redact drops the URL (and its password) from a url.Parse error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Addr is host:port.
func (c SMTPConfig) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// SMTP sends over SMTP, keeping up to MaxIdle connections open between
// sends. It is safe for concurrent use: each send has a connection of its
// own.
type SMTP struct {
	cfg    SMTPConfig
	client *gomail.Client
	idle   chan *smtp.Client
}

// NewSMTP returns a sender for cfg. It does not connect yet. It returns an
// error wrapping ErrConfig when go-mail refuses the configuration.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = 4
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout)}
	switch {
	case cfg.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case cfg.RequireTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if cfg.RootCAs != nil {
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}))
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return &SMTP{cfg: cfg, client: c, idle: make(chan *smtp.Client, cfg.MaxIdle)}, nil
}

// Transport implements Sender.
func (s *SMTP) Transport() string { return "smtp" }

// Send implements Sender. It speaks SMTP itself on go-mail's connection
// (MAIL, RCPT, DATA) so as to call commit between the message's body and
// the final dot: until that dot the server keeps nothing, and once commit
// returned the dot goes in one write, which the kernel delivers even if
// the process dies just after. A pooled connection the server has closed
// is replaced once (the NOOP check fails before anything is sent). It
// returns the server's refusal (a *textproto.Error, see Permanent), the
// connection's error, or commit's error wrapped in ErrAborted, all wrapped.
func (s *SMTP) Send(ctx context.Context, m Message, commit func() error) error {
	msg, err := m.build()
	if err != nil {
		return err
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	for fresh := false; ; fresh = true {
		conn, pooled, err := s.conn(ctx, fresh)
		if err != nil {
			return fmt.Errorf("smtp %s: %w", s.cfg.Addr(), err)
		}
		if pooled {
			if err := conn.Noop(); err != nil {
				_ = conn.Close()
				continue // the server dropped an idle connection: dial anew
			}
		}
		if err := transact(conn, from, rcpts, msg, commit); err != nil {
			_ = conn.Close()
			return fmt.Errorf("smtp %s: %w", s.cfg.Addr(), err)
		}
		s.put(conn)
		return nil
	}
}

// ErrAborted means commit refused a message: it was not sent.
var ErrAborted = errors.New("mail aborted before the final dot")

// transact is one mail transaction on c.
func transact(c *smtp.Client, from string, rcpts []string, msg *gomail.Msg, commit func() error) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := msg.WriteTo(w); err != nil {
		return err
	}
	// The body is on its way; only the dot (and what the buffer holds) is
	// left for Close.
	if err := c.Text.W.Flush(); err != nil {
		return err
	}
	if commit != nil {
		if err := commit(); err != nil {
			// The caller closes the connection: without the dot, the
			// server discards the message.
			return fmt.Errorf("%w: %w", ErrAborted, err)
		}
	}
	return w.Close()
}

// conn takes an idle connection, or dials one (always when fresh).
func (s *SMTP) conn(ctx context.Context, fresh bool) (*smtp.Client, bool, error) {
	if !fresh {
		select {
		case c := <-s.idle:
			return c, true, nil
		default:
		}
	}
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	return c, false, err
}

// put keeps a connection for the next send. No RSET: a finished DATA
// ends the mail transaction, and a round trip here would delay the
// caller's record of the delivery (see internal/notify).
func (s *SMTP) put(c *smtp.Client) {
	select {
	case s.idle <- c:
	default:
		_ = s.client.CloseWithSMTPClient(c)
	}
}

// Close implements Sender: it closes the idle connections.
func (s *SMTP) Close() error {
	for {
		select {
		case c := <-s.idle:
			_ = s.client.CloseWithSMTPClient(c)
		default:
			return nil
		}
	}
}

// Permanent reports whether err is the server's final refusal of a message
// (a 5xx reply, or a message Réso could not build): sending it again would
// fail the same way.
func Permanent(err error) bool {
	if errors.Is(err, ErrInvalidMessage) {
		return true
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 500
	}
	return false
}

var _ Sender = (*SMTP)(nil)
