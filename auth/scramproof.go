package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
)

// mellium.im/sasl runs PBKDF2 inside its SCRAM mechanism and offers no way
// to hand it keys computed before, so the one step that uses the keys is
// computed here, and only that step: the client-first-message is still
// mellium's, the server-first-message is checked by checkServerFirst, and
// the tests check that this code and mellium's give the same
// client-final-message for the same messages (and that mellium's SCRAM
// server accepts it).

// scramFinal computes the RFC 5802 client-final-message from keys k (hash
// function h), the client-first-message clientFirst (as sent, with its GS2
// header), the server-first-message serverFirst (checked by
// checkServerFirst) and the channel-binding data cbData of the type the GS2
// header names (nil without channel binding). It also returns the server
// signature the server-final-message must carry.
//
//	AuthMessage     := client-first-message-bare + "," + server-first-message + "," + client-final-message-without-proof
//	ClientSignature := HMAC(StoredKey, AuthMessage)
//	ClientProof     := ClientKey XOR ClientSignature
//	ServerSignature := HMAC(ServerKey, AuthMessage)
func scramFinal(h func() hash.Hash, k *scramKeys, clientFirst, serverFirst, cbData []byte) (final, serverSignature []byte, err error) {
	gs2, bare, ok := splitGS2(clientFirst)
	if !ok {
		return nil, nil, fmt.Errorf("sasl: client-first-message has no GS2 header")
	}
	clientNonce, ok := attribute(bare, 'r')
	if !ok {
		return nil, nil, fmt.Errorf("sasl: client-first-message has no nonce")
	}
	nonce, _ := attribute(serverFirst, 'r')
	if len(nonce) <= len(clientNonce) || !bytes.HasPrefix(nonce, clientNonce) {
		return nil, nil, fmt.Errorf("%w: server nonce does not extend the client nonce", ErrChallengeRejected)
	}
	if (gs2[0] == 'p') != (cbData != nil) {
		return nil, nil, fmt.Errorf("sasl: channel-binding data does not match the GS2 header")
	}

	cbind := append(append([]byte(nil), gs2...), cbData...)
	withoutProof := make([]byte, 0, 2+base64.StdEncoding.EncodedLen(len(cbind))+3+len(nonce))
	withoutProof = append(withoutProof, "c="...)
	withoutProof = base64.StdEncoding.AppendEncode(withoutProof, cbind)
	withoutProof = append(withoutProof, ",r="...)
	withoutProof = append(withoutProof, nonce...)

	authMessage := make([]byte, 0, len(bare)+len(serverFirst)+len(withoutProof)+2)
	authMessage = append(authMessage, bare...)
	authMessage = append(authMessage, ',')
	authMessage = append(authMessage, serverFirst...)
	authMessage = append(authMessage, ',')
	authMessage = append(authMessage, withoutProof...)

	m := hmac.New(h, k.storedKey)
	m.Write(authMessage)
	proof := m.Sum(nil)
	subtle.XORBytes(proof, k.clientKey, proof)

	m = hmac.New(h, k.serverKey)
	m.Write(authMessage)
	serverSignature = m.Sum(nil)

	final = append(withoutProof, ",p="...)
	final = base64.StdEncoding.AppendEncode(final, proof)
	clear(proof)
	return final, serverSignature, nil
}

// splitGS2 splits a client-first-message into its GS2 header (the
// channel-binding flag and the authorization identity, each followed by a
// comma) and the client-first-message-bare.
func splitGS2(msg []byte) (gs2, bare []byte, ok bool) {
	i := bytes.IndexByte(msg, ',')
	if i < 1 {
		return nil, nil, false
	}
	j := bytes.IndexByte(msg[i+1:], ',')
	if j < 0 {
		return nil, nil, false
	}
	end := i + 1 + j + 1
	return msg[:end], msg[end:], true
}

// attribute returns the value of the first attribute named name in a SCRAM
// message (comma-separated name=value pairs).
func attribute(msg []byte, name byte) ([]byte, bool) {
	for a := range bytes.SplitSeq(msg, []byte{','}) {
		if len(a) >= 2 && a[0] == name && a[1] == '=' {
			return a[2:], true
		}
	}
	return nil, false
}

// saltAndIterations returns the salt and the iteration count of a
// server-first-message that checkServerFirst accepted.
func saltAndIterations(serverFirst []byte) ([]byte, int, error) {
	s, _ := attribute(serverFirst, 's')
	salt, err := base64.StdEncoding.DecodeString(string(s))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: server-first-message: salt is not base64", ErrChallengeRejected)
	}
	i, _ := attribute(serverFirst, 'i')
	iter, err := strconv.Atoi(string(i))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: server-first-message: iteration count is not a number", ErrChallengeRejected)
	}
	return salt, iter, nil
}

// gs2ChannelBinding returns the channel-binding type a GS2 header names
// ("p=TYPE"), or "" when it names none.
func gs2ChannelBinding(gs2 []byte) string {
	if t, ok := bytes.CutPrefix(gs2, []byte("p=")); ok {
		if i := bytes.IndexByte(t, ','); i >= 0 {
			return string(t[:i])
		}
	}
	return ""
}
