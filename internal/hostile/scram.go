package hostile

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strings"
)

// SASLPayload returns the decoded base64 content of a SASL element the
// client sent (<auth/>, <response/>, SASL2 <authenticate/>'s
// <initial-response/>).
func SASLPayload(elem string) ([]byte, error) {
	var v struct {
		Text    string `xml:",chardata"`
		Initial string `xml:"initial-response"`
	}
	if err := xml.Unmarshal([]byte(elem), &v); err != nil {
		return nil, err
	}
	s := strings.TrimSpace(v.Text)
	if v.Initial != "" {
		s = strings.TrimSpace(v.Initial)
	}
	if s == "=" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// ClientNonce returns the nonce of the SCRAM client-first-message carried by
// the client's <auth/>.
func ClientNonce(authElem string) (string, error) {
	data, err := SASLPayload(authElem)
	if err != nil {
		return "", err
	}
	for _, f := range strings.Split(string(data), ",") {
		if strings.HasPrefix(f, "r=") {
			return f[2:], nil
		}
	}
	return "", errors.New("hostile: no nonce in the client-first-message")
}

// ServerFirst returns a SCRAM server-first-message: the combined nonce, the
// salt (base64) and the iteration count, each as given, so that a script
// can send any of them broken.
func ServerFirst(nonce, salt, iterations string) []byte {
	return []byte("r=" + nonce + ",s=" + salt + ",i=" + iterations)
}

// Salt is a well-formed SCRAM salt.
var Salt = base64.StdEncoding.EncodeToString([]byte("hostile-salt-16b"))

// PLAINPassword returns the password of a SASL PLAIN <auth/>.
func PLAINPassword(authElem string) string {
	data, err := SASLPayload(authElem)
	if err != nil {
		return ""
	}
	parts := strings.Split(string(data), "\x00")
	return parts[len(parts)-1]
}
