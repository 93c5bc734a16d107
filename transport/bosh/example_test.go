package bosh_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/xmppconn/xmppconn/transport/bosh"
)

// exampleServer is a tiny connection manager: it creates the session with
// the SASL features, holds long-polls until the client gives up, and
// acknowledges terminate.
func exampleServer() (*httptest.Server, func()) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		switch {
		case !bytes.Contains(req, []byte("sid=")):
			io.WriteString(w, "<body sid='s1' wait='60' hold='1' requests='2' from='example.com' xmpp:version='1.0'"+
				" xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' xmlns:stream='http://etherx.jabber.org/streams'>"+
				"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>ANONYMOUS</mechanism></mechanisms></stream:features></body>")
		case bytes.Contains(req, []byte("type='terminate'")):
			io.WriteString(w, "<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>")
		default:
			select {
			case <-r.Context().Done():
			case <-done:
			}
		}
	}))
	return srv, func() { close(done); srv.Close() }
}

func ExampleDial() {
	srv, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	c, err := bosh.Dial(ctx, srv.URL+"/http-bind", "example.com", &bosh.Options{HTTPClient: srv.Client()})
	if err != nil {
		fmt.Println(err)
		return
	}
	hdr, err := c.Open(ctx, false) // the session creation request
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sid:", hdr.ID, "from:", hdr.From)

	features, err := c.ReadElement(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(features))

	// Sends type='terminate' with an unavailable presence.
	if err := c.Close(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// sid: s1 from: example.com
	// <stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>
}

// A group of sessions with a connection pool of their own, with the settings
// of the default client (quick acknowledgements, small buffers).
func ExampleNewHTTPClient() {
	srv, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	hc := bosh.NewHTTPClient()
	defer hc.CloseIdleConnections() // when the group is done
	for range 2 {
		c, err := bosh.Dial(ctx, srv.URL+"/http-bind", "example.com", &bosh.Options{HTTPClient: hc})
		if err != nil {
			fmt.Println(err)
			return
		}
		hdr, err := c.Open(ctx, false)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("sid:", hdr.ID)
		_ = c.Close(ctx)
	}
	// Output:
	// sid: s1
	// sid: s1
}
