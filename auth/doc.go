// Package auth is the client side of XMPP authentication: it chooses a SASL
// mechanism (SCRAM-*-PLUS, SCRAM, PLAIN, ANONYMOUS, on top of
// mellium.im/sasl) under a security Policy, drives one SASL exchange as raw
// bytes, turns a server's <failure/> into a typed *FailureError, and holds
// credentials whose printed forms never show the password. For logins that
// come again it has XEP-0484 FAST tokens (NewFASTExchange, FASTStore) and a
// cache of SCRAM keys (SCRAMKeyCache) that spares PBKDF2. It does not read
// or write XML streams, base64-encode, dial, or emit events: the session
// layer does that and hands this package the offered mechanism names and
// the decoded challenges.
//
//	creds := auth.Credentials{Username: "alice", Password: auth.NewSecret(pw)}
//	var policy auth.Policy
//	if state, ok := conn.ConnectionState(); ok { // from the transport
//		policy.TLS = &state
//	}
//	ex, err := auth.NewExchange(offered, creds, policy)
//	if err != nil {
//		return err // errors.Is(err, auth.ErrNoMechanism)
//	}
//	resp, err := ex.Start() // send <auth mechanism=ex.Mechanism()>base64(resp)</auth>
//	// on <challenge/>: resp, err = ex.Step(decoded)
//	// on <success/>:   err = ex.Finish(decoded) // verifies the SCRAM server signature
//	// on <failure/>:   fe, err := auth.ParseFailure(elem); errors.Is(fe, auth.ErrNotAuthorized)
package auth
