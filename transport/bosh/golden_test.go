package bosh

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// normalize replaces rid and ack values (rids at or above base) by their
// offset from base, so that a transcript does not depend on the random
// first rid.
func normalize(body []byte, base uint64) string {
	re := regexp.MustCompile(`(rid|ack)='(\d+)'`)
	return re.ReplaceAllStringFunc(string(body), func(m string) string {
		sub := re.FindStringSubmatch(m)
		n, _ := strconv.ParseUint(sub[2], 10, 64)
		if n < base {
			return m
		}
		return sub[1] + "='R+" + strconv.FormatUint(n-base, 10) + "'"
	})
}

// TestGoldenTranscript records the requests of a short session: creation, a
// restart, one message, terminate. The server holds one request at a time
// (hold='1', requests='2'), and the clock stands still, so the long-poll
// leaves only when the test says the reader waits: every rid and ack is
// deterministic.
func TestGoldenTranscript(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	c := dialFake(t, f, nil)
	c.clock = newFakeClock()
	if _, err := c.Open(testCtx(t), false); err != nil {
		t.Fatal(err)
	}
	mustRead(t, c) // features, in the creation response
	if _, err := c.Open(testCtx(t), true); err != nil {
		t.Fatal(err)
	}
	mustRead(t, c) // features after the restart
	// The reader waits for more: the long-poll leaves, and the server
	// holds it.
	c.mu.Lock()
	c.readerWaitsLocked()
	c.mu.Unlock()
	f.awaitHeld(1)
	mustWrite(t, c, "<message xmlns='jabber:client' to='room@conference.example.com' type='groupchat' id='m1'><body>hello &amp; welcome</body></message>")
	f.awaitReceived(1)
	f.awaitHeld(1)
	f.Push(reply1)
	mustRead(t, c)
	if err := c.Close(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	reqs := f.Requests()
	base := reqs[0].RID
	find := func(pred func(*fakeRequest) bool) []byte {
		for _, r := range reqs {
			if pred(r) {
				return r.Raw
			}
		}
		t.Fatal("request not found")
		return nil
	}
	transcript := map[string][]byte{
		"session":   reqs[0].Raw,
		"restart":   find(func(r *fakeRequest) bool { return r.Attrs["xmpp:restart"] == "true" }),
		"message":   find(func(r *fakeRequest) bool { return carries(r, "hello") }),
		"terminate": find(func(r *fakeRequest) bool { return r.Attrs["type"] == "terminate" }),
	}
	for name, raw := range transcript {
		got := normalize(raw, base) + "\n"
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("%s request differs from %s (-want +got):\n%s", name, path, diff)
		}
	}
}
