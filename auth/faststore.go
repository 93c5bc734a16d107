package auth

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// FASTStore keeps XEP-0484 tokens between logins, per account (the bare
// JID, "alice@example.com"). A token is bound to the user agent id it was
// issued to, and the server gives two logins with the same user agent id
// the same Bind 2 resource, so that the second one ends the first: a token
// is therefore held by one Connection at a time. Take hands one out and
// marks it held; Save stores a new or rotated one, held by its caller;
// Release marks it free again (on Disconnect); Delete drops one the server
// refused. The secret is never logged. Implementations must be safe for
// concurrent use.
type FASTStore interface {
	// Take returns a token of account that nobody holds, and marks it held;
	// ok is false when there is none.
	Take(account string) (t FASTToken, ok bool, err error)
	// Save stores t for account, held by the caller, in place of any token
	// with the same user agent.
	Save(account string, t FASTToken) error
	// Release marks the token of account and userAgent as held by nobody.
	Release(account, userAgent string) error
	// Delete drops the token of account and userAgent.
	Delete(account, userAgent string) error
}

// MaxFASTTokens bounds the tokens a store keeps per account: past it, the
// free token that expires first goes.
const MaxFASTTokens = 16

// fastEntry is one stored token and whether somebody holds it.
type fastEntry struct {
	tok  FASTToken
	held bool
}

// fastTokens is the bookkeeping of both stores.
type fastTokens map[string][]fastEntry

func (m fastTokens) take(account string) (FASTToken, bool) {
	for i, e := range m[account] {
		if !e.held {
			m[account][i].held = true
			return e.tok, true
		}
	}
	return FASTToken{}, false
}

func (m fastTokens) save(account string, t FASTToken) {
	es := m[account]
	for i, e := range es {
		if e.tok.UserAgent == t.UserAgent {
			es[i] = fastEntry{tok: t, held: true}
			return
		}
	}
	if len(es) >= MaxFASTTokens {
		// The free token that expires first goes; all held: the oldest.
		victim := -1
		for i, e := range es {
			if !e.held && (victim < 0 || e.tok.Expiry.Before(es[victim].tok.Expiry)) {
				victim = i
			}
		}
		if victim < 0 {
			victim = 0
		}
		es = slices.Delete(es, victim, victim+1)
	}
	m[account] = append(es, fastEntry{tok: t, held: true})
}

// set changes the entry of account and userAgent with f, or drops it when
// f returns false, and reports whether there was one.
func (m fastTokens) set(account, userAgent string, f func(*fastEntry) bool) bool {
	es := m[account]
	for i := range es {
		if es[i].tok.UserAgent != userAgent {
			continue
		}
		if !f(&es[i]) {
			es = slices.Delete(es, i, i+1)
			if len(es) == 0 {
				delete(m, account)
			} else {
				m[account] = es
			}
		}
		return true
	}
	return false
}

func (m fastTokens) release(account, userAgent string) {
	m.set(account, userAgent, func(e *fastEntry) bool { e.held = false; return true })
}

func (m fastTokens) delete(account, userAgent string) bool {
	return m.set(account, userAgent, func(*fastEntry) bool { return false })
}

// MemoryFASTStore is a FASTStore in memory, for the Connections of one
// process: a Connection uses one of its own by default; share one to let a
// new Connection log in with the token an earlier one obtained. The zero
// value is ready to use.
type MemoryFASTStore struct {
	mu     sync.Mutex
	tokens fastTokens
}

// NewMemoryFASTStore returns an empty MemoryFASTStore.
func NewMemoryFASTStore() *MemoryFASTStore { return &MemoryFASTStore{} }

// Take implements FASTStore.
func (s *MemoryFASTStore) Take(account string) (FASTToken, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens.take(account)
	return t, ok, nil
}

// Save implements FASTStore.
func (s *MemoryFASTStore) Save(account string, t FASTToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = fastTokens{}
	}
	s.tokens.save(account, t)
	return nil
}

// Release implements FASTStore.
func (s *MemoryFASTStore) Release(account, userAgent string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.release(account, userAgent)
	return nil
}

// Delete implements FASTStore.
func (s *MemoryFASTStore) Delete(account, userAgent string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.delete(account, userAgent)
	return nil
}

// FileFASTStore is a FASTStore kept in a file, so that tokens outlive the
// process (a CLI's watch that restarts logs in with FAST at once). The file
// holds the tokens in clear text, like an SSH private key without a
// passphrase: it is created with mode 0600, and OpenFileFASTStore refuses a
// file that others may read or write. Each change is written to a temporary
// file in the same directory, then renamed over the file. Which tokens are
// held is known to this process only: two processes must not share a file
// (each would log in with the same tokens, and the server would give both
// the same resource).
type FileFASTStore struct {
	mu     sync.Mutex
	path   string
	tokens fastTokens
}

