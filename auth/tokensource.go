package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrNoToken reports that a TokenSource has no token to offer: none at all,
// or none other than the one last refused.
var ErrNoToken = errors.New("auth: no token available")

// TokenSource supplies tokens. refused is the token last refused (by the
// client's expiry check or by the server), zero when none was; a source must
// then return a different token, or ErrNoToken. The client never retries
// with a token the server already refused, so a source that cannot do better
// ends the attempt. Token may block (to fetch a token over the network) and
// must return when ctx ends. A TokenSource may be called from several
// goroutines.
type TokenSource interface {
	Token(ctx context.Context, refused Secret) (Secret, error)
}

// TokenFunc adapts a function to TokenSource, for a bot that fetches fresh
// tokens itself.
type TokenFunc func(ctx context.Context, refused Secret) (Secret, error)

// Token calls f(ctx, refused).
func (f TokenFunc) Token(ctx context.Context, refused Secret) (Secret, error) {
	return f(ctx, refused)
}

// StaticToken returns a TokenSource that always offers tok, until tok is
// refused: from then on (and for an empty tok) it returns ErrNoToken.
func StaticToken(tok string) TokenSource {
	return &staticToken{tok: NewSecret(tok)}
}

type staticToken struct {
	mu      sync.Mutex
	tok     Secret
	refused bool
}

func (s *staticToken) Token(_ context.Context, refused Secret) (Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !refused.IsZero() && refused.Equal(s.tok) {
		s.refused = true
	}
	if s.refused || s.tok.IsZero() {
		return Secret{}, ErrNoToken
	}
	return s.tok, nil
}

// String keeps the token out of %v of the source itself.
func (s *staticToken) String() string { return "auth.StaticToken(REDACTED)" }

// NextToken asks src for a token and holds it to the TokenSource contract: a
// nil src, an empty token, or the refused token handed back again give
// ErrNoToken; another error from src is wrapped (and matches ErrNoToken
// with errors.Is when src said so). The session layer calls it before every
// connect and resume, and after a refusal.
func NextToken(ctx context.Context, src TokenSource, refused Secret) (Secret, error) {
	if src == nil {
		return Secret{}, ErrNoToken
	}
	if err := ctx.Err(); err != nil {
		return Secret{}, fmt.Errorf("auth: get token: %w", err)
	}
	tok, err := src.Token(ctx, refused)
	switch {
	case errors.Is(err, ErrNoToken):
		return Secret{}, err
	case err != nil:
		return Secret{}, fmt.Errorf("auth: get token: %w", err)
	case tok.IsZero():
		return Secret{}, fmt.Errorf("%w: the token source returned an empty token", ErrNoToken)
	case !refused.IsZero() && tok.Equal(refused):
		return Secret{}, fmt.Errorf("%w: the token source returned the refused token again", ErrNoToken)
	}
	return tok, nil
}
