package xmppconn

// inspect sees every stanza the server sends on a live session (and the
// stanzas that arrived during negotiation, once the session is up), before
// the Handler does. The Jitsi semantics (properties, lobby) hook in here.
// It runs on the read loop: it must not block.
func (c *Connection) inspect(r root, elem []byte) {}

// established runs after each transition to CONNECTED, without locks, on
// the goroutine that made the transition. It must not block for long.
func (c *Connection) established(resumed bool) {}
