package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxControlBody bounds what the harness reads from a control endpoint.
const maxControlBody = 1 << 20

// The control endpoints under /xmppconn-test/ on the HTTP ports are served
// by a test-only module of each server, with the same requests and answers:
// testdata/prosody/modules/mod_xmppconn_test.lua for Prosody,
// testdata/ejabberd/mod_xmppconn_test.erl for ejabberd.

// SessionInfo describes one session as the server sees it.
type SessionInfo struct {
	JID          string `json:"jid"`           // full JID
	Transport    string `json:"transport"`     // "c2s", "websocket" or "bosh"
	SM           bool   `json:"sm"`            // XEP-0198 stream management enabled
	Resumable    bool   `json:"resumable"`     // can be resumed (holds a resumption id)
	Hibernating  bool   `json:"hibernating"`   // connection lost, waiting to be resumed
	HeldRequests int    `json:"held_requests"` // BOSH requests the server holds unanswered
}

// AddUser creates the account user@Domain with password, or sets its password
// when it exists. The account is usable at once and survives Restart.
func (s *Server) AddUser(ctx context.Context, user, password string) error {
	if user == "" || password == "" {
		return errors.New("servertest: add user: a name and a password are required")
	}
	return s.flavor.addUser(ctx, s, user, password)
}

// KillSessions closes the sessions of jid from the server side: a full JID
// selects that session, a bare JID every resource, a domain every session on
// that host, "" every session. With a stream error condition (e.g.
// "system-shutdown", "conflict") the client receives that error and the
// session cannot be resumed. With condition "" the connection is dropped
// without a stream error, as by a crash or a network cut: the session loses
// its TCP connection, or its BOSH requests, and hibernates when it had
// enabled resumption (Prosody ends a BOSH session instead: it cannot resume
// one). It returns how many sessions it closed; hibernating sessions count
// only when a condition is given.
func (s *Server) KillSessions(ctx context.Context, jid, condition string) (int, error) {
	form := url.Values{"jid": {jid}, "condition": {condition}}
	body, status, err := s.do(ctx, http.MethodPost, s.controlURL("kill"), []byte(form.Encode()), formType)
	if err != nil {
		return 0, fmt.Errorf("servertest: kill sessions of %q: %w", jid, err)
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("servertest: kill sessions of %q: status %d: %s", jid, status, strings.TrimSpace(body))
	}
	var out struct {
		Closed int `json:"closed"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		return 0, fmt.Errorf("servertest: kill sessions of %q: decode answer: %w", jid, err)
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
	body, status, err := s.do(ctx, http.MethodGet, s.controlURL("sessions")+"?"+q.Encode(), nil, "")
	if err != nil {
		return nil, fmt.Errorf("servertest: sessions of %q: %w", jid, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("servertest: sessions of %q: status %d: %s", jid, status, strings.TrimSpace(body))
	}
	var infos []SessionInfo
	if err := json.Unmarshal([]byte(body), &infos); err != nil {
		return nil, fmt.Errorf("servertest: sessions of %q: decode answer: %w", jid, err)
	}
	return infos, nil
}

// controlURL returns the URL of a control endpoint on the plain HTTP port.
func (s *Server) controlURL(endpoint string) string {
	return "http://" + s.addr(s.HTTPPort) + "/xmppconn-test/" + endpoint
}

// Content types of request bodies.
const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// do sends one request to the server and returns the body and status. A
// non-nil body is sent with the given content type.
func (s *Server) do(ctx context.Context, method, u string, body []byte, contentType string) (string, int, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return "", 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
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
