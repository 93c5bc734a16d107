package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	coder "github.com/coder/websocket"

	"github.com/xmppconn/xmppconn/transport/websocket"
)

// fakeServer speaks just enough RFC 7395 for the example.
func fakeServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := coder.Accept(w, r, &coder.AcceptOptions{Subprotocols: []string{"xmpp"}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(string(msg), "<open"):
				ws.Write(ctx, coder.MessageText, []byte("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='abc' version='1.0'/>"))
				ws.Write(ctx, coder.MessageText, []byte("<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>"))
			case strings.HasPrefix(string(msg), "<close"):
				ws.Write(ctx, coder.MessageText, []byte("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"))
			}
		}
	}))
}

func ExampleDial() {
	srv := fakeServer()
	defer srv.Close()
	ctx := context.Background()

	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/xmpp-websocket"
	c, err := websocket.Dial(ctx, url, "example.com", &websocket.Options{HTTPClient: srv.Client()})
	if err != nil {
		fmt.Println(err)
		return
	}
	hdr, err := c.Open(ctx, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stream", hdr.ID, "from", hdr.From)
	features, err := c.ReadElement(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", features)
	fmt.Println("close:", c.Close(ctx), "code:", c.Status().WSCloseCode)
	// Output:
	// stream abc from example.com
	// <stream:features xmlns:stream='http://etherx.jabber.org/streams'/>
	// close: <nil> code: 1000
}
