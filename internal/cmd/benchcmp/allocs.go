package main

import "runtime/metrics"

// allocSamples are the runtime's cumulative heap allocation counters; they
// are cheap to read (no stop-the-world, unlike runtime.ReadMemStats).
var allocSamples = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}}

// heapAllocs returns the bytes and objects allocated on the heap so far by
// the whole process. The runtime updates them as each P's cache refills, so
// one sample is approximate; the mean over many is what the table shows.
func heapAllocs() (bytes, objects uint64) {
	metrics.Read(allocSamples)
	return allocSamples[0].Value.Uint64(), allocSamples[1].Value.Uint64()
}
