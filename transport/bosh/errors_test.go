package bosh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// classified is what the session layer can learn from an error by
// behaviour.
type classified struct {
	transient bool
	condition string
	status    int    // from transport.HTTPStatuser; -1 when it is not one
	text      string // from transport.ServerTexter
}

// classify reads err the way the session layer does, and fails when
// nothing in err says whether it is transient.
func classify(t *testing.T, err error) classified {
	t.Helper()
	transient, known := transport.Transient(err)
	if !known {
		t.Fatalf("transport.Transient(%v): unknown", err)
	}
	got := classified{transient: transient, status: -1}
	var te transport.Error
	if errors.As(err, &te) {
		got.condition = te.Condition()
		if te.Transient() != transient {
			t.Errorf("transport.Error.Transient() = %v, transport.Transient = %v", te.Transient(), transient)
		}
	}
	var hs transport.HTTPStatuser
	if errors.As(err, &hs) {
		got.status = hs.HTTPStatus()
	}
	var st transport.ServerTexter
	if errors.As(err, &st) {
		got.text = st.ServerText()
	}
	return got
}

func streamErrorBody(cond, text string) string {
	s := "<body type='terminate' condition='remote-stream-error' xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'><stream:error><" + cond + " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
	if text != "" {
		s += "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>" + text + "</text>"
	}
	return s + "</stream:error></body>"
}

func terminateBody(cond string) string {
	if cond == "" {
		return "<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>"
	}
	return "<body type='terminate' condition='" + cond + "' xmlns='http://jabber.org/protocol/httpbind'/>"
}

// TestTerminateClassification checks every terminate condition as
// ReadElement returns it.
func TestTerminateClassification(t *testing.T) {
	tests := []struct {
		name string
		body string
		want classified
	}{
		{"clean end", terminateBody(""), classified{transient: true, status: -1}},
		{"item-not-found", terminateBody("item-not-found"), classified{true, "item-not-found", -1, ""}},
		{"remote-connection-failed", terminateBody("remote-connection-failed"), classified{true, "remote-connection-failed", -1, ""}},
		{"system-shutdown", terminateBody("system-shutdown"), classified{true, "system-shutdown", -1, ""}},
		{"undefined-condition", terminateBody("undefined-condition"), classified{true, "undefined-condition", -1, ""}},
		{"other-request", terminateBody("other-request"), classified{true, "other-request", -1, ""}},
		{"host-unknown", terminateBody("host-unknown"), classified{false, "host-unknown", -1, ""}},
		{"host-gone", terminateBody("host-gone"), classified{false, "host-gone", -1, ""}},
		{"improper-addressing", terminateBody("improper-addressing"), classified{false, "improper-addressing", -1, ""}},
		{"bad-request", terminateBody("bad-request"), classified{false, "bad-request", -1, ""}},
		{"policy-violation", terminateBody("policy-violation"), classified{false, "policy-violation", -1, ""}},
		{"internal-server-error", terminateBody("internal-server-error"), classified{false, "internal-server-error", -1, ""}},
		{"see-other-uri without uri", terminateBody("see-other-uri"), classified{false, "see-other-uri", -1, ""}},
		{"unknown condition", terminateBody("x-maintenance"), classified{false, "x-maintenance", -1, ""}},
		{"remote-stream-error without stream error", terminateBody("remote-stream-error"), classified{false, "remote-stream-error", -1, ""}},
		{"stream system-shutdown", streamErrorBody("system-shutdown", "restarting"), classified{true, "system-shutdown", -1, "restarting"}},
		{"stream connection-timeout", streamErrorBody("connection-timeout", ""), classified{true, "connection-timeout", -1, ""}},
		{"stream reset", streamErrorBody("reset", ""), classified{true, "reset", -1, ""}},
		{"stream internal-server-error", streamErrorBody("internal-server-error", ""), classified{true, "internal-server-error", -1, ""}},
		{"stream remote-connection-failed", streamErrorBody("remote-connection-failed", ""), classified{true, "remote-connection-failed", -1, ""}},
		{"stream conflict", streamErrorBody("conflict", "Replaced by new connection"), classified{false, "conflict", -1, "Replaced by new connection"}},
		{"stream not-authorized", streamErrorBody("not-authorized", ""), classified{false, "not-authorized", -1, ""}},
		{"stream policy-violation", streamErrorBody("policy-violation", "too fast"), classified{false, "policy-violation", -1, "too fast"}},
		{"stream text before condition", "<body type='terminate' condition='remote-stream-error' xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'><stream:error><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye</text><reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></body>", classified{true, "reset", -1, "bye"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, fakeConfig{}, false)
			c := openFake(t, f, nil)
			mustRead(t, c)
			f.awaitHeld(1)
			f.PushBody(tt.body)
			err := readErr(t, c)
			var te *TerminateError
			if !asError(err, &te) {
				t.Fatalf("error %v is not a *TerminateError", err)
			}
			if got := classify(t, err); got != tt.want {
				t.Errorf("classified %+v, want %+v", got, tt.want)
			}
			if te.Transient() != tt.want.transient || te.ServerText() != tt.want.text {
				t.Errorf("*TerminateError: Transient %v, ServerText %q", te.Transient(), te.ServerText())
			}
		})
	}
}

