package websocket

import (
	"errors"
	"fmt"
	"testing"

	"github.com/xmppconn/xmppconn/transport"
)

func TestErrorsClassify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		transient bool
		status    int
	}{
		{"lost without close", &CloseError{Code: 1006}, true, 0},
		{"upgrade refused 503", &HandshakeError{Status: 503}, true, 503},
		{"upgrade refused 403", &HandshakeError{Status: 403}, false, 403},
		{"upgrade answered 200", &HandshakeError{Status: 200}, false, 200},
		{"binary message", &ProtocolError{Msg: "binary message"}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", tc.err)
			transient, known := transport.Transient(err)
			if !known || transient != tc.transient {
				t.Errorf("Transient = %v, %v; want %v, true", transient, known, tc.transient)
			}
			var hs transport.HTTPStatuser
			if got := 0; errors.As(err, &hs) {
				got = hs.HTTPStatus()
				if got != tc.status {
					t.Errorf("HTTPStatus = %d, want %d", got, tc.status)
				}
			} else if tc.status != 0 {
				t.Errorf("no HTTPStatus, want %d", tc.status)
			}
		})
	}
}
