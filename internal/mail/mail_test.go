package mail

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/mailtest"
)

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want SMTPConfig
		err  bool
	}{
		{in: "smtp://127.0.0.1:1025", want: SMTPConfig{Host: "127.0.0.1", Port: 1025}},
		{in: "smtp://mail.example.fr", want: SMTPConfig{Host: "mail.example.fr", Port: 25}},
		{in: "smtp://user:p%40ss@mail.example.fr:587?tls=required", want: SMTPConfig{Host: "mail.example.fr", Port: 587, Username: "user", Password: "p@ss", RequireTLS: true}},
		{in: "smtps://u:p@mail.example.fr", want: SMTPConfig{Host: "mail.example.fr", Port: 465, Username: "u", Password: "p", ImplicitTLS: true}},
		{in: "http://mail.example.fr", err: true},
		{in: "smtp://", err: true},
		{in: "smtp://host:0", err: true},
		{in: "smtp://host:99999", err: true},
		{in: "smtp://host?tls=maybe", err: true},
		{in: "smtp://user:secret@host:bad", err: true},
	} {
		got, err := ParseSMTPURL(tc.in)
		if tc.err {
			if !errors.Is(err, ErrConfig) {
				t.Errorf("ParseSMTPURL(%q) error %v, want ErrConfig", tc.in, err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseSMTPURL(%q) error shows the password: %v", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseAddress(t *testing.T) {
	t.Parallel()
	a, err := ParseAddress("Réso <ne-pas-repondre@reso.test>")
	if err != nil || a.Name != "Réso" || a.Email != "ne-pas-repondre@reso.test" {
		t.Fatalf("ParseAddress = %+v, %v", a, err)
	}
	if _, err := ParseAddress("not an address"); err == nil {
		t.Fatal("ParseAddress accepted garbage")
	}
}

func message(id, to string) Message {
	return Message{
		From: Address{Name: "Réso", Email: "ne-pas-repondre@reso.test"}, To: Address{Name: "Chloé Nord", Email: to},
		Subject: "Un besoin vous est adressé : « Boulangerie »", ID: id,
		Text:    "Bonjour,\nUn besoin vous attend : http://reso.test/besoins/1\n",
		HTML:    `<p>Bonjour,</p><p><a href="http://reso.test/besoins/1">Voir le besoin</a></p>`,
		Headers: map[string]string{"X-Reso-Kind": "forwarded"},
	}
}

func TestSMTPDeliversToMailpit(t *testing.T) {
	t.Parallel()
	// STARTTLS and authentication, as with a real relay.
	mp := mailtest.Start(t, mailtest.Options{Auth: true, TLS: true})
	cfg, err := ParseSMTPURL(mp.SMTPURL("reso", "secret") + "?tls=required")
	if err != nil {
		t.Fatal(err)
	}
	cfg.RootCAs = mp.CertPool()
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i, to := range []string{"chloe@referents.test", "david@referents.test"} {
		if err := s.Send(ctx, message("delivery-"+string(rune('a'+i))+"@reso", to), nil); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
	}
	got := mp.WaitCount(t, 2, 10*time.Second)
	if len(got) != 2 || got[0].To[0].Address != "chloe@referents.test" || got[1].To[0].Address != "david@referents.test" {
		t.Fatalf("mailpit got %+v", got)
	}
	m := mp.Message(t, got[0].ID)
	if m.Subject != "Un besoin vous est adressé : « Boulangerie »" || m.MessageID != "delivery-a@reso" ||
		!strings.Contains(m.Text, "http://reso.test/besoins/1") || !strings.Contains(m.HTML, `href="http://reso.test/besoins/1"`) ||
		m.From.Name != "Réso" || m.To[0].Name != "Chloé Nord" {
		t.Fatalf("message as received: %+v", m)
	}

	// Mailpit restarts: the pooled connection is dead, the sender dials anew.
	mp.Stop()
	mp.Restart()
	if err := s.Send(ctx, message("delivery-c@reso", "emma@referents.test"), nil); err != nil {
		t.Fatalf("send after the server restarted: %v", err)
	}
	mp.WaitCount(t, 3, 10*time.Second)
}

func TestSMTPDownIsATemporaryFailure(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t, mailtest.Options{})
	mp.Stop()
	cfg, _ := ParseSMTPURL("smtp://" + mp.SMTPAddr())
	cfg.Timeout = 2 * time.Second
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), message("x@reso", "chloe@referents.test"), nil)
	if err == nil || Permanent(err) {
		t.Fatalf("send to a stopped server: %v (permanent %v), want a temporary error", err, Permanent(err))
	}
	mp.Restart()
	if err := s.Send(context.Background(), message("x@reso", "chloe@referents.test"), nil); err != nil {
		t.Fatalf("send once the server is back: %v", err)
	}
}

