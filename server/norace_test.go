//go:build !race

package server

// raceEnabled reports a -race build: the race detector's shadow memory
// counts in every worker's RSS.
const raceEnabled = false
