package bosh

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/transport"
)

func TestTerminateConditions(t *testing.T) {
	const streamError = "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error>"
	type check func(t *testing.T, err error)
	terminate := func(cond string) check {
		return func(t *testing.T, err error) {
			t.Helper()
			var te *TerminateError
			if !asError(err, &te) || te.Condition != cond {
				t.Fatalf("error = %v, want terminate %q", err, cond)
			}
			if errors.Is(err, transport.ErrStreamClosed) != (cond == "") {
				t.Errorf("errors.Is(err, ErrStreamClosed) = %v for condition %q", !(cond == ""), cond)
			}
		}
	}
	tests := []struct {
		name      string
		body      string
		wantElems []string
		check     check
	}{
		{name: "clean", body: "<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate("")},
		{name: "host-unknown", body: "<body type='terminate' condition='host-unknown' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionHostUnknown)},
		{name: "host-gone", body: "<body type='terminate' condition='host-gone' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionHostGone)},
		{name: "item-not-found", body: "<body type='terminate' condition='item-not-found' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionItemNotFound)},
		{name: "policy-violation", body: "<body type='terminate' condition='policy-violation' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionPolicyViolation)},
		{name: "remote-connection-failed", body: "<body type='terminate' condition='remote-connection-failed' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionRemoteConnectionFailed)},
		{name: "system-shutdown", body: "<body type='terminate' condition='system-shutdown' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionSystemShutdown)},
		{name: "improper-addressing", body: "<body type='terminate' condition='improper-addressing' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionImproperAddressing)},
		{name: "bad-request", body: "<body type='terminate' condition='bad-request' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionBadRequest)},
		{name: "undefined-condition", body: "<body type='terminate' condition='undefined-condition' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionUndefinedCondition)},
		{name: "other-request", body: "<body type='terminate' condition='other-request' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionOtherRequest)},
		{name: "unknown condition kept", body: "<body type='terminate' condition='x-maintenance' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate("x-maintenance")},
		{name: "see-other-uri without uri", body: "<body type='terminate' condition='see-other-uri' xmlns='http://jabber.org/protocol/httpbind'/>", check: terminate(ConditionSeeOtherURI)},
		{
			name: "see-other-uri",
			body: "<body type='terminate' condition='see-other-uri' xmlns='http://jabber.org/protocol/httpbind'><uri>https://shard2.example.com/http-bind</uri></body>",
			check: func(t *testing.T, err error) {
				var re *transport.RedirectError
				if !asError(err, &re) || re.Kind != transport.RedirectSeeOtherURI || re.Target != "https://shard2.example.com/http-bind" {
					t.Fatalf("error = %v, want see-other-uri redirect", err)
				}
			},
		},
		{
			name:      "remote-stream-error",
			body:      "<body type='terminate' condition='remote-stream-error' xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'><stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error></body>",
			wantElems: []string{streamError},
			check: func(t *testing.T, err error) {
				var te *TerminateError
				if !asError(err, &te) || te.Condition != ConditionRemoteStreamError {
					t.Fatalf("error = %v, want remote-stream-error", err)
				}
				if string(te.StreamError) != streamError || te.Text != "Replaced by new connection" {
					t.Errorf("StreamError %s, Text %q", te.StreamError, te.Text)
				}
			},
		},
		{
			name:      "elements before the terminate are delivered",
			body:      "<body type='terminate' condition='system-shutdown' xmlns='http://jabber.org/protocol/httpbind'><presence xmlns='jabber:client' type='unavailable'/></body>",
			wantElems: []string{"<presence xmlns='jabber:client' type='unavailable'/>"},
			check:     terminate(ConditionSystemShutdown),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, fakeConfig{}, false)
			c := openFake(t, f, nil)
			mustRead(t, c)
			f.awaitHeld(1)
			f.PushBody(tt.body)
			var got []string
			var err error
			for {
				var e []byte
				if e, err = c.ReadElement(testCtx(t)); err != nil {
					break
				}
				got = append(got, string(e))
			}
			if diff := cmp.Diff(tt.wantElems, got); diff != "" {
				t.Errorf("elements before the error (-want +got):\n%s", diff)
			}
			tt.check(t, err)
			// The error stays.
			if _, err2 := c.ReadElement(testCtx(t)); err2 != err {
				t.Errorf("second ReadElement = %v, want %v", err2, err)
			}
		})
	}
}

func TestStreamErrorInBody(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	c := openFake(t, f, nil)
	mustRead(t, c)
	f.Push("<stream:error xmlns:stream='http://etherx.jabber.org/streams'><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
	want := "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
	if got := mustRead(t, c); got != want {
		t.Errorf("read %s, want %s", got, want)
	}
}
