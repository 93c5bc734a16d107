package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// tlsPair performs a real TLS handshake of the given version over an
// in-memory pipe and returns the client's and the server's connection
// states. Both ends are closed before it returns; the states stay usable
// (their keying-material exporters need no I/O).
func tlsPair(t *testing.T, version uint16) (client, server tls.ConnectionState) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "example.com"},
		DNSNames:     []string{"example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)

	cRaw, sRaw := net.Pipe()
	defer cRaw.Close()
	defer sRaw.Close()
	sConn := tls.Server(sRaw, &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   version,
		MaxVersion:   version,
		// No tickets: nothing is written after the handshake that the
		// client would have to read from the synchronous pipe.
		SessionTicketsDisabled: true,
	})
	cConn := tls.Client(cRaw, &tls.Config{
		RootCAs:    roots,
		ServerName: "example.com",
		MinVersion: version,
		MaxVersion: version,
	})
	done := make(chan error, 1)
	go func() { done <- sConn.Handshake() }()
	cErr := cConn.Handshake()
	if cErr != nil {
		sRaw.Close() // unblock the server side
	}
	sErr := <-done
	if cErr != nil || sErr != nil {
		t.Fatalf("TLS handshake: client %v, server %v", cErr, sErr)
	}
	return cConn.ConnectionState(), sConn.ConnectionState()
}
