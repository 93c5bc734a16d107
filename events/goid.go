package events

import (
	"runtime"
	"strconv"
	"strings"
)

// goid returns the id of the calling goroutine, read from the header of its
// stack trace ("goroutine 42 [running]:"); 0 when it cannot be read. Go
// offers no other way; Sync uses it, and only to tell whether it runs on
// the delivery goroutine.
func goid() int64 {
	var buf [64]byte
	b := string(buf[:runtime.Stack(buf[:], false)])
	b = strings.TrimPrefix(b, "goroutine ")
	if i := strings.IndexByte(b, ' '); i > 0 {
		if id, err := strconv.ParseInt(b[:i], 10, 64); err == nil {
			return id
		}
	}
	return 0
}
