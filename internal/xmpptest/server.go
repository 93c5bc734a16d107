package xmpptest

import (
	"testing"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// ServerConfig returns a Config for url on the real server s (an
// internal/servertest server), with an HTTP client of the test's own that
// trusts s's CA and whose idle keep-alive connections are closed when the
// test ends (before a NoLeaks check registered earlier, which runs last).
// Its Domain is s.Domain, its Credentials empty.
func ServerConfig(t testing.TB, s *servertest.Server, url string) xmppconn.Config {
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	return xmppconn.Config{
		URL:        url,
		Domain:     s.Domain,
		HTTPClient: hc,
	}
}

// Login returns the Credentials of user with password (a NewUser of the
// server).
func Login(user, password string) auth.Credentials {
	return auth.Credentials{Username: user, Password: auth.NewSecret(password)}
}
