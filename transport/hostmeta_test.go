package transport

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const xrdHead = `<?xml version='1.0' encoding='utf-8'?>
<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>`

func TestParseXRD(t *testing.T) {
	ws := Endpoint{URL: "wss://xmpp.example.com/xmpp-websocket", Kind: KindWebSocket}
	bosh := Endpoint{URL: "https://xmpp.example.com/http-bind", Kind: KindBOSH}
	cases := []struct {
		name string
		doc  string
		want []Endpoint
	}{
		{"XEP-0156 example", xrdHead + `
  <Link rel="urn:xmpp:alt-connections:xbosh" href="https://xmpp.example.com/http-bind"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://xmpp.example.com/xmpp-websocket"/>
</XRD>`, []Endpoint{bosh, ws}},
		{"other links ignored", xrdHead + `
  <Link rel="lrdd" template="https://example.com/lrdd?uri={uri}"/>
  <Link rel="urn:xmpp:alt-connections:httppoll" href="https://example.com/poll"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://xmpp.example.com/xmpp-websocket"><Title>ws</Title></Link>
</XRD>`, []Endpoint{ws}},
		{"prefixed namespace", `<x:XRD xmlns:x='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <x:Link rel='urn:xmpp:alt-connections:xbosh' href='https://xmpp.example.com/http-bind'/></x:XRD>`, []Endpoint{bosh}},
		{"plaintext kept for the caller", xrdHead + `
  <Link rel="urn:xmpp:alt-connections:websocket" href="ws://xmpp.example.com/ws"/>
  <Link rel="urn:xmpp:alt-connections:xbosh" href="http://xmpp.example.com/bosh"/></XRD>`,
			[]Endpoint{{"ws://xmpp.example.com/ws", KindWebSocket}, {"http://xmpp.example.com/bosh", KindBOSH}}},
		{"scheme not fitting the rel dropped", xrdHead + `
  <Link rel="urn:xmpp:alt-connections:websocket" href="https://xmpp.example.com/ws"/>
  <Link rel="urn:xmpp:alt-connections:xbosh" href="wss://xmpp.example.com/bosh"/>
  <Link rel="urn:xmpp:alt-connections:xbosh" href="/relative/http-bind"/>
  <Link rel="urn:xmpp:alt-connections:xbosh" href="https://"/>
  <Link rel="urn:xmpp:alt-connections:xbosh"/>
  <Link rel="urn:xmpp:alt-connections:xbosh" href="mailto:a@example.com"/></XRD>`, nil},
		{"Link in another namespace ignored", xrdHead + `
  <Link xmlns='urn:other' rel="urn:xmpp:alt-connections:xbosh" href="https://xmpp.example.com/http-bind"/></XRD>`, nil},
		{"nested Link ignored", xrdHead + `
  <Property><Link rel="urn:xmpp:alt-connections:xbosh" href="https://xmpp.example.com/http-bind"/></Property></XRD>`, nil},
		{"empty XRD", xrdHead + `</XRD>`, nil},
		{"byte order mark", "\ufeff" + xrdHead + `<Link rel="urn:xmpp:alt-connections:xbosh" href="https://xmpp.example.com/http-bind"/></XRD>`, []Endpoint{bosh}},
		{"white space around href", xrdHead + `<Link rel=" urn:xmpp:alt-connections:xbosh " href="
 https://xmpp.example.com/http-bind "/></XRD>`, []Endpoint{bosh}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseXRD([]byte(tc.doc))
			if err != nil {
				t.Fatalf("ParseXRD: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseXRDMalformed(t *testing.T) {
	cases := []struct{ name, doc string }{
		{"empty", ""},
		{"not XML", "this is not xml"},
		{"JSON", `{"links":[]}`},
		{"unclosed", xrdHead + `<Link rel="urn:xmpp:alt-connections:xbosh" href="https://h/b"/>`},
		{"wrong root", `<XRD><Link rel="urn:xmpp:alt-connections:xbosh" href="https://h/b"/></XRD>`},
		{"wrong namespace", `<XRD xmlns='urn:example'/>`},
		{"HTML error page", `<html><body>404</body></html>`},
		{"two roots", xrdHead + `</XRD><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>`},
		{"text after root", xrdHead + `</XRD>trailing`},
		{"mismatched tags", xrdHead + `<Link></Title></XRD>`},
		{"too deep", xrdHead + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</XRD>`},
		{"undefined entity", xrdHead + `&boom;</XRD>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseXRD([]byte(tc.doc))
			if !errors.Is(err, ErrMalformedHostMeta) {
				t.Fatalf("ParseXRD = %v, %v; want ErrMalformedHostMeta", got, err)
			}
		})
	}
}

func TestParseHostMetaJSON(t *testing.T) {
	ws := Endpoint{URL: "wss://xmpp.example.com/xmpp-websocket", Kind: KindWebSocket}
	bosh := Endpoint{URL: "https://xmpp.example.com/http-bind", Kind: KindBOSH}
	cases := []struct {
		name string
		doc  string
		want []Endpoint
	}{
		{"XEP-0156 example", `{"links":[
  {"rel":"urn:xmpp:alt-connections:xbosh","href":"https://xmpp.example.com/http-bind"},
  {"rel":"urn:xmpp:alt-connections:websocket","href":"wss://xmpp.example.com/xmpp-websocket"}]}`,
			[]Endpoint{bosh, ws}},
		{"odd links skipped", `{"subject":"example.com","links":[
  {"rel":"lrdd","template":"x"}, 42, "text", null, {"rel":1,"href":2},
  {"rel":"urn:xmpp:alt-connections:websocket","href":"wss://xmpp.example.com/xmpp-websocket","titles":{"en":"ws"}}]}`,
			[]Endpoint{ws}},
		{"no links", `{"subject":"example.com"}`, nil},
		{"null links", `{"links":null}`, nil},
		{"plaintext kept for the caller", `{"links":[{"rel":"urn:xmpp:alt-connections:xbosh","href":"http://h/b"}]}`,
			[]Endpoint{{"http://h/b", KindBOSH}}},
		{"scheme not fitting the rel dropped", `{"links":[{"rel":"urn:xmpp:alt-connections:xbosh","href":"wss://h/b"},
  {"rel":"urn:xmpp:alt-connections:websocket","href":"/ws"}]}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHostMetaJSON([]byte(tc.doc))
			if err != nil {
				t.Fatalf("ParseHostMetaJSON: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseHostMetaJSONMalformed(t *testing.T) {
	cases := []struct{ name, doc string }{
		{"empty", ""},
		{"array", `[{"rel":"urn:xmpp:alt-connections:xbosh","href":"https://h/b"}]`},
		{"string", `"links"`},
		{"XML", xrdHead + `</XRD>`},
		{"truncated", `{"links":[{"rel":"urn:xmpp:alt-connections:xbosh"`},
		{"links not an array", `{"links":{"rel":"urn:xmpp:alt-connections:xbosh","href":"https://h/b"}}`},
		{"trailing data", `{"links":[]} {"links":[]}`},
		{"null", `null`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHostMetaJSON([]byte(tc.doc))
			if !errors.Is(err, ErrMalformedHostMeta) {
				t.Fatalf("ParseHostMetaJSON = %v, %v; want ErrMalformedHostMeta", got, err)
			}
		})
	}
}

func TestEndpointSecure(t *testing.T) {
	for url, want := range map[string]bool{
		"wss://h/ws": true, "WSS://h/ws": true, "https://h/b": true,
		"ws://h/ws": false, "http://h/b": false, "": false, "wss": false,
	} {
		if got := (Endpoint{URL: url}).Secure(); got != want {
			t.Errorf("Endpoint{%q}.Secure() = %v, want %v", url, got, want)
		}
	}
}

// checkEndpoints holds for every endpoint a parser returns from body: each
// is valid, and together they are no larger than body (each URL is decoded
// from its own href).
func checkEndpoints(t *testing.T, body []byte, eps []Endpoint) {
	t.Helper()
	n := 0
	for _, ep := range eps {
		n += len(ep.URL)
		if ep.Kind != KindWebSocket && ep.Kind != KindBOSH {
			t.Fatalf("endpoint of kind %q", ep.Kind)
		}
		if _, ok := linkEndpoint(map[string]string{KindWebSocket: RelWebSocket, KindBOSH: RelBOSH}[ep.Kind], ep.URL); !ok {
			t.Fatalf("endpoint %q does not pass linkEndpoint again", ep.URL)
		}
	}
	if n > len(body) {
		t.Fatalf("%d bytes of endpoints from a %d-byte document", n, len(body))
	}
}

// FuzzParseXRD checks that no input panics ParseXRD, and that what it
// returns is either an error wrapping ErrMalformedHostMeta or valid
// endpoints. Seeds are in testdata/fuzz/FuzzParseXRD.
func FuzzParseXRD(f *testing.F) {
	f.Add([]byte(xrdHead + `<Link rel="urn:xmpp:alt-connections:websocket" href="wss://h/ws"/></XRD>`))
	f.Add([]byte(`<XRD/>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		eps, err := ParseXRD(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedHostMeta) || eps != nil {
				t.Fatalf("ParseXRD = %v, %v", eps, err)
			}
			return
		}
		checkEndpoints(t, body, eps)
	})
}

// FuzzParseHostMetaJSON is FuzzParseXRD for the JSON form. Seeds are in
// testdata/fuzz/FuzzParseHostMetaJSON.
func FuzzParseHostMetaJSON(f *testing.F) {
	f.Add([]byte(`{"links":[{"rel":"urn:xmpp:alt-connections:xbosh","href":"https://h/b"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		eps, err := ParseHostMetaJSON(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedHostMeta) || eps != nil {
				t.Fatalf("ParseHostMetaJSON = %v, %v", eps, err)
			}
			return
		}
		checkEndpoints(t, body, eps)
	})
}
