package websocket

import (
	"context"
	"testing"

	coder "github.com/coder/websocket"
)

// TestOpenFrom: Options.From goes into every <open/>, the restart's too,
// escaped; without it there is no from.
func TestOpenFrom(t *testing.T) {
	tests := []struct {
		from, want string
	}{
		{"", clientOpen},
		{"alice@example.com", "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' from='alice@example.com' version='1.0'/>"},
		{"o'neil@example.com", "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' from='o&#39;neil@example.com' version='1.0'/>"},
	}
	for _, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			got := make(chan string, 2)
			s := newServer(t, true, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
				for range 2 {
					got <- read(ctx, ws)
					write(ctx, ws, serverOpen)
				}
				drainUntilClosed(ctx, ws)
			})
			c := s.dial(t, &Options{From: tt.from})
			for _, restart := range []bool{false, true} {
				if _, err := c.Open(context.Background(), restart); err != nil {
					t.Fatalf("Open(%t): %v", restart, err)
				}
				if g := <-got; g != tt.want {
					t.Errorf("Open(%t) sent %s, want %s", restart, g, tt.want)
				}
			}
		})
	}
}
