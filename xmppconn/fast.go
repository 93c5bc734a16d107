package xmppconn

import (
	"log/slog"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/auth"
)

// FASTConfig configures XEP-0484 (Fast Authentication Streamlining Tokens)
// inside SASL2. When the server offers FAST (Prosody 13 with
// mod_sasl2_fast does, to a stream whose header names the account in its
// from, which the client sends over wss:// and https:// as RFC 6120 §4.7.1
// asks), a login with the password asks for a token, and
// the next login — a reconnection, or another Connection with the same
// Store — presents the token instead: no PBKDF2, and one round trip for
// authentication, Bind 2 and stream management together. The server may
// send a new token at any login (rotation); it replaces the old one in the
// Store. A token the server refuses, or that expired, is dropped, and the
// same attempt logs in with the password and asks for a new one: nothing
// is reported but a debug log. The token is a secret like the password:
// no event, error or log shows it. The HT mechanism binds the TLS channel
// when the server advertises a channel-binding type (XEP-0440) the
// connection can give; Config.Mechanisms does not name HT mechanisms, but
// when it allows only SCRAM-*-PLUS, a token is used only with channel
// binding too (see auth.ChooseFAST).
//
// The zero value uses FAST whenever the server offers it, with tokens kept
// in memory for the Connection.
type FASTConfig struct {
	// Disabled keeps the client from asking for or using tokens.
	Disabled bool
	// Store keeps the tokens between logins. nil: an auth.MemoryFASTStore
	// of the Connection's own. Share one store between the Connections of
	// a process, or use an auth.FileFASTStore to keep tokens across
	// restarts.
	Store auth.FASTStore
}

// fastState is a Connection's side of XEP-0484: the token it holds and the
// XEP-0388 user agent id its SASL2 logins present. A token is bound to the
// user agent id it was issued to, so a Connection that takes a stored
// token adopts its user agent id for the rest of its life.
type fastState struct {
	mu      sync.Mutex
	store   auth.FASTStore
	log     *slog.Logger
	agentID string         // the user agent id of SASL2 logins
	account string         // the account of tok
	tok     auth.FASTToken // the token held; a zero Secret: none
	asked   bool           // the store was asked for a token since Connect
	refused auth.Secret    // the last token dropped, for redaction
}

// init sets the store and the Connection's own user agent id.
func (s *fastState) init(store auth.FASTStore, agentID string, log *slog.Logger) {
	s.store, s.agentID, s.log = store, agentID, log
}

// agent returns the user agent id of the next SASL2 login.
func (s *fastState) agent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agentID
}

// Logs are written without s.mu held: the Connection's logger redacts
// every record, with redactIn.

// token returns the token to log in to account with: the one held, or,
// once per Connect, one taken from the store (whose user agent id the
// Connection adopts). Tokens found expired at now (with skew) are dropped.
func (s *fastState) token(account string, now time.Time, skew time.Duration) (auth.FASTToken, bool) {
	var errs []error
	defer func() { s.logErrors(errs) }()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return auth.FASTToken{}, false
	}
	if s.tok.Secret.IsZero() && !s.asked {
		s.asked = true
		for range auth.MaxFASTTokens {
			t, ok, err := s.store.Take(account)
			errs = append(errs, err)
			if !ok {
				break
			}
			if t.Expired(now, skew) || t.UserAgent == "" {
				errs = append(errs, s.store.Delete(account, t.UserAgent))
				continue
			}
			s.tok, s.account, s.agentID = t, account, t.UserAgent
			break
		}
	}
	if s.tok.Secret.IsZero() || s.account != account {
		return auth.FASTToken{}, false
	}
	if s.tok.Expired(now, skew) {
		errs = append(errs, s.dropLocked())
		return auth.FASTToken{}, false
	}
	return s.tok, true
}

// drop forgets the held token, which the server refused, and deletes it
// from the store.
func (s *fastState) drop() {
	s.mu.Lock()
	err := s.dropLocked()
	s.mu.Unlock()
	s.logErrors([]error{err})
}

func (s *fastState) dropLocked() error {
	if s.tok.Secret.IsZero() {
		return nil
	}
	err := s.store.Delete(s.account, s.tok.UserAgent)
	s.refused, s.tok = s.tok.Secret, auth.FASTToken{}
	return err
}

