package bosh

import (
	"runtime"
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/transport"
)

// redeclaring returns a body that declares a namespace of nsLen bytes once
// and holds n children using it: each child, serialized self-contained,
// declares it again.
func redeclaring(nsLen, n int) string {
	ns := "urn:x:" + strings.Repeat("n", nsLen)
	return "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:h='" + ns + "'>" + strings.Repeat("<h:a/>", n) + "</body>"
}

// TestChildrenBudget: the serialized children of one body take at most
// twice the bound on the body, however the body shares its namespace
// declarations among them; a body past that budget is refused with a
// *transport.LimitError, having cost no more than the budget.
func TestChildrenBudget(t *testing.T) {
	limits := transport.Limits{MaxElementSize: 64 << 10}
	budget := childrenBudget(limits.WithDefaults())
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		// 30 KB in, 5 MB of children: refused.
		{"a namespace declared once, 5,000 children", redeclaring(1<<10, 5000), false},
		// 1 KB in, 70 KB of children: within twice the bound.
		{"a namespace declared once, 60 children", redeclaring(1<<10, 60), true},
		{"children each declaring their own", "<body xmlns='http://jabber.org/protocol/httpbind'>" +
			strings.Repeat("<message xmlns='jabber:client'><body>hi</body></message>", 1000) + "</body>", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.body) > limits.MaxElementSize {
				t.Fatalf("the body is %d bytes, more than the bound itself", len(tt.body))
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b, err := parseBody([]byte(tt.body), limits)
			runtime.ReadMemStats(&after)
			if tt.ok {
				if err != nil {
					t.Fatalf("parseBody: %v", err)
				}
				total := 0
				for _, c := range b.children {
					total += len(c)
				}
				if total > budget {
					t.Errorf("children take %d bytes, budget %d", total, budget)
				}
				return
			}
			var le *transport.LimitError
			if !asError(err, &le) || le.What != "element size" || le.Limit != budget {
				t.Fatalf("parseBody = %v, want an element size LimitError with Limit %d", err, budget)
			}
			// Unbounded, the children alone would take 5 MB; the decoder's
			// own garbage is a few times the body.
			if allocated, most := after.TotalAlloc-before.TotalAlloc, uint64(2*budget+32*len(tt.body)); allocated > most {
				t.Errorf("refusing the body allocated %d bytes, want at most %d", allocated, most)
			}
		})
	}
}

// TestChildrenBudgetInSession: over a session, such a body ends the
// stream with the LimitError, which is final (the same input would come
// again), after one request.
func TestChildrenBudgetInSession(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	c := openFake(t, f, func(o *Options) { o.Limits = transport.Limits{MaxElementSize: 64 << 10} })
	mustRead(t, c)
	f.awaitHeld(1)
	f.PushBody(redeclaring(1<<10, 5000))
	err := readErr(t, c)
	var le *transport.LimitError
	if !asError(err, &le) {
		t.Fatalf("ReadElement = %v, want a *transport.LimitError", err)
	}
	if transient, known := transport.Transient(err); transient || !known {
		t.Errorf("transport.Transient(%v) = %v, %v; want final", err, transient, known)
	}
	if n := len(f.Requests()); n != 2 {
		t.Errorf("%d requests: the body was retried", n)
	}
}
