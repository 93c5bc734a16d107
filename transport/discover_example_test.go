package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/xmppconn/xmppconn/transport"
)

func ExampleDiscover() {
	// A stand-in for https://meet.example.com/.well-known/host-meta.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/host-meta" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel='urn:xmpp:alt-connections:xbosh' href='https://meet.example.com/http-bind'/>
  <Link rel='urn:xmpp:alt-connections:websocket' href='ws://meet.example.com/xmpp-websocket'/>
  <Link rel='urn:xmpp:alt-connections:websocket' href='wss://meet.example.com/xmpp-websocket'/>
</XRD>`)
	}))
	defer srv.Close()

	// In a bot: transport.Discover(ctx, "meet.example.com", nil).
	eps, err := transport.Discover(context.Background(), "meet.example.com",
		&transport.DiscoverOptions{HTTPClient: srv.Client(), BaseURL: srv.URL})
	if err != nil {
		var de *transport.DiscoveryError
		if errors.As(err, &de) {
			for _, a := range de.Tried {
				fmt.Println(a.URL, a.Err)
			}
		}
		return
	}
	for _, ep := range eps {
		fmt.Println(ep.Kind, ep.URL)
	}
	// Output:
	// websocket wss://meet.example.com/xmpp-websocket
	// bosh https://meet.example.com/http-bind
}