// save keeps a token the server issued for account (requested, or a
// rotation of the one held), bound to the current user agent id.
func (s *fastState) save(account string, t auth.FASTToken) {
	s.mu.Lock()
	if s.store == nil {
		s.mu.Unlock()
		return
	}
	t.UserAgent = s.agentID
	if !s.tok.Secret.IsZero() && !s.tok.Secret.Equal(t.Secret) {
		s.refused = s.tok.Secret // still redacted: the server may echo it
	}
	s.tok, s.account = t, account
	err := s.store.Save(account, t)
	s.mu.Unlock()
	s.logErrors([]error{err})
	s.log.Debug("xmppconn: FAST token received", "token", t)
}

// release hands the held token back to the store for another Connection
// (Disconnect); the next Connect asks the store again.
func (s *fastState) release() {
	var err error
	s.mu.Lock()
	if s.store != nil && !s.tok.Secret.IsZero() {
		err = s.store.Release(s.account, s.tok.UserAgent)
	}
	s.tok, s.asked = auth.FASTToken{}, false
	s.mu.Unlock()
	s.logErrors([]error{err})
}

// logErrors logs what the store failed to do: the token still works for
// this Connection, it just was not kept.
func (s *fastState) logErrors(errs []error) {
	for _, err := range errs {
		if err != nil {
			s.log.Warn("xmppconn: FAST token store", "err", err)
		}
	}
}

// redactIn removes the tokens from text.
func (s *fastState) redactIn(text string) string {
	s.mu.Lock()
	tok, refused := s.tok.Secret, s.refused
	s.mu.Unlock()
	return refused.RedactIn(tok.RedactIn(text))
}

// sasl2FAST is what one SASL2 login does about XEP-0484.
type sasl2FAST struct {
	account string          // the account's bare JID
	use     *auth.FASTToken // log in with this token
	request string          // ask for a token for this HT mechanism
}

// maxFASTTokenLen bounds the token the client keeps: the server chooses
// its length, and every later login sends it.
const maxFASTTokenLen = 4096

// fastPlan returns what the login on a stream whose SASL2 feature is f does
// about FAST: nothing when FAST is off or not offered, or when the account
// is not known (anonymous, or a token in the URL); else log in with the
// token held, when the server may take it on this stream, or ask for one.
func (n *negotiator) fastPlan(f *sasl2Feature, pol auth.Policy) sasl2FAST {
	if n.fast == nil || n.cfg.SASL2.FAST.Disabled || f.Inline.FAST == nil ||
		n.cfg.Credentials.Anonymous() || n.cfg.Token != nil {
		return sasl2FAST{}
	}
	account, err := n.jids.new(n.cfg.Credentials.Username, n.domain, "")
	if err != nil {
		return sasl2FAST{}
	}
	fp := sasl2FAST{account: account.String()}
	offered := f.Inline.FAST.Mechanisms
	if t, ok := n.fast.token(fp.account, n.cfg.Clock(), n.cfg.ClockSkew); ok && auth.FASTUsable(t.Mechanism, offered, pol) {
		fp.use = &t
		return fp
	}
	fp.request = auth.ChooseFAST(offered, pol)
	return fp
}

// keepToken keeps the token of a <success/>: one the login asked for, or a
// new one for the token it used (a rotation). A token the client did not
// ask for, with an expiry not in XEP-0082 form, or longer than 4 KiB is
// ignored; one without expiry is kept until the server refuses it.
func (n *negotiator) keepToken(fp sasl2FAST, succ *sasl2Success) {
	if succ.Token == nil || fp.account == "" {
		return
	}
	mech := fp.request
	if fp.use != nil {
		mech = fp.use.Mechanism
	}
	tok := succ.Token.Token
	expiry, err := time.Parse(time.RFC3339, succ.Token.Expiry)
	switch {
	case mech == "":
		n.log.Debug("xmppconn: FAST token not asked for, ignored")
		return
	case tok == "" || len(tok) > maxFASTTokenLen:
		n.log.Debug("xmppconn: FAST token empty or too long, ignored", "len", len(tok))
		return
	case err != nil && succ.Token.Expiry != "":
		n.log.Debug("xmppconn: FAST token with a malformed expiry, ignored")
		return
	}
	n.fast.save(fp.account, auth.FASTToken{Mechanism: mech, Secret: auth.NewSecret(tok), Expiry: expiry})
}
