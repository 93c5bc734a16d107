package xmppconn

import (
	"crypto/rand"
	"encoding/hex"
)

// newID returns a random stanza id.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
