package jitsi

import (
	"errors"
	"testing"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// FuzzParseDiscoPayload reads arbitrary properties pushes and disco#info
// results: no panic; malformed XML gives a *xmppconn.ProtocolError and
// nothing else; what is read is sane: no empty feature, every port a
// 16-bit number, properties only when they name a shard, region or release,
// and a service never shows its password when printed.
func FuzzParseDiscoPayload(f *testing.F) {
	for _, s := range []string{
		jitsiPush,
		`<iq xmlns='jabber:client' type='result' from='meet.example.com'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im' name='Prosody'/><feature var=''/></query></iq>`,
		`<message xmlns='jabber:client' from='d'><services xmlns='urn:xmpp:extdisco:2'><service type='turns' host='turn.example.com' port='443' transport='tcp' username='u' password='hunter2' expires='2030-01-01T00:00:00Z' restricted='1'/></services></message>`,
		`<message xmlns='jabber:client' from='d'><services xmlns='urn:xmpp:extdisco:2'><service type='turn' host='h' port='99999' expires='soon'/></services></message>`,
		`<message xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/disco#info'/><query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='shard' name='s2'/></query></message>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		info, services, err := parseDiscoPayload(elem)
		if err != nil {
			var pe *xmppconn.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("parseDiscoPayload(%q) error %T %v, want a *xmppconn.ProtocolError", elem, err, err)
			}
			if info != nil || services != nil {
				t.Fatalf("parseDiscoPayload(%q) returned data with its error", elem)
			}
			return
		}
		if info != nil {
			for _, v := range info.Features {
				if v == "" {
					t.Fatalf("parseDiscoPayload(%q): an empty feature", elem)
				}
			}
			if props := info.serverProperties(); props != nil {
				named := false
				for _, typ := range deploymentTypes {
					_, ok := props[typ]
					named = named || ok
				}
				if !named {
					t.Fatalf("parseDiscoPayload(%q): properties %v without shard, region or release", elem, props)
				}
			}
		}
		for _, s := range services {
			if s.Port < 0 || s.Port > 65535 {
				t.Fatalf("parseDiscoPayload(%q): port %d", elem, s.Port)
			}
			blank := s
			blank.Password = "x"
			if s.String() != blank.String() {
				t.Fatalf("parseDiscoPayload(%q): %q depends on the password", elem, s.String())
			}
		}
	})
}
