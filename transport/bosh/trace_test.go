package bosh

import (
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOpenTrace: the session creation request is sent with Open's context,
// so an httptrace.ClientTrace there sees its connection, TLS handshake and
// request; the later requests of the session do not report to it.
func TestOpenTrace(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, true)
	opts := f.options()
	var (
		mu    sync.Mutex
		hooks []string
		state tls.ConnectionState
	)
	add := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		hooks = append(hooks, name)
	}
	ctx := httptrace.WithClientTrace(testCtx(t), &httptrace.ClientTrace{
		ConnectStart:      func(string, string) { add("ConnectStart") },
		TLSHandshakeStart: func() { add("TLSHandshakeStart") },
		TLSHandshakeDone: func(st tls.ConnectionState, err error) {
			mu.Lock()
			state = st
			mu.Unlock()
			add("TLSHandshakeDone")
		},
		GotConn:      func(httptrace.GotConnInfo) { add("GotConn") },
		WroteRequest: func(httptrace.WroteRequestInfo) { add("WroteRequest") },
	})
	c, err := Dial(ctx, f.srv.URL+"/http-bind", "example.com", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(testCtx(t))
	if _, err := c.Open(ctx, false); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := c.ReadElement(testCtx(t)); err != nil { // the features
		t.Fatalf("ReadElement: %v", err)
	}
	if err := c.WriteElement(ctx, []byte("<message xmlns='jabber:client'/>")); err != nil {
		t.Fatal(err)
	}
	f.awaitReceived(1)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"ConnectStart", "TLSHandshakeStart", "TLSHandshakeDone", "GotConn", "WroteRequest"}
	if diff := cmp.Diff(want, hooks); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
	if state.Version == 0 || len(state.PeerCertificates) == 0 {
		t.Error("TLSHandshakeDone had no connection state")
	}
}
