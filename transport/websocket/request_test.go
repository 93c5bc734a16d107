package websocket

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// TestWriteUpgrade: the upgrade request written by hand is, byte for byte,
// the one net/http writes, in one write; what it does not vouch for is
// written by net/http.
func TestWriteUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name   string
		url    string
		host   string
		header http.Header
		own    bool // written by writeUpgrade, not by net/http
	}{
		{"coder's request", "http://127.0.0.1:5280/xmpp-websocket?x=1", "", http.Header{
			"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Protocol": {"xmpp"},
			"Origin": {"https://meet.example"}, "X-Two": {"a", " b\t"},
		}, true},
		{"own user agent and host", "https://h.example/ws", "other.example", http.Header{"User-Agent": {"bot/1"}}, true},
		{"no user agent", "http://h/ws", "", http.Header{"User-Agent": {""}}, true},
		{"IPv6 with a port", "http://[::1]:5280/ws", "", http.Header{"Upgrade": {"websocket"}}, true},
		{"value with a newline", "http://h/ws", "", http.Header{"X-Bad": {"a\r\nInjected: 1"}}, false},
		{"IPv6 zone", "http://[fe80::1%25eth0]:5280/ws", "", http.Header{}, false},
		{"international name", "http://bücher.example/ws", "", http.Header{}, false},
		{"invalid name", "http://h/ws", "", http.Header{"Bad Name": {"1"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			req.Header = tc.header.Clone()
			var ours, theirs writeCounter
			if err := writeUpgrade(&ours, req); err != nil {
				t.Fatalf("writeUpgrade: %v", err)
			}
			if err := req.Write(&theirs); err != nil {
				t.Fatalf("Request.Write: %v", err)
			}
			// net/http writes the request line, Host, User-Agent, then the
			// headers sorted: the hand-written request is the same bytes.
			if !bytes.Equal(ours.Bytes(), theirs.Bytes()) {
				t.Errorf("written:\n%q\nnet/http writes:\n%q", ours.Bytes(), theirs.Bytes())
			}
			if tc.own && ours.writes != 1 {
				t.Errorf("%d writes, want 1", ours.writes)
			}
			if _, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(ours.Bytes()))); err != nil {
				t.Errorf("written request does not parse: %v", err)
			}
		})
	}
}

// writeCounter is a bytes.Buffer that counts its writes.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}
