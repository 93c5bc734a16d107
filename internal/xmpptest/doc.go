// Package xmpptest holds the test helpers that the tests of several
// packages of this repository share: an in-memory transport whose server
// side a test scripts (FakeConn), a recorder of a Connection's events
// (Recorder), a goroutine-leak check (NoLeaks), a bounded test context
// (Context), and the Config of a Connection to a real server of
// internal/servertest (ServerConfig). It is for this repository's tests
// only.
//
//	f := xmpptest.NewFakeConn()
//	c := xmppconn.New(f.Config())
//	rec := xmpptest.Record(c)
//	go func() { id := f.ServeLogin(t); f.Send(xmpptest.BindResult(id)) }()
//	if err := c.Connect(xmpptest.Context(t)); err != nil {
//		t.Fatal(err)
//	}
//	rec.WaitFor(t, time.Second, "established", xmpptest.Is(events.ConnectionEstablished))
package xmpptest
