package bosh

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/transport"
)

func TestSessionRequest(t *testing.T) {
	tests := []struct {
		name string
		cfg  fakeConfig
		edit func(*Options)
		want map[string]string
	}{
		{
			name: "defaults",
			want: map[string]string{
				"content": "text/xml; charset=utf-8", "hold": "1", "to": "example.com", "ver": "1.11",
				"wait": "60", "ack": "1", "xml:lang": "en", "xmpp:version": "1.0",
				"xmlns": nsHTTPBind, "xmlns:xmpp": nsXBOSH,
			},
		},
		{
			name: "route, from, lang, wait, hold",
			edit: func(o *Options) {
				o.Route, o.From, o.Lang, o.Wait, o.Hold = "xmpp:example.com:5222", "user@example.com", "de", 30*time.Second, 2
			},
			want: map[string]string{
				"content": "text/xml; charset=utf-8", "hold": "2", "to": "example.com", "ver": "1.11",
				"wait": "30", "ack": "1", "xml:lang": "de", "xmpp:version": "1.0",
				"route": "xmpp:example.com:5222", "from": "user@example.com",
				"xmlns": nsHTTPBind, "xmlns:xmpp": nsXBOSH,
			},
		},
		{
			name: "polling session asked for",
			cfg:  fakeConfig{Hold: -1},
			edit: func(o *Options) { o.Hold = -1 },
			want: map[string]string{
				"content": "text/xml; charset=utf-8", "hold": "0", "to": "example.com", "ver": "1.11",
				"wait": "60", "ack": "1", "xml:lang": "en", "xmpp:version": "1.0",
				"xmlns": nsHTTPBind, "xmlns:xmpp": nsXBOSH,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, tt.cfg, false)
			c := openFake(t, f, func(o *Options) {
				o.Wait = 0
				if tt.edit != nil {
					tt.edit(o)
				}
			})
			req := f.Requests()[0]
			got := make(map[string]string)
			for k, v := range req.Attrs {
				got[k] = v
			}
			rid, err := strconv.ParseUint(got["rid"], 10, 64)
			if err != nil || rid < 1<<32 || rid >= 1<<52 {
				t.Errorf("rid = %q, want a number in [2^32, 2^52)", got["rid"])
			}
			delete(got, "rid")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("session request attributes (-want +got):\n%s", diff)
			}
			if len(req.Children) != 0 {
				t.Errorf("session request carries %q", req.Children)
			}
			if c.SID() != "SID" {
				t.Errorf("SID() = %q", c.SID())
			}
		})
	}
}

func TestSessionRandomRID(t *testing.T) {
	seen := make(map[uint64]bool)
	for range 100 {
		r := initialRID()
		if r < 1<<32 || r >= 1<<52 {
			t.Fatalf("initialRID() = %d, out of [2^32, 2^52)", r)
		}
		seen[r] = true
	}
	if len(seen) < 99 {
		t.Errorf("100 initial rids gave only %d distinct values", len(seen))
	}
}

