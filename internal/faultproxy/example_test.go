package faultproxy_test

import (
	"fmt"
	"io"
	"net"

	"github.com/xmppconn/xmppconn/internal/faultproxy"
)

// The proxy sits between a client and its server; Cut then drops the
// connection under the client, which reads EOF, and the client redials.
func Example() {
	// An echo server stands for Prosody.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(c, c) // one client at a time is enough here
			c.Close()
		}
	}()
	defer func() { ln.Close(); <-done }()

	p, err := faultproxy.Start(ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	buf := make([]byte, 4)
	c.Write([]byte("ping"))
	io.ReadFull(c, buf)
	fmt.Printf("%s\n", buf)

	p.Cut()
	_, err = c.Read(buf)
	fmt.Println("after Cut:", err)

	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c2.Close()
	c2.Write([]byte("pong"))
	io.ReadFull(c2, buf)
	fmt.Printf("%s, dials: %d\n", buf, p.Conns())
	// Output:
	// ping
	// after Cut: EOF
	// pong, dials: 2
}
