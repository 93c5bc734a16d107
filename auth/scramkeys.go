package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"strings"
	"sync"
)

// A SCRAM login costs the client PBKDF2 with the server's iteration count
// (thousands of HMACs), and for a given password, salt and count the result
// is always the same. RFC 5802 §5.1 lets a client keep it: the cache holds
// ClientKey, StoredKey and ServerKey (never the password, never
// SaltedPassword), so that the next login to the same account computes its
// proof with three HMACs. It only helps where the server keeps its salt: a
// server that stores the password in plain text (Prosody's internal_plain,
// ejabberd's plain format) draws a new salt at every login, and every login
// pays PBKDF2.

// MaxSCRAMKeys bounds the entries of a SCRAMKeyCache; past it the entry
// used least recently goes.
const MaxSCRAMKeys = 64

// SCRAMKeyCache keeps SCRAM keys between logins: one entry per hash
// function, salt, iteration count and password. The password itself is not
// kept: an entry is found by an HMAC of it under a key drawn at random for
// the cache. The keys let anyone log in to the account on that server until
// the password changes, like the password itself: the cache lives in memory
// only and is zeroed by Clear, or when its last holder releases it.
//
// A Connection holds its cache from Connect to Disconnect; Connections of
// one process may share a cache (Hold and Release count them). A
// SCRAMKeyCache is safe for concurrent use. The zero value is not usable:
// use NewSCRAMKeyCache.
type SCRAMKeyCache struct {
	mu      sync.Mutex
	idKey   []byte // HMAC key of the password identities; new after each Clear
	entries map[scramKeyID]*scramKeys
	clock   uint64 // counts uses, for eviction
	gen     uint64 // counts Clears
	holders int
	stats   SCRAMKeyStats
}

// SCRAMKeyStats counts what a SCRAMKeyCache did.
type SCRAMKeyStats struct {
	Hits    int // logins that found their keys
	Misses  int // logins that ran PBKDF2
	Entries int // entries held now
}

// scramKeyID is what an entry is found by.
type scramKeyID struct {
	hash     string // "SHA-1" or "SHA-256"
	salt     string
	iter     int
	password [sha256.Size]byte // HMAC-SHA-256(idKey, password)
}

// scramKeys are the RFC 5802 keys derived from SaltedPassword.
type scramKeys struct {
	clientKey, storedKey, serverKey []byte
	used                            uint64
}

func (k *scramKeys) zero() {
	clear(k.clientKey)
	clear(k.storedKey)
	clear(k.serverKey)
}

func (k *scramKeys) clone() *scramKeys {
	return &scramKeys{
		clientKey: append([]byte(nil), k.clientKey...),
		storedKey: append([]byte(nil), k.storedKey...),
		serverKey: append([]byte(nil), k.serverKey...),
	}
}

// NewSCRAMKeyCache returns an empty cache with no holder.
func NewSCRAMKeyCache() *SCRAMKeyCache {
	return &SCRAMKeyCache{}
}

// Hold counts one more holder of the cache.
func (c *SCRAMKeyCache) Hold() {
	c.mu.Lock()
	c.holders++
	c.mu.Unlock()
}

// Release counts one holder less; the last one clears the cache.
func (c *SCRAMKeyCache) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holders > 0 {
		c.holders--
	}
	if c.holders == 0 {
		c.clearLocked()
	}
}

// Clear zeroes and forgets every entry.
func (c *SCRAMKeyCache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
}

func (c *SCRAMKeyCache) clearLocked() {
	for id, k := range c.entries {
		k.zero()
		delete(c.entries, id)
	}
	clear(c.idKey)
	c.idKey = nil
	c.gen++
}

// Stats returns the counts of the cache.
func (c *SCRAMKeyCache) Stats() SCRAMKeyStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = len(c.entries)
	return s
}

// keys returns a copy of the keys for the SCRAM mechanism mech (its hash
// function h), password, salt and iteration count: the cached ones, or
// ones derived with PBKDF2 and kept. The caller zeroes the copy when done.
func (c *SCRAMKeyCache) keys(mech string, h func() hash.Hash, password string, salt []byte, iter int) (*scramKeys, error) {
	c.mu.Lock()
	if c.idKey == nil {
		c.idKey = make([]byte, sha256.Size)
		_, _ = rand.Read(c.idKey)
	}
	id := scramKeyID{hash: scramHashName(mech), salt: string(salt), iter: iter}
	m := hmac.New(sha256.New, c.idKey)
	m.Write([]byte(password))
	m.Sum(id.password[:0])
	c.clock++
	gen := c.gen
	if k, ok := c.entries[id]; ok {
		k.used = c.clock
		c.stats.Hits++
		out := k.clone()
		c.mu.Unlock()
		return out, nil
	}
	c.stats.Misses++
	c.mu.Unlock()

	// PBKDF2 runs without the lock: other logins need not wait for it.
	k, err := deriveSCRAMKeys(h, password, salt, iter)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		// Cleared meanwhile: the id was made with a key that is gone.
		return k, nil
	}
	if _, ok := c.entries[id]; !ok {
		if c.entries == nil {
			c.entries = make(map[scramKeyID]*scramKeys)
		}
		if len(c.entries) >= MaxSCRAMKeys {
			c.evictLocked()
		}
		kept := k.clone()
		kept.used = c.clock
		c.entries[id] = kept
	}
	return k, nil
}

// evictLocked drops the entry used least recently.
func (c *SCRAMKeyCache) evictLocked() {
	var oldest scramKeyID
	var at uint64
	first := true
	for id, k := range c.entries {
		if first || k.used < at {
			oldest, at, first = id, k.used, false
		}
	}
	if !first {
		c.entries[oldest].zero()
		delete(c.entries, oldest)
	}
}

// deriveSCRAMKeys computes the RFC 5802 keys: SaltedPassword :=
// PBKDF2(password, salt, iter), ClientKey := HMAC(SaltedPassword, "Client
// Key"), StoredKey := H(ClientKey), ServerKey := HMAC(SaltedPassword,
// "Server Key"). SaltedPassword is zeroed before it returns.
func deriveSCRAMKeys(h func() hash.Hash, password string, salt []byte, iter int) (*scramKeys, error) {
	salted, err := pbkdf2.Key(h, password, salt, iter, h().Size())
	if err != nil {
		return nil, err
	}
	defer clear(salted)
	mac := func(key []byte, text string) []byte {
		m := hmac.New(h, key)
		m.Write([]byte(text))
		return m.Sum(nil)
	}
	k := &scramKeys{clientKey: mac(salted, "Client Key"), serverKey: mac(salted, "Server Key")}
	sum := h()
	sum.Write(k.clientKey)
	k.storedKey = sum.Sum(nil)
	return k, nil
}

// scramHashName returns the hash function of a SCRAM mechanism's name.
func scramHashName(mech string) string {
	if strings.HasPrefix(mech, "SCRAM-SHA-256") {
		return "SHA-256"
	}
	return "SHA-1"
}

// scramHash returns the hash function of a SCRAM mechanism's name.
func scramHash(mech string) func() hash.Hash {
	if strings.HasPrefix(mech, "SCRAM-SHA-256") {
		return sha256.New
	}
	return sha1.New
}
