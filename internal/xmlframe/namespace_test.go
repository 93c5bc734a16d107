package xmlframe

import "testing"

func TestEnsureNamespace(t *testing.T) {
	tests := []struct {
		name, elem, want string
	}{
		{"bare stanza", "<message to='a'><body/></message>", "<message xmlns='jabber:client' to='a'><body/></message>"},
		{"self-closing", "<presence/>", "<presence xmlns='jabber:client'/>"},
		{"leading whitespace", " \n<iq/>", " \n<iq xmlns='jabber:client'/>"},
		{"declared", "<message xmlns='jabber:server'/>", "<message xmlns='jabber:server'/>"},
		{"declared after other attrs", `<iq id="x>" type = 'get' xmlns = "jabber:client"/>`, `<iq id="x>" type = 'get' xmlns = "jabber:client"/>`},
		{"prefixed", "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>", "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>"},
		{"xmlns in a child only", "<message><x xmlns='y'/></message>", "<message xmlns='jabber:client'><x xmlns='y'/></message>"},
		{"prefix declaration is not a default", "<a xmlns:p='x'/>", "<a xmlns='jabber:client' xmlns:p='x'/>"},
		{"attribute named like xmlns", "<a xmlnsx='1'/>", "<a xmlns='jabber:client' xmlnsx='1'/>"},
		{"not an element", "hello", "hello"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.elem)
			got := EnsureNamespace(in, "jabber:client")
			if string(got) != tt.want {
				t.Errorf("EnsureNamespace(%q) = %q, want %q", tt.elem, got, tt.want)
			}
			if string(in) != tt.elem {
				t.Errorf("input modified: %q", in)
			}
		})
	}
}

func TestEnsureNamespaceEscapes(t *testing.T) {
	got := EnsureNamespace([]byte("<a/>"), "urn:x'&y")
	if want := "<a xmlns='urn:x&apos;&amp;y'/>"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