func TestInvalidMessageIsPermanent(t *testing.T) {
	t.Parallel()
	o, err := NewOutbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	err = o.Send(context.Background(), Message{From: Address{Email: "a@b.test"}, Subject: "x"}, nil)
	if !errors.Is(err, ErrInvalidMessage) || !Permanent(err) {
		t.Fatalf("message without recipient: %v", err)
	}
}

func TestOutboxWritesEachMessageOnce(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "outbox")
	o, err := NewOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		if err := o.Send(ctx, message("same@reso", "chloe@referents.test"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Send(ctx, message("other@reso", "david@referents.test"), nil); err != nil {
		t.Fatal(err)
	}
	files, err := o.List()
	if err != nil || len(files) != 2 {
		t.Fatalf("outbox lists %+v, %v; want 2 files", files, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, files[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Message-ID: <", "text/plain", "text/html", "X-Reso-Kind: forwarded", "Subject:"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("eml lacks %q:\n%s", want, b)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".eml-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// commit runs before the server keeps the message, and a failing commit
// leaves the server with nothing.
func TestSMTPCommitsBeforeTheFinalDot(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t, mailtest.Options{})
	cfg, _ := ParseSMTPURL(mp.SMTPURL("", ""))
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	refused := errors.New("not now")
	err = s.Send(ctx, message("a@reso", "chloe@referents.test"), func() error { return refused })
	if !errors.Is(err, ErrAborted) || !errors.Is(err, refused) {
		t.Fatalf("aborted send: %v", err)
	}
	var before int
	err = s.Send(ctx, message("b@reso", "david@referents.test"), func() error {
		var err error
		before, err = mp.Count()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := mp.WaitCount(t, 1, 10*time.Second)
	if before != 0 || len(got) != 1 || got[0].To[0].Address != "david@referents.test" {
		t.Fatalf("the server held %d messages at commit; after: %+v", before, got)
	}
}

// A recipient the server refuses for good is a permanent error.
func TestRefusedRecipientIsPermanent(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t, mailtest.Options{AllowedRecipients: `^chloe@`})
	cfg, _ := ParseSMTPURL(mp.SMTPURL("", ""))
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Send(context.Background(), message("c@reso", "david@referents.test"), nil)
	if err == nil || !Permanent(err) {
		t.Fatalf("refused recipient: %v (permanent %v)", err, Permanent(err))
	}
	if err := s.Send(context.Background(), message("d@reso", "chloe@referents.test"), nil); err != nil {
		t.Fatalf("allowed recipient after a refusal: %v", err)
	}
}

// The outbox reads its messages back: recipient, subject and date decoded,
// the plain text without its transfer encoding, the newest first; a name
// that is no message of the outbox reads nothing.
func TestOutboxReadsMessagesBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o, err := NewOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := message("first@reso", "chloe@referents.test")
	first.Subject = "Un besoin « <script>alert(1)</script> »"
	first.Text = "Bonjour <b>Chloé</b>,\nUne ligne très longue qui dépasse les soixante-seize caractères que le quoted-printable permet par ligne.\n"
	first.Date = time.Date(2026, 3, 12, 13, 5, 0, 0, time.UTC)
	second := message("second@reso", "david@referents.test")
	second.Date = first.Date.Add(time.Hour)
	for _, m := range []Message{first, second} {
		if err := o.Send(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The listing is by the files' times: make them distinct and ordered.
	files, _ := o.List()
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(dir, f.Name))
		at := first.Date
		if strings.Contains(string(b), "second@reso") {
			at = second.Date
		}
		if err := os.Chtimes(filepath.Join(dir, f.Name), at, at); err != nil {
			t.Fatal(err)
		}
	}
	msgs, total, err := o.Messages(1)
	if err != nil || total != 2 || len(msgs) != 1 {
		t.Fatalf("Messages(1) = %+v, %d, %v", msgs, total, err)
	}
	if msgs[0].To.Email != "david@referents.test" || !msgs[0].Date.Equal(second.Date) || msgs[0].Text != "" {
		t.Errorf("newest message %+v", msgs[0])
	}
	msgs, _, _ = o.Messages(0)
	m, err := o.Read(msgs[1].Name)
	if err != nil {
		t.Fatal(err)
	}
	if m.To != (Address{Name: "Chloé Nord", Email: "chloe@referents.test"}) || m.Subject != first.Subject || !m.Date.Equal(first.Date) ||
		m.Text != first.Text {
		t.Errorf("read back %+v", m)
	}
	for _, name := range []string{"../outbox.eml", "0123456789abcdef01234567.eml", ".eml-123", "x"} {
		if _, err := o.Read(name); !errors.Is(err, ErrNoMessage) {
			t.Errorf("Read(%q): %v", name, err)
		}
	}
}
