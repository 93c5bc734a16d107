// Package burst is a first-in first-out queue served by a goroutine that
// exists only while items wait: the producer starts one when the queue goes
// from empty to not empty, and it ends when the queue is empty again. An
// idle connection so keeps no goroutine (and no stack) for its inbound
// processing or its Handler. A bound on the weight waiting (PushWait) makes
// a producer wait for the server instead of growing the queue.
package burst
