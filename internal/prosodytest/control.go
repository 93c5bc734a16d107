package prosodytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxControlBody bounds what the harness reads from a control endpoint.
const maxControlBody = 1 << 20

// SessionInfo describes one session as the server sees it.
type SessionInfo struct {
	JID          string `json:"jid"`           // full JID
	Transport    string `json:"transport"`     // "c2s", "websocket" or "bosh"
	SM           bool   `json:"sm"`            // XEP-0198 stream management enabled
	Resumable    bool   `json:"resumable"`     // holds a resumption token
	Hibernating  bool   `json:"hibernating"`   // connection lost, waiting to be resumed
	HeldRequests int    `json:"held_requests"` // BOSH requests the server holds unanswered
}

// AddUser creates the account user@Domain with password, or sets its password
// when it exists. It goes through the test module's HTTP endpoint, so the
// account is usable at once and survives Restart.
func (s *Server) AddUser(ctx context.Context, user, password string) error {
	form := url.Values{"user": {user}, "host": {s.Domain}, "password": {password}}
	body, status, err := s.do(ctx, http.MethodPost, s.controlURL("users"), form)
	if err != nil {
		return fmt.Errorf("prosodytest: add user %s: %w", user, err)
	}
	if status != http.StatusOK && status != http.StatusCreated {
		return fmt.Errorf("prosodytest: add user %s: status %d: %s", user, status, strings.TrimSpace(body))
	}
	return nil
}

// KillSessions closes the sessions of jid from the server side: a full JID
// selects that session, a bare JID every resource, a domain every session on
// that host. With a stream error condition (e.g. "system-shutdown",
// "conflict") the client receives that error and the session cannot be
// resumed. With condition "" the connection is dropped without a stream error,
// as by a crash or a network cut: a c2s or WebSocket session loses its TCP
// connection (and hibernates when it had enabled resumption); a BOSH session
// loses its held requests and its sid. It returns how many sessions it closed;
// hibernating sessions count only when a condition is given.
func (s *Server) KillSessions(ctx context.Context, jid, condition string) (int, error) {
	form := url.Values{"jid": {jid}, "condition": {condition}}
	body, status, err := s.do(ctx, http.MethodPost, s.controlURL("kill"), form)
	if err != nil {
		return 0, fmt.Errorf("prosodytest: kill sessions of %q: %w", jid, err)
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("prosodytest: kill sessions of %q: status %d: %s", jid, status, strings.TrimSpace(body))
	}
	var out struct {
		Closed int `json:"closed"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		return 0, fmt.Errorf("prosodytest: kill sessions of %q: decode answer: %w", jid, err)
	}
	return out.Closed, nil
}

// Sessions returns the full JIDs of the sessions the server holds for
// bareJID, sorted, hibernating ones included (see SessionDetails). A domain
// selects every session on that host, "" every session.
func (s *Server) Sessions(ctx context.Context, bareJID string) ([]string, error) {
	infos, err := s.SessionDetails(ctx, bareJID)
	if err != nil {
		return nil, err
	}
	jids := make([]string, 0, len(infos))
	for _, info := range infos {
		jids = append(jids, info.JID)
	}
	return jids, nil
}

// SessionDetails is Sessions with the state of each session.
func (s *Server) SessionDetails(ctx context.Context, jid string) ([]SessionInfo, error) {
	q := url.Values{"jid": {jid}, "format": {"json"}}
	body, status, err := s.do(ctx, http.MethodGet, s.controlURL("sessions")+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("prosodytest: sessions of %q: %w", jid, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("prosodytest: sessions of %q: status %d: %s", jid, status, strings.TrimSpace(body))
	}
	var infos []SessionInfo
	if err := json.Unmarshal([]byte(body), &infos); err != nil {
		return nil, fmt.Errorf("prosodytest: sessions of %q: decode answer: %w", jid, err)
	}
	return infos, nil
}

// controlURL returns the URL of a test module endpoint on the plain HTTP port.
func (s *Server) controlURL(endpoint string) string {
	return "http://" + s.addr(s.HTTPPort) + "/xmppconn-test/" + endpoint
}

// do sends one request to the server and returns the body and status. A
// non-nil form is sent as an application/x-www-form-urlencoded body.
func (s *Server) do(ctx context.Context, method, u string, form url.Values) (string, int, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return "", 0, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxControlBody))
	if err != nil {
		return "", resp.StatusCode, err
	}
	return string(data), resp.StatusCode, nil
}
