package xmppconn

import (
	"bytes"
	"encoding/xml"
	"sync"
)

// featuresMemo remembers the <stream:features/> a Connection decoded last.
// A server sends the same features on every stream it opens, so a
// reconnection finds them here instead of decoding them again with
// encoding/xml, which costs a connect more CPU than any other element it
// reads. It keeps two, the features before and after authentication of an
// RFC 6120 login. Decoded features are shared and read-only.
type featuresMemo struct {
	mu      sync.Mutex
	entries [2]memoEntry
	last    int // the entry hit or filled last
}

type memoEntry struct {
	raw []byte
	f   features
}

// decode returns the features serialized in elem. A nil memo decodes
// every time.
func (m *featuresMemo) decode(elem []byte) (features, error) {
	if m == nil {
		var f features
		err := xml.Unmarshal(elem, &f)
		return f, err
	}
	m.mu.Lock()
	for i, e := range m.entries {
		if e.raw != nil && bytes.Equal(e.raw, elem) {
			m.last = i
			m.mu.Unlock()
			return e.f, nil
		}
	}
	m.mu.Unlock()
	var f features
	if err := xml.Unmarshal(elem, &f); err != nil {
		return features{}, err
	}
	m.mu.Lock()
	m.last = 1 - m.last
	m.entries[m.last] = memoEntry{raw: bytes.Clone(elem), f: f}
	m.mu.Unlock()
	return f, nil
}
