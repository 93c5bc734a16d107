package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestStaticToken(t *testing.T) {
	ctx := context.Background()
	const tok = "static-token-value"
	src := StaticToken(tok)

	steps := []struct {
		name    string
		refused Secret
		wantErr error
	}{
		{"first call", Secret{}, nil},
		{"again", Secret{}, nil},
		{"another token refused", NewSecret("some-other-token"), nil},
		{"its token refused", NewSecret(tok), ErrNoToken},
		{"asked again after the refusal", Secret{}, ErrNoToken},
	}
	for _, s := range steps {
		got, err := src.Token(ctx, s.refused)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.wantErr)
		}
		if err == nil && got.Reveal() != tok {
			t.Fatalf("%s: token differs from the static one", s.name)
		}
		if err != nil && !got.IsZero() {
			t.Fatalf("%s: a token came with the error", s.name)
		}
	}
}

func TestStaticTokenEmpty(t *testing.T) {
	if _, err := StaticToken("").Token(context.Background(), Secret{}); !errors.Is(err, ErrNoToken) {
		t.Errorf("StaticToken(\"\"): err = %v, want ErrNoToken", err)
	}
}

func TestStaticTokenConcurrent(t *testing.T) {
	src := StaticToken("tok")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = src.Token(context.Background(), NewSecret("tok"))
		}()
	}
	wg.Wait()
	if _, err := src.Token(context.Background(), Secret{}); !errors.Is(err, ErrNoToken) {
		t.Errorf("after concurrent refusals: err = %v, want ErrNoToken", err)
	}
}

func TestNextToken(t *testing.T) {
	errFetch := errors.New("token service unavailable")
	fixed := func(tok string, err error) TokenSource {
		return TokenFunc(func(context.Context, Secret) (Secret, error) { return NewSecret(tok), err })
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name    string
		ctx     context.Context
		src     TokenSource
		refused string
		want    string
		wantErr error
	}{
		{"nil source", context.Background(), nil, "", "", ErrNoToken},
		{"fresh token", context.Background(), fixed("new", nil), "old", "new", nil},
		{"first token", context.Background(), fixed("first", nil), "", "first", nil},
		{"same token again", context.Background(), fixed("old", nil), "old", "", ErrNoToken},
		{"empty token", context.Background(), fixed("", nil), "old", "", ErrNoToken},
		{"source says none", context.Background(), fixed("", ErrNoToken), "old", "", ErrNoToken},
		{"source says none, wrapped", context.Background(), fixed("", fmt.Errorf("bot: %w", ErrNoToken)), "", "", ErrNoToken},
		{"source fails", context.Background(), fixed("", errFetch), "", "", errFetch},
		{"context done", cancelled, fixed("new", nil), "", "", context.Canceled},
		{"static refused", context.Background(), StaticToken("s"), "s", "", ErrNoToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NextToken(tc.ctx, tc.src, NewSecret(tc.refused))
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got.Reveal() != tc.want {
				t.Errorf("token mismatch: got %d bytes, want %q", len(got.Reveal()), tc.want)
			}
		})
	}
}

func TestTokenFuncSeesRefused(t *testing.T) {
	var seen Secret
	src := TokenFunc(func(_ context.Context, refused Secret) (Secret, error) {
		seen = refused
		return NewSecret("fresh"), nil
	})
	if _, err := NextToken(context.Background(), src, NewSecret("stale")); err != nil {
		t.Fatal(err)
	}
	if seen.Reveal() != "stale" {
		t.Error("the source was not told which token was refused")
	}
}

// TestTokenNeverPrinted checks the printed forms of what this file hands
// out: sources, errors and tokens.
func TestTokenNeverPrinted(t *testing.T) {
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2VjcmV0LXNpZw"
	src := StaticToken(tok)
	got, err := src.Token(context.Background(), Secret{})
	if err != nil {
		t.Fatal(err)
	}
	_, errAgain := NextToken(context.Background(), src, got)
	_, errURL := AddToken("wss://h/x?token="+tok+"&bad=%zz\x7f", NewSecret(tok), "")
	printed := []string{
		fmt.Sprintf("%v %+v %#v %s %q %x", src, src, src, src, src, src),
		fmt.Sprintf("%v %+v %#v %s %q %x %d", got, got, got, got, got, got, got),
		fmt.Sprintf("%v %+v", ReadToken(got), ReadToken(got)),
		fmt.Sprint(errAgain), fmt.Sprint(errURL),
	}
	for _, p := range printed {
		if strings.Contains(p, tok) || strings.Contains(p, "c2VjcmV0LXNpZw") {
			t.Errorf("printed form shows the token: %s", p)
		}
	}
	if errURL == nil || !errors.Is(errURL, ErrInvalidURL) {
		t.Errorf("AddToken on a broken URL: err = %v, want ErrInvalidURL", errURL)
	}
}