// fastFile is the JSON form of a FileFASTStore.
type fastFile struct {
	Version  int                        `json:"version"`
	Accounts map[string][]fastFileToken `json:"accounts"`
}

type fastFileToken struct {
	Mechanism string    `json:"mechanism"`
	Token     string    `json:"token"`
	Expiry    time.Time `json:"expiry,omitzero"`
	UserAgent string    `json:"user_agent"`
}

// fastFileVersion is the version of the file format.
const fastFileVersion = 1

// maxFASTFile bounds the size of a store file read.
const maxFASTFile = 1 << 20

// ErrFASTStoreFile reports a store file that cannot be used as it is.
var ErrFASTStoreFile = errors.New("auth: FAST token file not usable")

// OpenFileFASTStore opens the token file at path, or starts an empty store
// when there is no file yet (it is created at the first token). A file that
// others may read or write (mode & 0077), is not a regular file, is larger
// than 1 MiB or is not valid gives an error wrapping ErrFASTStoreFile.
func OpenFileFASTStore(path string) (*FileFASTStore, error) {
	s := &FileFASTStore{path: path, tokens: fastTokens{}}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("auth: open FAST token file: %w", err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrFASTStoreFile, path)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("%w: %s may be read or written by others (mode %04o): chmod 600 it", ErrFASTStoreFile, path, fi.Mode().Perm())
	case fi.Size() > maxFASTFile:
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrFASTStoreFile, path, maxFASTFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: open FAST token file: %w", err)
	}
	var f fastFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFASTStoreFile, path, err)
	}
	if f.Version != fastFileVersion {
		return nil, fmt.Errorf("%w: %s: version %d, want %d", ErrFASTStoreFile, path, f.Version, fastFileVersion)
	}
	for account, toks := range f.Accounts {
		for _, t := range toks {
			if t.Token == "" || t.UserAgent == "" {
				continue
			}
			s.tokens[account] = append(s.tokens[account], fastEntry{tok: FASTToken{
				Mechanism: t.Mechanism, Secret: NewSecret(t.Token), Expiry: t.Expiry, UserAgent: t.UserAgent,
			}})
		}
		if len(s.tokens[account]) > MaxFASTTokens {
			es := s.tokens[account]
			slices.SortFunc(es, func(a, b fastEntry) int { return b.tok.Expiry.Compare(a.tok.Expiry) })
			s.tokens[account] = es[:MaxFASTTokens]
		}
	}
	return s, nil
}

// Path returns the path of the file.
func (s *FileFASTStore) Path() string { return s.path }

// Take implements FASTStore.
func (s *FileFASTStore) Take(account string) (FASTToken, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens.take(account)
	return t, ok, nil
}

// Save implements FASTStore; the file is written before it returns.
func (s *FileFASTStore) Save(account string, t FASTToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.save(account, t)
	return s.writeLocked()
}

// Release implements FASTStore.
func (s *FileFASTStore) Release(account, userAgent string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.release(account, userAgent)
	return nil
}

// Delete implements FASTStore; the file is written before it returns.
func (s *FileFASTStore) Delete(account, userAgent string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tokens.delete(account, userAgent) {
		return nil
	}
	return s.writeLocked()
}

// writeLocked replaces the file with the tokens, through a temporary file
// of mode 0600 in the same directory.
func (s *FileFASTStore) writeLocked() error {
	f := fastFile{Version: fastFileVersion, Accounts: map[string][]fastFileToken{}}
	for account, es := range s.tokens {
		for _, e := range es {
			f.Accounts[account] = append(f.Accounts[account], fastFileToken{
				Mechanism: e.tok.Mechanism, Token: e.tok.Secret.Reveal(), Expiry: e.tok.Expiry.UTC(), UserAgent: e.tok.UserAgent,
			})
		}
		slices.SortFunc(f.Accounts[account], func(a, b fastFileToken) int { return cmp.Compare(a.UserAgent, b.UserAgent) })
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: write FAST token file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), "."+filepath.Base(s.path)+".*")
	if err != nil {
		return fmt.Errorf("auth: write FAST token file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing left to remove
	// os.CreateTemp makes the file with mode 0600 already; say so anyway.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write FAST token file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write FAST token file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write FAST token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("auth: write FAST token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("auth: write FAST token file: %w", err)
	}
	return nil
}
