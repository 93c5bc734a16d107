package bosh

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testCtx returns a context that bounds one step of a test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialFake dials the fake with its default options changed by edit (if not
// nil); Close runs at cleanup, before the fake stops.
func dialFake(t *testing.T, f *fakeServer, edit func(*Options)) *Conn {
	t.Helper()
	opts := f.options()
	if edit != nil {
		edit(opts)
	}
	c, err := Dial(testCtx(t), f.srv.URL+"/http-bind?token=s3cret", "example.com", opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// openFake dials the fake and creates the session.
func openFake(t *testing.T, f *fakeServer, edit func(*Options)) *Conn {
	t.Helper()
	c := dialFake(t, f, edit)
	if _, err := c.Open(testCtx(t), false); err != nil {
		t.Fatalf("Open: %v", err)
	}
	return c
}

// mustRead reads one element and returns it as a string.
func mustRead(t *testing.T, c *Conn) string {
	t.Helper()
	e, err := c.ReadElement(testCtx(t))
	if err != nil {
		t.Fatalf("ReadElement: %v", err)
	}
	return string(e)
}

// readErr reads until ReadElement fails and returns the error.
func readErr(t *testing.T, c *Conn) error {
	t.Helper()
	ctx := testCtx(t)
	for {
		if _, err := c.ReadElement(ctx); err != nil {
			return err
		}
	}
}

func mustWrite(t *testing.T, c *Conn, elem string) {
	t.Helper()
	if err := c.WriteElement(testCtx(t), []byte(elem)); err != nil {
		t.Fatalf("WriteElement: %v", err)
	}
}
