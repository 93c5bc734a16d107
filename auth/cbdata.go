package auth

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
)

// ChannelBindingTLSServerEndPoint is the RFC 5929 tls-server-end-point
// channel-binding type: a hash of the server's certificate.
const ChannelBindingTLSServerEndPoint = "tls-server-end-point"

// exporterLabel and exporterLength are RFC 9266's keying material export.
const (
	exporterLabel  = "EXPORTER-Channel-Binding"
	exporterLength = 32
)

// errNoChannelBinding reports channel-binding data that the TLS connection
// cannot give.
var errNoChannelBinding = errors.New("sasl: channel binding not possible on this connection")

// channelBindingData returns the channel-binding data of type typ for the
// TLS connection cs: the RFC 9266 exported keying material for
// tls-exporter, the RFC 5929 Finished message for tls-unique (TLS 1.2
// only, and only with the extended master secret, see ChannelBinding), the
// RFC 5929 certificate hash for tls-server-end-point.
func channelBindingData(cs *tls.ConnectionState, typ string) ([]byte, error) {
	if cs == nil || !cs.HandshakeComplete {
		return nil, errNoChannelBinding
	}
	switch typ {
	case ChannelBindingTLSExporter:
		if cs.Version < tls.VersionTLS13 || !canExport(cs) {
			return nil, errNoChannelBinding
		}
		return cs.ExportKeyingMaterial(exporterLabel, nil, exporterLength)
	case ChannelBindingTLSUnique:
		if ChannelBinding(cs) != ChannelBindingTLSUnique {
			return nil, errNoChannelBinding
		}
		return cs.TLSUnique, nil
	case ChannelBindingTLSServerEndPoint:
		return serverEndPoint(cs)
	}
	return nil, fmt.Errorf("sasl: unknown channel-binding type %q", printable(typ))
}

// serverEndPoint returns the RFC 5929 §4.1 tls-server-end-point data: the
// hash of the server's certificate with the hash function of its signature
// algorithm, SHA-256 when that is MD5 or SHA-1. A signature algorithm with
// no single hash function (Ed25519) leaves it undefined.
func serverEndPoint(cs *tls.ConnectionState) ([]byte, error) {
	if len(cs.PeerCertificates) == 0 {
		return nil, errNoChannelBinding
	}
	cert := cs.PeerCertificates[0]
	var h hash.Hash
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256, x509.DSAWithSHA256:
		h = sha256.New()
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = sha512.New()
	default:
		return nil, errNoChannelBinding
	}
	h.Write(cert.Raw)
	return h.Sum(nil), nil
}
