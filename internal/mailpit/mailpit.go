// Package mailpit runs Mailpit (github.com/axllent/mailpit, a real SMTP
// server with an HTTP API) on free local ports and reads what it received,
// for tests (through internal/mailtest) and benchmarks. It never downloads
// anything: the mailpit binary must be on PATH or in $GOPATH/bin, where
// `go install github.com/axllent/mailpit@v1.33.1` puts it.
package mailpit

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
	"time"
)

// Version is the Mailpit release Réso is tested against.
const Version = "v1.33.1"

// ErrNotFound means no mailpit binary was found.
var ErrNotFound = errors.New("mailpit not found on PATH or in $GOPATH/bin (go install github.com/axllent/mailpit@" + Version + ")")

// Binary returns the path of the mailpit binary, or ErrNotFound.
func Binary() (string, error) {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
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
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Options adjust Start.
type Options struct {
	// Dir holds Mailpit's database (and certificate); required.
	Dir string
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
	// Stderr receives Mailpit's errors (nil: discarded).
	Stderr io.Writer
}

// Process is a running Mailpit.
type Process struct {
	Client
	bin, dir, smtp string
	extra          []string
	allowed        string
	pool           *x509.CertPool
	stderr         io.Writer
	cmd            *exec.Cmd
	waitErr        chan error
}

// Start runs Mailpit on free local ports and waits until it answers.
func Start(opts Options) (*Process, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		return nil, errors.New("mailpit: Options.Dir is required")
	}
	smtpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &Process{Client: Client{API: "http://" + apiAddr}, bin: bin, dir: opts.Dir, smtp: smtpAddr,
		allowed: opts.AllowedRecipients, stderr: opts.Stderr}
	if p.stderr == nil {
		p.stderr = io.Discard
	}
	if opts.Max <= 0 {
		opts.Max = 10000
	}
	p.extra = []string{"--max", fmt.Sprint(opts.Max)}
	if opts.Auth {
		p.extra = append(p.extra, "--smtp-auth-accept-any")
		if !opts.TLS {
			p.extra = append(p.extra, "--smtp-auth-allow-insecure")
		}
	}
	if opts.TLS {
		cert, key, err := p.selfSigned()
		if err != nil {
			return nil, err
		}
		p.extra = append(p.extra, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls")
	}
	if err := p.Restart(); err != nil {
		return nil, err
	}
	return p, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths; p.pool trusts the certificate.
func (p *Process) selfSigned() (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
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
		return "", "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", err
	}
	p.pool = x509.NewCertPool()
	p.pool.AddCert(cert)
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(p.dir, "cert.pem"), filepath.Join(p.dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// CertPool trusts the server's certificate (nil without Options.TLS).
func (p *Process) CertPool() *x509.CertPool { return p.pool }

// SMTPAddr is the SMTP host:port.
func (p *Process) SMTPAddr() string { return p.smtp }

// SMTPURL is an smtp:// URL of the server, with credentials when given.
func (p *Process) SMTPURL(user, pass string) string {
	u := url.URL{Scheme: "smtp", Host: p.smtp}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u.String()
}

// Stop ends Mailpit (the SMTP port then refuses connections). Its
// messages stay in its database file for Restart.
func (p *Process) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.waitErr
	p.cmd = nil
}

// AllowRecipients changes Options.AllowedRecipients ("" allows all) for
// the next Restart.
func (p *Process) AllowRecipients(re string) { p.allowed = re }

// Restart starts Mailpit again on the same ports and database, and waits
// (30 s at most) until its API and SMTP port answer.
func (p *Process) Restart() error {
	if p.cmd != nil {
		return nil
	}
	args := append([]string{"--smtp", p.smtp, "--listen", strings.TrimPrefix(p.API, "http://"),
		"--database", filepath.Join(p.dir, "mailpit.db"), "--quiet", "--disable-version-check",
		"--smtp-disable-rdns"}, p.extra...)
	if p.allowed != "" {
		args = append(args, "--smtp-allowed-recipients", p.allowed)
	}
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mailpit: %w", err)
	}
	p.cmd, p.waitErr = cmd, make(chan error, 1)
	go func() { p.waitErr <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.Count(); err == nil {
			if c, err := net.DialTimeout("tcp", p.smtp, time.Second); err == nil {
				c.Close()
				return nil
			}
		}
		select {
		case err := <-p.waitErr:
			p.cmd = nil
			return fmt.Errorf("mailpit exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			return errors.New("mailpit did not answer within 30 s")
		}
		time.Sleep(20 * time.Millisecond) // polling a port that is not open yet: nothing to wait on
	}
}

// Client reads Mailpit's HTTP API.
type Client struct {
	API string // http://host:port
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

func (c Client) get(path string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.API+path, nil)
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
func (c Client) Count() (int, error) {
	var body struct {
		Total int `json:"messages_count"`
	}
	if err := c.get("/api/v1/messages?limit=1", &body); err != nil {
		return 0, err
	}
	return body.Total, nil
}

// Messages lists every message, oldest first.
func (c Client) Messages() ([]Summary, error) {
	var out []Summary
	for start := 0; ; {
		var body struct {
			Total    int       `json:"messages_count"`
			Messages []Summary `json:"messages"`
		}
		if err := c.get(fmt.Sprintf("/api/v1/messages?start=%d&limit=500", start), &body); err != nil {
			return nil, fmt.Errorf("list mailpit messages: %w", err)
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
	return out, nil
}

// Message reads one message in full.
func (c Client) Message(id string) (Message, error) {
	var m Message
	if err := c.get("/api/v1/message/"+url.PathEscape(id), &m); err != nil {
		return Message{}, fmt.Errorf("read mailpit message %s: %w", id, err)
	}
	return m, nil
}
