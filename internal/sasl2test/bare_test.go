//go:build unix

package sasl2test_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net"
	"net/url"
	"testing"
	"time"
)

// bareLogin is the least a Go program can do to log in over WebSocket with
// SASL2, Bind 2 and stream management, as a reference for the cost of a
// connect on this machine: the same three round trips after TCP as a FAST
// login (the upgrade, <open/>, <authenticate/>), made with net.Dial and
// fixed bytes, no WebSocket or XML library, no checks; PLAIN, so that it
// computes nothing. It returns the CPU from the dial to the <success/>.
func bareLogin(t *testing.T, wsURL, domain, user, pass string) time.Duration {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := cpuTime()
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bareReader{c: c}
	write := func(b []byte) {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	write([]byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" +
		"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n"))
	if err := r.untilHeaderEnd(); err != nil {
		t.Fatal(err)
	}
	write(bareFrame(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='` + domain + `' version='1.0' from='` + user + `@` + domain + `'/>`))
	if err := r.untilFrameWith("</stream:features>"); err != nil {
		t.Fatal(err)
	}
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	write(bareFrame(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>` + ir +
		`</initial-response><user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>bare</software></user-agent>` +
		`<bind xmlns='urn:xmpp:bind:0'><tag>bare</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind></authenticate>`))
	if err := r.untilFrameWith("<success"); err != nil {
		t.Fatal(err)
	}
	return cpuTime() - cpu0
}

// bareFrame is a masked WebSocket text frame (mask key zero) of p.
func bareFrame(p string) []byte {
	b := []byte{0x81}
	if len(p) < 126 {
		b = append(b, 0x80|byte(len(p)))
	} else {
		b = append(b, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, p...)
}

// bareReader reads the server's side of a bare login.
type bareReader struct {
	c   net.Conn
	buf []byte
}

func (r *bareReader) more() error {
	var tmp [4096]byte
	n, err := r.c.Read(tmp[:])
	r.buf = append(r.buf, tmp[:n]...)
	return err
}

// untilHeaderEnd reads the HTTP answer to the upgrade.
func (r *bareReader) untilHeaderEnd() error {
	for {
		if i := bytes.Index(r.buf, []byte("\r\n\r\n")); i >= 0 {
			if !bytes.HasPrefix(r.buf, []byte("HTTP/1.1 101")) {
				return errors.New("upgrade refused: " + string(r.buf[:i]))
			}
			r.buf = r.buf[i+4:]
			return nil
		}
		if err := r.more(); err != nil {
			return err
		}
	}
}

// untilFrameWith reads unmasked frames until one holds s.
func (r *bareReader) untilFrameWith(s string) error {
	for {
		for len(r.buf) >= 2 {
			n, h := int(r.buf[1]&0x7f), 2
			if n == 126 {
				if len(r.buf) < 4 {
					break
				}
				n, h = int(binary.BigEndian.Uint16(r.buf[2:])), 4
			}
			if n == 127 || len(r.buf) < h+n {
				break
			}
			found := bytes.Contains(r.buf[h:h+n], []byte(s))
			r.buf = r.buf[h+n:]
			if found {
				return nil
			}
		}
		if err := r.more(); err != nil {
			return err
		}
	}
}
