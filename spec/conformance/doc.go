// Package conformance holds chiphost's language-neutral protocol test cases
// and their Go runner.
//
// Each *.json file in this directory is one case: a description, optional
// setup (files and symlinks in a temporary directory, extra server flags),
// and steps that send client messages and match the server's messages
// against patterns. README.md documents the format and the matching rules;
// the Python client runs the same files (python3 -m chiphost.conformance).
// Cases the server is known to fail are listed, with a reason, in baseline.
//
//	go test ./spec/conformance              # builds cmd/chiphost, runs every case
//	CHIPHOST=/path/to/chiphost go test ./spec/conformance -run 'TestConformance/sessions_'
//
// The runner talks to the binary over real pipes with Content-Length framing
// (CONFORMANCE_FRAMING=ndjson or both to change that). This package has no
// non-test code; its tests treat the server as a black box and import only
// rpc's method list, for TestCoverage.
package conformance
