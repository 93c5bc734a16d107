package websocket

import (
	"strconv"
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/transport"
)

// BenchmarkCheckMessage measures what a Conn does with each message it reads
// (checkMessage, then classify) for a root with many attributes, at 1x, 10x
// and 100x the count (100x is about 900 KB): ns/op must grow by about 10x
// per step.
func BenchmarkCheckMessage(b *testing.B) {
	for _, scale := range []int{1, 10, 100} {
		var sb strings.Builder
		sb.WriteString("<open xmlns='" + NS + "'")
		for i := range 900 * scale {
			sb.WriteString(" a" + strconv.Itoa(i) + "=''")
		}
		sb.WriteString("/>")
		msg := []byte(sb.String())
		b.Run("attributes/"+strconv.Itoa(scale)+"x", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				elem, err := checkMessage(msg, transport.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				if classify(elem).kind != kindOpen {
					b.Fatal("not an <open/>")
				}
			}
		})
	}
}
