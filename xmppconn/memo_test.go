package xmppconn

import (
	"encoding/xml"
	"reflect"
	"testing"
)

// TestFeaturesMemo: features read again are the ones Unmarshal gives,
// whether remembered or not, for the two streams of an RFC 6120 login
// taking turns; bytes that differ are decoded anew.
func TestFeaturesMemo(t *testing.T) {
	before := []byte("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>")
	after := []byte("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>")
	other := []byte("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>")
	var m featuresMemo
	for i, elem := range [][]byte{before, after, before, after, other, before} {
		got, err := m.decode(elem)
		if err != nil {
			t.Fatalf("decode %d: %v", i, err)
		}
		var want features
		if err := xml.Unmarshal(elem, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decode %d = %+v, want %+v", i, got, want)
		}
	}
	if _, err := m.decode([]byte("<stream:features")); err == nil {
		t.Error("malformed features decoded")
	}
	var nilMemo *featuresMemo
	if f, err := nilMemo.decode(other); err != nil || len(f.Mechanisms) != 1 {
		t.Errorf("nil memo: %+v, %v", f, err)
	}
}

// TestJIDMemo: a remembered JID is the one jid.New or jid.Parse makes; an
// invalid one is an error every time; the memo stays small.
func TestJIDMemo(t *testing.T) {
	var m jidMemo
	for range 2 {
		j, err := m.new("Bot", "Example.NET", "")
		if err != nil || j.String() != "bot@example.net" {
			t.Fatalf("new = %v, %v", j, err)
		}
		p, err := m.parse("bot@example.net/r1")
		if err != nil || p.Resourcepart() != "r1" {
			t.Fatalf("parse = %v, %v", p, err)
		}
		if _, err := m.parse("a@b@c"); err == nil {
			t.Fatal("parse of an invalid JID succeeded")
		}
	}
	for i := range 3 * maxJIDMemo {
		if _, err := m.new("u", "example.net", string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.m) > maxJIDMemo {
		t.Errorf("memo holds %d JIDs, bound %d", len(m.m), maxJIDMemo)
	}
}

// TestLoopGroupIdle: idle tells that no goroutine is counted.
func TestLoopGroupIdle(t *testing.T) {
	var g loopGroup
	if !g.idle() {
		t.Fatal("a new group is not idle")
	}
	g.Add(2)
	g.Done()
	if g.idle() {
		t.Fatal("idle with a goroutine counted")
	}
	g.Done()
	g.Wait()
	if !g.idle() {
		t.Fatal("not idle once all are done")
	}
}
