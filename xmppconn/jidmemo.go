package xmppconn

import (
	"sync"

	"mellium.im/xmpp/jid"
)

// jidMemo keeps the JIDs a Connection made last: the account's and the one
// the server bound, the same at every reconnection, so that their PRECIS
// and IDNA checks, the costliest part of making a JID, run once. It holds
// a few; more clears it.
type jidMemo struct {
	mu sync.Mutex
	m  map[jidKey]jid.JID
}

type jidKey struct {
	local, domain, resource string
	parsed                  bool // from jid.Parse(local) rather than jid.New
}

// maxJIDMemo bounds the JIDs a jidMemo holds.
const maxJIDMemo = 8

// new is jid.New(local, domain, resource).
func (m *jidMemo) new(local, domain, resource string) (jid.JID, error) {
	return m.get(jidKey{local: local, domain: domain, resource: resource}, func() (jid.JID, error) {
		return jid.New(local, domain, resource)
	})
}

// parse is jid.Parse(s).
func (m *jidMemo) parse(s string) (jid.JID, error) {
	return m.get(jidKey{local: s, parsed: true}, func() (jid.JID, error) { return jid.Parse(s) })
}

func (m *jidMemo) get(k jidKey, build func() (jid.JID, error)) (jid.JID, error) {
	if m == nil {
		return build()
	}
	m.mu.Lock()
	j, ok := m.m[k]
	m.mu.Unlock()
	if ok {
		return j, nil
	}
	j, err := build()
	if err != nil {
		return j, err // errors are not kept: they end the attempt anyway
	}
	m.mu.Lock()
	if m.m == nil || len(m.m) >= maxJIDMemo {
		m.m = make(map[jidKey]jid.JID, maxJIDMemo)
	}
	m.m[k] = j
	m.mu.Unlock()
	return j, nil
}
