package xmlframe_test

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// A Splitter turns what an xml.Encoder writes into one message per element.
func ExampleSplitter() {
	var s xmlframe.Splitter
	emit := func(elem []byte) error {
		fmt.Printf("%s\n", elem)
		return nil
	}
	for _, chunk := range []string{"<presence/><message to='a@b'><bo", "dy>hi</body></message>", "</stream:stream>"} {
		if err := s.Write([]byte(chunk), emit); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println("ended:", s.Ended())
	// Output:
	// <presence/>
	// <message to='a@b'><body>hi</body></message>
	// ended: true
}

func ExampleCheck() {
	fmt.Println(xmlframe.Check([]byte("<message xmlns='jabber:client'/>"), transport.Limits{}))
	fmt.Println(xmlframe.Check([]byte("<a><b><c/></b></a>"), transport.Limits{MaxDepth: 2}))
	fmt.Println(xmlframe.Check([]byte("<a><!-- hi --></a>"), transport.Limits{}))
	// Output:
	// <nil>
	// transport: server input exceeds nesting depth limit
	// xmlframe: check: comment not allowed at offset 14
}

// AppendElement makes each child of a BOSH <body> self-contained.
func ExampleAppendElement() {
	d := xml.NewDecoder(strings.NewReader(
		"<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'>" +
			"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features></body>"))
	d.Token() // <body>
	tok, _ := d.Token()
	elem, err := xmlframe.AppendElement(nil, tok.(xml.StartElement), d, "jabber:client")
	fmt.Printf("%s %v\n", elem, err)
	// Output:
	// <stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features> <nil>
}

func ExampleEnsureNamespace() {
	fmt.Printf("%s\n", xmlframe.EnsureNamespace([]byte("<message to='a@b'/>"), "jabber:client"))
	// Output:
	// <message xmlns='jabber:client' to='a@b'/>
}
