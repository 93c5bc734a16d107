package xmppconn

import (
	"encoding/xml"
	"reflect"
	"testing"
)

// successSeeds are SASL2 successes as servers send them, and edges of
// Unmarshal's rules (repeated elements and attributes, prefixed
// attributes, whitespace, entities).
var successSeeds = []string{
	// Prosody 13, FAST token and Bind 2 with stream management.
	"<success xmlns='urn:xmpp:sasl:2'><additional-data>dj12a3NhUlFML1pIbExSLzU5bWhYcitUYnBDRkE9</additional-data><bound xmlns='urn:xmpp:bind:0'><enabled id='f9j_OdQISgSA' xmlns='urn:xmpp:sm:3' max='60' resume='1'/></bound><token xmlns='urn:xmpp:fast:0' expiry='2026-12-23T12:58:42.372194Z' token='secret-token:fast-q2Hg'/><authorization-identifier>u@localhost/xmppconn~VFlh</authorization-identifier></success>",
	// A resumption.
	"<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>u@h/r</authorization-identifier><resumed xmlns='urn:xmpp:sm:3' h='12' previd='x'/></success>",
	"<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>u@h</authorization-identifier><failed xmlns='urn:xmpp:sm:3'/><bound xmlns='urn:xmpp:bind:0'><failed xmlns='urn:xmpp:sm:3'/></bound></success>",
	// Bind 2 refused: Unmarshal decodes the stanza error.
	"<success xmlns='urn:xmpp:sasl:2'><failed xmlns='urn:xmpp:bind:0'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></failed></success>",
	// Repeated, prefixed, empty, escaped.
	"<success xmlns='urn:xmpp:sasl:2' xmlns:sm='urn:xmpp:sm:3'><additional-data/><additional-data>b</additional-data><bound xmlns='urn:xmpp:bind:0'><sm:enabled id='1' sm:id='2'/></bound><bound xmlns='urn:xmpp:bind:0'><sm:enabled resume='true'/></bound><authorization-identifier> a&amp;b@h <x/>c</authorization-identifier></success>",
	"<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:fast:0' xmlns:token='urn:x' expiry='e'/><authorization-identifier xmlns='urn:other'>not this one</authorization-identifier></success>",
	"<s:success xmlns:s='urn:xmpp:sasl:2'><s:authorization-identifier>u@h</s:authorization-identifier></s:success>",
}

// TestDecodeSuccess: the fast path decodes a success as Unmarshal does.
func TestDecodeSuccess(t *testing.T) {
	for _, elem := range successSeeds {
		compareSuccess(t, []byte(elem))
	}
	if _, ok := successFromTree([]byte(successSeeds[0])); !ok {
		t.Errorf("Prosody's success took the slow path")
	}
}

// FuzzDecodeSuccess: whatever the fast path decodes, it decodes as
// Unmarshal does.
func FuzzDecodeSuccess(f *testing.F) {
	for _, s := range successSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		compareSuccess(t, elem)
	})
}

func compareSuccess(t *testing.T, elem []byte) {
	t.Helper()
	fast, ok := successFromTree(elem)
	if !ok {
		return
	}
	var want sasl2Success
	if err := xml.Unmarshal(elem, &want); err != nil {
		t.Fatalf("the fast path decoded %q, which Unmarshal refuses: %v", elem, err)
	}
	if !reflect.DeepEqual(*fast, want) {
		t.Fatalf("decodeSuccess(%q) = %+v, Unmarshal gives %+v", elem, *fast, want)
	}
}
