package auth

import (
	"bytes"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
)

// Channel-binding types (RFC 5929, RFC 9266) as named in XEP-0440.
const (
	ChannelBindingTLSExporter = "tls-exporter"
	ChannelBindingTLSUnique   = "tls-unique"
)

// NSChannelBinding is the namespace of the XEP-0440 <sasl-channel-binding/>
// stream feature.
const NSChannelBinding = "urn:xmpp:sasl-cb:0"

// ChannelBinding returns the channel-binding type that mellium.im/sasl would
// use for SCRAM-*-PLUS on the TLS connection cs, or "" when channel binding is
// not possible or not safe there:
//
//   - TLS 1.3: "tls-exporter" (RFC 9266), when keying material can be
//     exported from cs.
//   - TLS 1.2: "tls-unique" (RFC 5929), when cs has tls-unique data and
//     uses the extended master secret (RFC 7627); without it tls-unique is
//     open to the triple-handshake attack. Go refuses to export keying
//     material from such a connection, which is how this is detected.
//   - no TLS, an unfinished handshake, TLS 1.1 or older: "".
//
// A tls.ConnectionState built by hand (not returned by a tls.Conn) cannot
// export keying material and gives "".
func ChannelBinding(cs *tls.ConnectionState) string {
	if cs == nil || !cs.HandshakeComplete {
		return ""
	}
	switch {
	case cs.Version >= tls.VersionTLS13:
		if canExport(cs) {
			return ChannelBindingTLSExporter
		}
	case cs.Version == tls.VersionTLS12:
		if len(cs.TLSUnique) > 0 && canExport(cs) {
			return ChannelBindingTLSUnique
		}
	}
	return ""
}

// canExport reports whether cs can export the RFC 9266 keying material. A
// ConnectionState that did not come from a tls.Conn has no exporter and
// ExportKeyingMaterial panics on it; that counts as "cannot".
func canExport(cs *tls.ConnectionState) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	b, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	return err == nil && len(b) == 32
}

// ErrMalformedFeature reports a stream feature element that could not be
// parsed.
var ErrMalformedFeature = errors.New("sasl: malformed stream feature")

// ParseChannelBindings parses a serialized XEP-0440
// <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/> stream feature and
// returns the advertised types in document order (never nil on success), for
// Policy.ChannelBindings.
func ParseChannelBindings(elem []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(elem))
	root, err := rootElement(d)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedFeature, err)
	}
	if root.Name.Space != NSChannelBinding || root.Name.Local != "sasl-channel-binding" {
		return nil, fmt.Errorf("%w: got <%s xmlns=%q>, want <sasl-channel-binding xmlns=%q>",
			ErrMalformedFeature, root.Name.Local, root.Name.Space, NSChannelBinding)
	}
	types := []string{}
	err = walkChildren(d, func(_ int, child xml.StartElement) {
		if child.Name.Space != NSChannelBinding || child.Name.Local != "channel-binding" {
			return
		}
		for _, a := range child.Attr {
			if a.Name.Space == "" && a.Name.Local == "type" && a.Value != "" {
				types = append(types, a.Value)
			}
		}
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedFeature, err)
	}
	return types, nil
}
