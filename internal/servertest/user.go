package servertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"
)

// NewUser registers a fresh account with a random name and password on the
// server's Domain and returns them. It fails the test when the server
// refuses.
func (s *Server) NewUser(t testing.TB) (user, password string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	user = "u" + hex.EncodeToString(b[:])
	password = "p-" + hex.EncodeToString(b[3:]) + "-secret"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.AddUser(ctx, user, password); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	return user, password
}
