package hostile

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// longNS is a namespace of 1 KiB: declared once, used by many.
var longNS = "urn:hostile:" + strings.Repeat("n", 1<<10)

// TestGrowth: no check of server input does work that grows faster than
// the input: a namespace declared once and used by thousands of elements
// (which a naive re-serialisation declares again on each), thousands of
// attributes or namespace declarations on one element, text made of
// entities, nesting at the limit again and again. Each ends the attempt
// (or goes on) within the step's bound and the heap ceiling.
func TestGrowth(t *testing.T) {
	features := func(inner string) string {
		return "<stream:features xmlns:stream='" + NSStream + "'>" + inner + "</stream:features>"
	}
	var attrs, decls strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&attrs, " a%d='%d'", i, i)
		fmt.Fprintf(&decls, " xmlns:p%d='urn:hostile:%d'", i, i)
	}
	runAttempts(t, []attempt{
		{
			// Over BOSH the children of <body/> are serialised one by one,
			// each with the namespaces it uses: 20,000 children of 8 bytes
			// would take 20 MiB. Over WebSocket the same children sit in
			// one element.
			name: "a namespace declared once, used by 20,000 elements",
			script: afterOpen(func(ctx context.Context, p Peer) {
				children := strings.Repeat("<h:a/>", 20000)
				if IsBOSH(p) {
					rawBOSH(p, "<body xmlns='"+NSHTTPBind+"' xmlns:h='"+longNS+"'>"+LoginFeatures+children+"</body>")
				} else {
					_ = p.Send(ctx, "<stream:features xmlns:stream='"+NSStream+"' xmlns:h='"+longNS+"'>"+children+"</stream:features>")
				}
				<-ctx.Done()
			}),
			bound: stepBound,
		},
		{name: "10,000 attributes on one element", script: afterOpen(func(ctx context.Context, p Peer) {
			sendRaw(ctx, p, "", features("<x xmlns='urn:hostile'"+attrs.String()+"/>"))
			<-ctx.Done()
		}), bound: stepBound},
		{name: "10,000 namespace declarations on one element", script: afterOpen(func(ctx context.Context, p Peer) {
			sendRaw(ctx, p, "", features("<x xmlns='urn:hostile'"+decls.String()+"/>"))
			<-ctx.Done()
		}), bound: stepBound},
		{name: "text of 150,000 entities", script: afterOpen(func(ctx context.Context, p Peer) {
			sendRaw(ctx, p, "", features("<x xmlns='urn:hostile'>"+strings.Repeat("&amp;&#x41;", 75000)+"</x>"))
			<-ctx.Done()
		}), bound: stepBound},
		{name: "nesting at the limit, 1,000 times", script: afterOpen(func(ctx context.Context, p Peer) {
			one := strings.Repeat("<n>", 60) + strings.Repeat("</n>", 60)
			sendRaw(ctx, p, "", features("<x xmlns='urn:hostile'>"+strings.Repeat(one, 1000)+"</x>"))
			<-ctx.Done()
		}), bound: stepBound},
		{name: "100,000 empty siblings", script: afterOpen(func(ctx context.Context, p Peer) {
			sendRaw(ctx, p, "", features("<x xmlns='urn:hostile'>"+strings.Repeat("<a/>", 100000)+"</x>"))
			<-ctx.Done()
		}), bound: stepBound},
	})
}