// TestExchangeErrorClassification checks the errors of failed requests as
// ReadElement returns them.
func TestExchangeErrorClassification(t *testing.T) {
	status := func(code int) fault { return fault{Kind: faultStatus, Status: code} }
	tests := []struct {
		name  string
		fault fault
		want  classified
	}{
		{"http 500", status(http.StatusInternalServerError), classified{true, "", 500, ""}},
		{"http 502", status(http.StatusBadGateway), classified{true, "", 502, ""}},
		{"http 503", status(http.StatusServiceUnavailable), classified{true, "", 503, ""}},
		{"http 400", status(http.StatusBadRequest), classified{false, "", 400, ""}},
		{"http 403", status(http.StatusForbidden), classified{false, "", 403, ""}},
		{"http 404", status(http.StatusNotFound), classified{false, "", 404, ""}},
		{"http 408, retried here, final for the session", status(http.StatusRequestTimeout), classified{false, "", 408, ""}},
		{"http 429, retried here, final for the session", status(http.StatusTooManyRequests), classified{false, "", 429, ""}},
		{"malformed body", fault{Kind: faultRaw, Body: "<html>gateway</html>"}, classified{false, "", -1, ""}},
		{"bad attribute", fault{Kind: faultRaw, Body: "<body rid='x' ack='-1' xmlns='http://jabber.org/protocol/httpbind'/>"}, classified{false, "", -1, ""}},
		{"too large", fault{Kind: faultRaw, Body: "<body xmlns='http://jabber.org/protocol/httpbind'><message xmlns='jabber:client'><body>" + strings.Repeat("x", 4096) + "</body></message></body>"}, classified{false, "", -1, ""}},
		{"recoverable binding error, every try", fault{Kind: faultRaw, Body: "<body type='error' xmlns='http://jabber.org/protocol/httpbind'/>"}, classified{true, "", -1, ""}},
		{"connection dropped, every try", fault{Kind: faultDrop}, classified{true, "", -1, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, fakeConfig{HoldFor: 10 * time.Millisecond, Fault: func(r *fakeRequest) fault {
				if r.Attrs["sid"] != "" && r.Attrs["type"] != "terminate" {
					return tt.fault
				}
				return fault{}
			}}, false)
			c := openFake(t, f, func(o *Options) { o.Limits.MaxElementSize = 1024 })
			mustRead(t, c)
			err := readErr(t, c)
			if err == context.DeadlineExceeded {
				t.Fatal("the session did not end")
			}
			if got := classify(t, err); got != tt.want {
				t.Errorf("%v: classified %+v, want %+v", err, got, tt.want)
			}
		})
	}
}

// TestErrorTypes checks the classification of each error type of the
// package as the Conn wraps it.
func TestErrorTypes(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("bosh: request failed after 3 tries: %w", err) }
	tests := []struct {
		name string
		err  error
		want classified
	}{
		{"http status 0: no answer", &HTTPError{}, classified{true, "", 0, ""}},
		{"http 504", &HTTPError{Status: 504, Retried: true}, classified{true, "", 504, ""}},
		{"http 3xx without location", &HTTPError{Status: 302}, classified{false, "", 302, ""}},
		{"http 401", &HTTPError{Status: 401}, classified{false, "", 401, ""}},
		{"malformed", &MalformedError{Reason: "no sid"}, classified{false, "", -1, ""}},
		{"recoverable", errRecoverable, classified{true, "", -1, ""}},
		{"cut body", &readError{err: io.ErrUnexpectedEOF}, classified{true, "", -1, ""}},
		{"body read timed out", &readError{err: context.DeadlineExceeded}, classified{true, "", -1, ""}},
		{"body read cancelled", &readError{err: context.Canceled}, classified{false, "", -1, ""}},
		{"terminate", &terminated{&TerminateError{Condition: "host-gone"}}, classified{false, "host-gone", -1, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrap(tt.err)
			if got := classify(t, err); got != tt.want {
				t.Errorf("classified %+v, want %+v", got, tt.want)
			}
			if !strings.HasPrefix(tt.err.Error(), "bosh: ") {
				t.Errorf("error %q does not name the package", tt.err)
			}
		})
	}
	var te *TerminateError
	if !errors.As(wrap(&terminated{&TerminateError{}}), &te) || !errors.Is(wrap(&terminated{&TerminateError{}}), transport.ErrStreamClosed) {
		t.Error("a clean terminate does not unwrap to *TerminateError and ErrStreamClosed")
	}
}
