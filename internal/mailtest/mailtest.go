// Package mailtest runs Mailpit (github.com/axllent/mailpit, a real SMTP
// server with an HTTP API) for tests, on free local ports, and reads what
// it received.
//
// Tests look for the mailpit binary on PATH, then in $GOPATH/bin (where
// `go install github.com/axllent/mailpit@v1.33.1` puts it). When it is
// missing they skip, unless CI is set: then they fail.
package mailtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Version is the Mailpit release tests are written against (.ci/run
// installs it).
const Version = "v1.33.1"

// Binary returns the path of the mailpit binary, or "" when none is found.
func Binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// MustBinary returns the mailpit binary, skipping t when there is none
// (failing under CI).
func MustBinary(t testing.TB) string {
	t.Helper()
	p := Binary()
	if p == "" {
		msg := "mailpit not found on PATH or in $GOPATH/bin (go install github.com/axllent/mailpit@" + Version + ")"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// Server is a running Mailpit.
type Server struct {
	t       testing.TB
	bin     string
	dir     string
	smtp    string // host:port
	api     string // http://host:port
	extra   []string
	allowed string
	pool    *x509.CertPool
	cmd     *exec.Cmd
	waitErr chan error
}

// Options adjust Start.
type Options struct {
	// Auth makes the server accept any username and password (over a
	// connection without TLS too, unless TLS is set).
	Auth bool
	// TLS gives the server a self-signed certificate for 127.0.0.1 and
	// requires STARTTLS; CertPool trusts it.
	TLS bool
	// Max is how many messages Mailpit keeps (default 10000).
	Max int
	// AllowedRecipients, when set, is a regular expression: Mailpit refuses
	// other recipients for good (a 550 reply).
	AllowedRecipients string
}

// Start runs Mailpit on free local ports until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, bin: MustBinary(t), dir: t.TempDir()}
	s.smtp, s.api = freeAddr(t), "http://"+freeAddr(t)
	if opts.Max <= 0 {
		opts.Max = 10000
	}
	s.extra = []string{"--max", fmt.Sprint(opts.Max)}
	s.allowed = opts.AllowedRecipients
	if opts.Auth {
		s.extra = append(s.extra, "--smtp-auth-accept-any")
		if !opts.TLS {
			s.extra = append(s.extra, "--smtp-auth-allow-insecure")
		}
	}
	if opts.TLS {
		cert, key := s.selfSigned(t)
		s.extra = append(s.extra, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls")
	}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths; s.pool trusts the certificate.
func (s *Server) selfSigned(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s.pool = x509.NewCertPool()
	s.pool.AddCert(cert)
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(s.dir, "cert.pem"), filepath.Join(s.dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// CertPool trusts the server's certificate (nil without Options.TLS).
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// SMTPAddr is the SMTP host:port.
func (s *Server) SMTPAddr() string { return s.smtp }

// SMTPURL is an smtp:// URL of the server, with credentials when given.
func (s *Server) SMTPURL(user, pass string) string {
	u := url.URL{Scheme: "smtp", Host: s.smtp}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u.String()
}

// Stop ends Mailpit (the SMTP port then refuses connections). Its
// messages stay in its database file for Restart.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.waitErr
	s.cmd = nil
}

// AllowRecipients changes Options.AllowedRecipients ("" allows all) for
// the next Restart.
func (s *Server) AllowRecipients(re string) { s.allowed = re }

// Restart starts Mailpit again on the same ports and database, and waits
// until its API and SMTP port answer.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		return
	}
	args := append([]string{"--smtp", s.smtp, "--listen", strings.TrimPrefix(s.api, "http://"),
		"--database", filepath.Join(s.dir, "mailpit.db"), "--quiet", "--disable-version-check",
		"--smtp-disable-rdns"}, s.extra...)
	if s.allowed != "" {
		args = append(args, "--smtp-allowed-recipients", s.allowed)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start mailpit: %v", err)
	}
	s.cmd, s.waitErr = cmd, make(chan error, 1)
	go func() { s.waitErr <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := s.Count(); err == nil {
			if c, err := net.DialTimeout("tcp", s.smtp, time.Second); err == nil {
				c.Close()
				return
			}
		}
		select {
		case err := <-s.waitErr:
			s.t.Fatalf("mailpit exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatal("mailpit did not answer within 30 s")
		}
		time.Sleep(20 * time.Millisecond) // polling a port that is not open yet: nothing to wait on
	}
}

// Address is a mailbox in Mailpit's API.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message in Mailpit's list.
type Summary struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
	Created   time.Time `json:"Created"`
}

// Message is a message in full.
type Message struct {
	Summary
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

func (s *Server) get(path string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.api+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("mailpit %s: %s %s", path, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Count is how many messages Mailpit holds.
func (s *Server) Count() (int, error) {
	var body struct {
		Total int `json:"messages_count"`
	}
	if err := s.get("/api/v1/messages?limit=1", &body); err != nil {
		return 0, err
	}
	return body.Total, nil
}

// Messages lists every message, oldest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	var out []Summary
	for start := 0; ; {
		var body struct {
			Total    int       `json:"messages_count"`
			Messages []Summary `json:"messages"`
		}
		if err := s.get(fmt.Sprintf("/api/v1/messages?start=%d&limit=500", start), &body); err != nil {
			t.Fatalf("list mailpit messages: %v", err)
		}
		out = append(out, body.Messages...)
		start += len(body.Messages)
		if len(body.Messages) == 0 || start >= body.Total {
			break
		}
	}
	// The API lists newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Message reads one message in full.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	if err := s.get("/api/v1/message/"+url.PathEscape(id), &m); err != nil {
		t.Fatalf("read mailpit message %s: %v", id, err)
	}
	return m
}

// ErrTimeout is WaitCount's error when the count is not reached in time.
var ErrTimeout = errors.New("mailpit: timed out")

// WaitCount polls until Mailpit holds at least n messages, and returns
// them. It fails t after timeout.
func (s *Server) WaitCount(t testing.TB, n int, timeout time.Duration) []Summary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := s.Count()
		if err == nil && c >= n {
			return s.Messages(t)
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit holds %d messages (err %v) after %s, want %d", c, err, timeout, n)
		}
		time.Sleep(25 * time.Millisecond) // Mailpit's API has no way to wait on a message
	}
}
