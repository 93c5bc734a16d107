package tokentest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
)

// token returns an HS256 JWT expiring at exp, signed with a key the server
// never checks.
func token(t *testing.T, exp time.Time) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "xmppconn-test", "aud": "jitsi", "room": "*", "exp": exp.Unix(),
	}).SignedString([]byte("unchecked"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// element is one top-level element read from the server.
type element struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Inner   string     `xml:",innerxml"`
	raw     []byte
}

func (e element) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func parseElement(t *testing.T, b []byte) element {
	t.Helper()
	var e element
	if err := xml.Unmarshal(b, &e); err != nil {
		t.Fatalf("server sent %q: %v", b, err)
	}
	e.raw = b
	return e
}

// wsClient is a hand-written RFC 7395 client: one element per message.
type wsClient struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
}

// dialWS opens a WebSocket to the server's wss:// endpoint with query.
func dialWS(ctx context.Context, t *testing.T, srv *servertest.Server, query string) *wsClient {
	t.Helper()
	u := srv.WebSocketURL(true)
	if query != "" {
		u += "?" + query
	}
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient:   srv.HTTPClient(),
		Subprotocols: []string{"xmpp"},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", auth.RedactURL(u), err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c := &wsClient{t: t, ctx: ctx, conn: conn}
	t.Cleanup(func() { conn.CloseNow() })
	return c
}

func (c *wsClient) send(s string) {
	c.t.Helper()
	if err := c.conn.Write(c.ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("send %s: %v", s, err)
	}
}

func (c *wsClient) read() element {
	c.t.Helper()
	_, b, err := c.conn.Read(c.ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return parseElement(c.t, b)
}

// expect reads until an element named name, skipping others (<r/>, pushes).
func (c *wsClient) expect(names ...string) element {
	c.t.Helper()
	for {
		e := c.read()
		for _, n := range names {
			if e.XMLName.Local == n {
				return e
			}
		}
		if e.XMLName.Local == "close" || e.XMLName.Local == "error" {
			c.t.Fatalf("want <%s>, got %s", strings.Join(names, "> or <"), e.raw)
		}
	}
}

// open opens (or restarts) the stream and returns the features.
func (c *wsClient) open(domain string) element {
	c.t.Helper()
	c.send(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='` + domain + `' version='1.0'/>`)
	c.expect("open")
	return c.expect("features")
}

// authenticate sends SASL ANONYMOUS and returns nil on <success/>, or the
// parsed <failure/>.
func (c *wsClient) authenticate(domain string) *auth.FailureError {
	c.t.Helper()
	features := c.open(domain)
	if !strings.Contains(features.Inner, "<mechanism>ANONYMOUS</mechanism>") {
		c.t.Fatalf("ANONYMOUS not offered: %s", features.raw)
	}
	c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>`)
	e := c.expect("success", "failure")
	if e.XMLName.Local == "success" {
		return nil
	}
	fe, err := auth.ParseFailure(e.raw)
	if err != nil {
		c.t.Fatalf("parse %s: %v", e.raw, err)
	}
	return fe
}

// bind restarts the stream after SASL and binds a resource; it returns the
// full JID.
func (c *wsClient) bind(domain string) string {
	c.t.Helper()
	c.open(domain)
	c.send(`<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`)
	for {
		e := c.expect("iq")
		if e.attr("id") != "bind1" {
			continue
		}
		var res struct {
			JID string `xml:"bind>jid"`
		}
		if e.attr("type") != "result" || xml.Unmarshal(e.raw, &res) != nil || res.JID == "" {
			c.t.Fatalf("bind failed: %s", e.raw)
		}
		return res.JID
	}
}

// boshClient is a hand-written XEP-0124/0206 client, enough for SASL.
type boshClient struct {
	t      *testing.T
	ctx    context.Context
	client *http.Client
	url    string
	sid    string
	rid    int
}

const nsBOSH = "http://jabber.org/protocol/httpbind"

// post sends one <body/> with payload and returns the children of the
// response body.
func (c *boshClient) post(attrs, payload string) (element, []element) {
	c.t.Helper()
	c.rid++
	body := fmt.Sprintf(`<body xmlns='%s' xmlns:xmpp='urn:xmpp:xbosh' rid='%d'%s%s>%s</body>`,
		nsBOSH, c.rid, sidAttr(c.sid), attrs, payload)
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, c.url, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("BOSH request: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("BOSH response: HTTP %d, %v", resp.StatusCode, err)
	}
	root := parseElement(c.t, b)
	var children []element
	d := xml.NewDecoder(bytes.NewReader(b))
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				children = append(children, element{XMLName: tt.Name, Attrs: tt.Attr})
			}
		case xml.EndElement:
			depth--
		}
	}
	return root, children
}

func sidAttr(sid string) string {
	if sid == "" {
		return ""
	}
	return " sid='" + sid + "'"
}

// boshAuthenticate creates a BOSH session on the server's https:// endpoint
// with query, sends SASL ANONYMOUS and returns the name of the answer
// (success or failure) and, for a failure, the response body.
func boshAuthenticate(ctx context.Context, t *testing.T, srv *servertest.Server, domain, query string) (string, string) {
	t.Helper()
	c := &boshClient{t: t, ctx: ctx, client: srv.HTTPClient(), url: srv.BOSHURL(true) + "?" + query, rid: 4000}
	root, children := c.post(" to='"+domain+"' wait='5' hold='1' ver='1.6' xmpp:version='1.0' content='text/xml; charset=utf-8'", "")
	c.sid = root.attr("sid")
	if c.sid == "" {
		t.Fatalf("no sid in %s", root.raw)
	}
	for !hasChild(children, "features") {
		_, children = c.post("", "")
	}
	root, children = c.post("", `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>`)
	for len(children) == 0 {
		root, children = c.post("", "")
	}
	c.post(" type='terminate'", "")
	return children[0].XMLName.Local, string(root.raw)
}

func hasChild(children []element, name string) bool {
	for _, c := range children {
		if c.XMLName.Local == name {
			return true
		}
	}
	return false
}

// query builds a URL query of token and previd (empty ones left out).
func query(tok, previd string) string {
	var parts []string
	if tok != "" {
		parts = append(parts, "token="+tok)
	}
	if previd != "" {
		parts = append(parts, "previd="+previd)
	}
	return strings.Join(parts, "&")
}
