//go:build race

package rpc

// raceEnabled builds the server under test with -race too.
const raceEnabled = true
