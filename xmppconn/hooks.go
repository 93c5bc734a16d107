package xmppconn

// inspect sees every stanza the server sends on a live session (and the
// stanzas that arrived during negotiation, once the session is up), before
// the Handler does. The Jitsi semantics hook in here: answers to the IQs of
// the Jitsi helpers, the properties push and disco#info results of the
// domain (properties.go, lobby.go), and room presences (room.go). It runs on
// the processor (session.go): it must not block.
func (c *Connection) inspect(r root, elem []byte) {
	switch r.Name.Local {
	case "iq":
		switch r.attr("type") {
		case "result":
			if !c.answerIQ(r, elem) {
				c.inspectDiscoResult(r, elem)
			}
		case "error":
			c.answerIQ(r, elem)
		}
	case "message":
		c.inspectPush(r, elem)
	case "presence":
		c.inspectPresence(r, elem)
	}
}

// established runs after each transition to CONNECTED, without locks, on
// the goroutine that made the transition. It must not block for long: it
// only sends, and the answers are handled by inspect.
func (c *Connection) established(resumed bool) {
	c.jitsiStart()
	c.propertiesOnEstablished(resumed)
}
