package servertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// certValidity is how long the generated certificates are valid: long enough
// for any test run, short enough to be useless anywhere else.
const certValidity = 24 * time.Hour

// certFiles names the PEM files written by writeCerts.
type certFiles struct {
	CAFile   string // the CA certificate
	CertFile string // the server certificate (localhost, 127.0.0.1)
	KeyFile  string // the server key
}

// writeCerts generates a throwaway CA and a server certificate signed by it
// (ECDSA P-256, SANs localhost and 127.0.0.1), writes them as PEM into dir
// and returns the CA.
// The server files are named after the host so that Prosody's certificate
// directory lookup finds them too.
func writeCerts(dir string, now time.Time) (certFiles, *x509.Certificate, error) {
	files := certFiles{
		CAFile:   dir + "/ca.pem",
		CertFile: dir + "/localhost.crt",
		KeyFile:  dir + "/localhost.key",
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return files, nil, fmt.Errorf("servertest: generate ca key: %w", err)
	}
	caSerial, err := serial()
	if err != nil {
		return files, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: "xmppconn test CA", Organization: []string{"xmppconn tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return files, nil, fmt.Errorf("servertest: create ca certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return files, nil, fmt.Errorf("servertest: parse ca certificate: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return files, nil, fmt.Errorf("servertest: generate server key: %w", err)
	}
	leafSerial, err := serial()
	if err != nil {
		return files, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: leafSerial,
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return files, nil, fmt.Errorf("servertest: create server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return files, nil, fmt.Errorf("servertest: encode server key: %w", err)
	}

	for _, f := range []struct {
		path, typ string
		der       []byte
		mode      os.FileMode
	}{
		{files.CAFile, "CERTIFICATE", caDER, 0o644},
		{files.CertFile, "CERTIFICATE", der, 0o644},
		{files.KeyFile, "PRIVATE KEY", keyDER, 0o600},
	} {
		data := pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})
		if err := os.WriteFile(f.path, data, f.mode); err != nil {
			return files, nil, fmt.Errorf("servertest: write certificate: %w", err)
		}
	}
	return files, ca, nil
}

// serial returns a random 128-bit certificate serial number.
func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("servertest: certificate serial: %w", err)
	}
	return n, nil
}
