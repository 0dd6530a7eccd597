package mail

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Reading the outbox back, for the admins' page of a server without a
// mail server: each message's recipient, subject and date, and its plain
// text. Nothing here renders the HTML alternative: a reader shows text.

// OutboxMessage is a message of the outbox as read back.
type OutboxMessage struct {
	Name    string // the file's name: what Read takes
	To      Address
	Subject string
	Date    time.Time // the Date header (the file's time when absent)
	Size    int64
	Text    string // the plain-text body; filled by Read only
}

// ErrNoMessage means a name is no message of the outbox.
var ErrNoMessage = errors.New("no such message in the outbox")

// maxOutboxMessage bounds what Read reads of one file: Réso's mails are a
// few kilobytes.
const maxOutboxMessage = 1 << 20

// outboxName is the name Send gives a message: 24 hex digits and .eml.
var outboxName = regexp.MustCompile(`^[0-9a-f]{24}\.eml$`)

// Messages returns the headers of the outbox's newest messages (at most
// limit; 0: all), newest first, and how many messages it holds. A file
// that cannot be read as a message is listed with its name and time only.
// It returns the file system's error.
func (o *Outbox) Messages(limit int) ([]OutboxMessage, int, error) {
	files, err := o.List()
	if err != nil {
		return nil, 0, err
	}
	total := len(files)
	if limit > 0 && len(files) > limit {
		files = files[:limit]
	}
	out := make([]OutboxMessage, 0, len(files))
	for _, f := range files {
		m := OutboxMessage{Name: f.Name, Size: f.Size, Date: f.Written}
		if fh, err := os.Open(filepath.Join(o.dir, f.Name)); err == nil {
			if msg, err := mail.ReadMessage(io.LimitReader(fh, maxOutboxMessage)); err == nil {
				readHeaders(&m, msg.Header)
			}
			fh.Close()
		}
		out = append(out, m)
	}
	return out, total, nil
}

// Read returns the message name (a name Messages listed) with its plain
// text. It returns ErrNoMessage for a name that is not an outbox message
// (a path, another file), and the file system's or the parser's error.
func (o *Outbox) Read(name string) (OutboxMessage, error) {
	if !outboxName.MatchString(name) {
		return OutboxMessage{}, fmt.Errorf("%w: %q", ErrNoMessage, name)
	}
	path := filepath.Join(o.dir, name)
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return OutboxMessage{}, fmt.Errorf("%w: %s", ErrNoMessage, name)
	}
	if err != nil {
		return OutboxMessage{}, fmt.Errorf("outbox: %w", err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return OutboxMessage{}, fmt.Errorf("outbox: %w", err)
	}
	m := OutboxMessage{Name: name, Size: info.Size(), Date: info.ModTime().UTC()}
	msg, err := mail.ReadMessage(io.LimitReader(fh, maxOutboxMessage))
	if err != nil {
		return OutboxMessage{}, fmt.Errorf("outbox: read %s: %w", name, err)
	}
	readHeaders(&m, msg.Header)
	text, err := plainText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return OutboxMessage{}, fmt.Errorf("outbox: read %s: %w", name, err)
	}
	m.Text = text
	return m, nil
}

// readHeaders fills m's recipient, subject and date from h, decoding
// RFC 2047 words.
func readHeaders(m *OutboxMessage, h mail.Header) {
	if a, err := mail.ParseAddress(h.Get("To")); err == nil {
		m.To = Address{Name: a.Name, Email: a.Address}
	} else {
		m.To = Address{Email: h.Get("To")}
	}
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(h.Get("Subject")); err == nil {
		m.Subject = s
	} else {
		m.Subject = h.Get("Subject")
	}
	if d, err := h.Date(); err == nil {
		m.Date = d.UTC()
	}
}

// plainText is the text/plain part of a body of contentType: the body
// itself, or the first text/plain part of a multipart one (nested
// multiparts included). A message without one gives "".
func plainText(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "text/plain", nil
	}
	if err != nil {
		return "", fmt.Errorf("content type: %w", err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return "", nil
			}
			if err != nil {
				return "", fmt.Errorf("part: %w", err)
			}
			t, err := plainText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if err != nil || t != "" {
				return t, err
			}
		}
	}
	if mt != "text/plain" {
		return "", nil
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // line breaks are skipped
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
