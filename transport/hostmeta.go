package transport

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Endpoint kinds, as in Endpoint.Kind.
const (
	KindWebSocket = "websocket" // RFC 7395: ws:// or wss://
	KindBOSH      = "bosh"      // XEP-0124/0206: http:// or https://
)

// Link relations of XEP-0156 for the endpoints host-meta lists.
const (
	RelWebSocket = "urn:xmpp:alt-connections:websocket"
	RelBOSH      = "urn:xmpp:alt-connections:xbosh"
)

// NSXRD is the namespace of a host-meta XRD document (RFC 6415).
const NSXRD = "http://docs.oasis-open.org/ns/xri/xrd-1.0"

// maxXRDDepth bounds the element nesting ParseXRD accepts. A host-meta
// document is two levels deep (XRD, Link) with maybe a Title or Property
// below; anything deeper than this is not host-meta.
const maxXRDDepth = 16

// utf8BOM is the byte order mark some servers put before a document.
var utf8BOM = []byte("\ufeff")

// Endpoint is a connection endpoint found by XEP-0156 discovery.
type Endpoint struct {
	URL  string // absolute ws://, wss://, http:// or https:// URL
	Kind string // KindWebSocket or KindBOSH
}

// Secure reports whether the endpoint is protected by TLS (wss:// or
// https://).
func (e Endpoint) Secure() bool {
	scheme, _, ok := strings.Cut(e.URL, "://")
	return ok && (strings.EqualFold(scheme, "wss") || strings.EqualFold(scheme, "https"))
}

// ErrMalformedHostMeta reports a host-meta document that could not be read:
// not well-formed XML or JSON, or not a host-meta document at all.
var ErrMalformedHostMeta = errors.New("transport: malformed host-meta")

// ParseXRD reads a host-meta document in XRD form (RFC 6415, root <XRD> in
// namespace NSXRD) and returns the endpoints of its <Link> elements whose rel
// is RelWebSocket or RelBOSH, in document order. Links of other relations
// are ignored, and so are links whose href is not an absolute URL of a
// scheme that fits the relation (ws/wss for WebSocket, http/https for BOSH).
// Plaintext endpoints are returned too: Discover decides what to keep.
// A document that is not well-formed, whose root is not <XRD> in NSXRD, or
// that nests deeper than a host-meta document can gives an error wrapping
// ErrMalformedHostMeta. Callers bound the size of body.
func ParseXRD(body []byte) ([]Endpoint, error) {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))
	var (
		eps    []Endpoint
		depth  int
		sawXRD bool
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: XRD: %v", ErrMalformedHostMeta, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXRDDepth {
				return nil, fmt.Errorf("%w: XRD: nested deeper than %d elements", ErrMalformedHostMeta, maxXRDDepth)
			}
			switch {
			case depth == 1 && sawXRD:
				return nil, fmt.Errorf("%w: XRD: more than one root element", ErrMalformedHostMeta)
			case depth == 1:
				if t.Name.Space != NSXRD || t.Name.Local != "XRD" {
					return nil, fmt.Errorf("%w: XRD: root is <%s xmlns=%q>, want <XRD xmlns=%q>",
						ErrMalformedHostMeta, t.Name.Local, t.Name.Space, NSXRD)
				}
				sawXRD = true
			case depth == 2 && t.Name.Space == NSXRD && t.Name.Local == "Link":
				if ep, ok := linkEndpoint(xmlAttr(t, "rel"), xmlAttr(t, "href")); ok {
					eps = append(eps, ep)
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: XRD: text outside the root element", ErrMalformedHostMeta)
			}
		}
	}
	if !sawXRD {
		return nil, fmt.Errorf("%w: XRD: no root element", ErrMalformedHostMeta)
	}
	return eps, nil
}

// xmlAttr returns the value of the unqualified attribute name of e.
func xmlAttr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// hostMetaJSON is the JSON form of host-meta (RFC 6415 appendix A). Links
// are decoded one by one so that a single odd link does not spoil the rest.
type hostMetaJSON struct {
	Links []json.RawMessage `json:"links"`
}

type hostMetaJSONLink struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// ParseHostMetaJSON reads a host-meta document in JSON form (RFC 6415
// appendix A: {"links": [{"rel": ..., "href": ...}]}) and returns its
// WebSocket and BOSH endpoints, in document order, by the same rules as
// ParseXRD. A link that is not an object with string rel and href is
// ignored. A body that is not one JSON object, or whose "links" is not an
// array, gives an error wrapping ErrMalformedHostMeta. Callers bound the
// size of body.
func ParseHostMetaJSON(body []byte) ([]Endpoint, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, utf8BOM))
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: JSON: not an object", ErrMalformedHostMeta)
	}
	var doc hostMetaJSON
	if err := json.Unmarshal(trimmed, &doc); err != nil {
		return nil, fmt.Errorf("%w: JSON: %v", ErrMalformedHostMeta, err)
	}
	var eps []Endpoint
	for _, raw := range doc.Links {
		var l hostMetaJSONLink
		if json.Unmarshal(raw, &l) != nil {
			continue
		}
		if ep, ok := linkEndpoint(l.Rel, l.Href); ok {
			eps = append(eps, ep)
		}
	}
	return eps, nil
}

// linkEndpoint turns a host-meta link into an Endpoint when rel is one of
// ours and href is an absolute URL of a scheme that fits it.
func linkEndpoint(rel, href string) (Endpoint, bool) {
	var kind string
	var schemes [2]string
	switch strings.TrimSpace(rel) {
	case RelWebSocket:
		kind, schemes = KindWebSocket, [2]string{"wss", "ws"}
	case RelBOSH:
		kind, schemes = KindBOSH, [2]string{"https", "http"}
	default:
		return Endpoint{}, false
	}
	href = strings.TrimSpace(href)
	u, err := url.Parse(href)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return Endpoint{}, false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != schemes[0] && scheme != schemes[1] {
		return Endpoint{}, false
	}
	return Endpoint{URL: href, Kind: kind}, true
}
