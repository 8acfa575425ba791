//go:build race

package media

// raceEnabled: the race detector makes sync.Pool drop what is put in it now
// and then, so that a pooled object is sometimes made anew.
const raceEnabled = true
