package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// Users returns the demo's users, one per role, from the tokens the
// seeding saved in dir (each token names its user): the console's
// sign-in page offers them. It returns an empty list when dir holds no
// saved tokens, and the file's or the service's error.
func Users(ctx context.Context, svc *app.Service, dir string) ([]Token, error) {
	raw, err := os.ReadFile(filepath.Join(dir, TokensFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("demo users: %w", err)
	}
	var out []Token
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		tok := f[len(f)-1]
		p, err := svc.Authenticate(ctx, tok)
		if errors.Is(err, app.ErrUnauthenticated) {
			continue // a token of another store: not a user here
		}
		if err != nil {
			return nil, fmt.Errorf("demo users: %w", err)
		}
		out = append(out, Token{Role: domain.Role(f[0]), Name: p.Name, UserID: p.UserID, Token: tok})
	}
	return out, sc.Err()
}