func TestSessionParams(t *testing.T) {
	tests := []struct {
		name       string
		cfg        fakeConfig
		wantParams Params
		wantHeader transport.Header
	}{
		{
			name:       "prosody-like",
			cfg:        fakeConfig{Wait: 60, Hold: 1, Requests: 2, Polling: 5, Inactivity: 60, MaxPause: 120, From: "example.com"},
			wantParams: Params{Wait: 60 * time.Second, Hold: 1, Requests: 2, Polling: 5 * time.Second, Inactivity: 60 * time.Second, MaxPause: 120 * time.Second},
			wantHeader: transport.Header{ID: "SID", From: "example.com", Version: "1.0", Lang: "en"},
		},
		{
			name:       "server lowers wait, acknowledges, no from",
			cfg:        fakeConfig{Wait: 20, Ack: true, SID: "abc123"},
			wantParams: Params{Wait: 20 * time.Second, Hold: 1, Requests: 2, Ack: true},
			wantHeader: transport.Header{ID: "abc123", From: "example.com", Version: "1.0", Lang: "en"},
		},
		{
			name:       "no requests limit",
			cfg:        fakeConfig{Requests: -1},
			wantParams: Params{Wait: 60 * time.Second, Hold: 1},
			wantHeader: transport.Header{ID: "SID", From: "example.com", Version: "1.0", Lang: "en"},
		},
		{
			name:       "polling session imposed",
			cfg:        fakeConfig{Hold: -1, Requests: 1, Polling: 2},
			wantParams: Params{Wait: 60 * time.Second, Hold: 0, Requests: 1, Polling: 2 * time.Second},
			wantHeader: transport.Header{ID: "SID", From: "example.com", Version: "1.0", Lang: "en"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, tt.cfg, false)
			c := dialFake(t, f, nil)
			h, err := c.Open(testCtx(t), false)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if diff := cmp.Diff(tt.wantHeader, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantParams, c.Params()); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionFeatures(t *testing.T) {
	const want = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
	for _, later := range []bool{false, true} {
		name := "in the session creation response"
		if later {
			name = "in a later response"
		}
		t.Run(name, func(t *testing.T) {
			f := newFakeServer(t, fakeConfig{FeaturesLater: later}, false)
			c := openFake(t, f, nil)
			if got := mustRead(t, c); got != want {
				t.Errorf("first element:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestSessionRestart(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	c := openFake(t, f, func(o *Options) { o.Lang = "fr" })
	mustRead(t, c) // SASL features
	mustWrite(t, c, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>")
	f.awaitReceived(1)
	f.Push("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
	mustRead(t, c)

	h, err := c.Open(testCtx(t), true)
	if err != nil {
		t.Fatalf("Open(restart): %v", err)
	}
	if h.ID != "SID" {
		t.Errorf("restart header ID = %q", h.ID)
	}
	if got := mustRead(t, c); got != "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>" {
		t.Errorf("features after restart: %s", got)
	}
	var restart *fakeRequest
	for _, r := range f.Requests() {
		if r.Attrs["xmpp:restart"] != "" {
			restart = r
		}
	}
	if restart == nil {
		t.Fatal("no restart request")
	}
	got := restart.Attrs
	want := map[string]string{
		"rid": got["rid"], "sid": "SID", "to": "example.com", "xml:lang": "fr", "xmpp:restart": "true",
		"xmlns": nsHTTPBind, "xmlns:xmpp": nsXBOSH,
	}
	if a, ok := got["ack"]; ok {
		want["ack"] = a
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restart attributes (-want +got):\n%s", diff)
	}
	if len(restart.Children) != 0 {
		t.Errorf("restart request carries payloads %q", restart.Children)
	}
}

func TestSessionRIDSequence(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	c := openFake(t, f, nil)
	mustRead(t, c)
	for i := range 5 {
		mustWrite(t, c, "<message xmlns='jabber:client' id='m"+strconv.Itoa(i)+"'/>")
		f.awaitReceived(i + 1)
		f.Push("<message xmlns='jabber:client' id='r" + strconv.Itoa(i) + "'/>")
		mustRead(t, c)
	}
	reqs := byRID(f.Requests())
	for i := 1; i < len(reqs); i++ {
		if reqs[i].RID != reqs[i-1].RID+1 {
			t.Fatalf("rids not consecutive: %d then %d", reqs[i-1].RID, reqs[i].RID)
		}
	}
	for _, r := range f.Requests() {
		if r.Attempt != 1 {
			t.Errorf("rid %d sent %d times without a failure", r.RID, r.Attempt)
		}
	}
	// Each message goes in a request of its own (the long-poll waits for
	// a reader, which the test is not between its reads).
	if len(reqs) < 6 {
		t.Errorf("only %d requests for 5 round trips", len(reqs))
	}
}

func TestSessionOpenErrors(t *testing.T) {
	t.Run("terminate in creation response", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{CreationBody: "<body type='terminate' condition='host-unknown' xmlns='http://jabber.org/protocol/httpbind'/>"}, false)
		c := dialFake(t, f, nil)
		_, err := c.Open(testCtx(t), false)
		var te *TerminateError
		if !asError(err, &te) || te.Condition != ConditionHostUnknown {
			t.Fatalf("Open error = %v, want host-unknown terminate", err)
		}
		if _, err := c.ReadElement(testCtx(t)); !asError(err, &te) {
			t.Errorf("ReadElement after failed Open = %v", err)
		}
	})
	t.Run("no sid", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{CreationBody: "<body wait='60' xmlns='http://jabber.org/protocol/httpbind'/>"}, false)
		c := dialFake(t, f, nil)
		_, err := c.Open(testCtx(t), false)
		var me *MalformedError
		if !asError(err, &me) {
			t.Fatalf("Open error = %v, want *MalformedError", err)
		}
	})
	t.Run("twice", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{}, false)
		c := openFake(t, f, nil)
		if _, err := c.Open(testCtx(t), false); err == nil {
			t.Fatal("second Open(false) succeeded")
		}
	})
	t.Run("restart, read or write before open", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{}, false)
		c := dialFake(t, f, nil)
		if _, err := c.Open(testCtx(t), true); err == nil {
			t.Error("Open(restart) before session succeeded")
		}
		if err := c.WriteElement(testCtx(t), []byte("<presence/>")); err == nil {
			t.Error("WriteElement before session succeeded")
		}
		if _, err := c.ReadElement(testCtx(t)); err == nil {
			t.Error("ReadElement before session succeeded")
		}
		if n := len(f.Requests()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
}
