package servertest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a moment
// ago. They lie below the kernel's range of ephemeral ports where there is
// room, so that no outgoing connection of another test takes one as its
// source port while a server restarts on it (TestRestart saw that). Another
// process may still take one before the server binds it; Start notices that
// from the server's log and tries again with new ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	low := ephemeralLow()
	for range n {
		var l net.Listener
		var err error
		for try := 0; try < 50 && low > minPort+1000; try++ {
			port := minPort + rand.IntN(low-minPort)
			if l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
				break
			}
		}
		if l == nil { // no room below the range, or all taken: the kernel's pick
			if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return nil, fmt.Errorf("servertest: pick a free port: %w", err)
			}
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// minPort is the lowest port freePorts picks: above the well-known and
// most registered ones.
const minPort = 20000

// ephemeralLow returns the first port of the kernel's ephemeral range
// (Linux's ip_local_port_range), or 0 when it is not known.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	low, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return low
}
