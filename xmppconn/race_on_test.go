//go:build race

package xmppconn_test

// raceEnabled tells that the race detector is on: it allocates on its own,
// so allocation budgets are not checked then.
const raceEnabled = true
