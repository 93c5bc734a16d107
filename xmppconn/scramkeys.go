package xmppconn

import "github.com/xmppconn/xmppconn/auth"

// SCRAMKeysConfig configures the cache of SCRAM keys (auth.SCRAMKeyCache):
// a SCRAM login keeps the keys it derived from the password with PBKDF2,
// and the next login to the same account (a reconnection, or another
// Connection sharing the cache) skips PBKDF2 when the server names the
// same salt and iteration count, as a server that stores SCRAM keys does.
// The keys stay in memory from Connect until Disconnect of the last
// Connection that uses the cache, which zeroes them.
//
// The zero value uses a cache of the Connection's own.
type SCRAMKeysConfig struct {
	// Disabled makes every SCRAM login run PBKDF2.
	Disabled bool
	// Cache is the cache to use, to share one between the Connections of a
	// process (hold it with Hold while no Connection is connected, or it is
	// zeroed at each Disconnect of the last one). nil: one of the
	// Connection's own.
	Cache *auth.SCRAMKeyCache
}

// holdAuth marks the start of a Connect: the Connection holds its SCRAM key
// cache until Disconnect.
func (c *Connection) holdAuth() {
	if k := c.cfg.SCRAMKeys.Cache; k != nil && !c.cfg.SCRAMKeys.Disabled && c.keysHeld.CompareAndSwap(false, true) {
		k.Hold()
	}
}

// releaseAuth ends what holdAuth began, at Disconnect: the FAST token goes
// back to its store for another Connection, and the SCRAM key cache is
// released (zeroed when no other Connection holds it).
func (c *Connection) releaseAuth() {
	c.fast.release()
	if k := c.cfg.SCRAMKeys.Cache; k != nil && c.keysHeld.CompareAndSwap(true, false) {
		k.Release()
	}
}
