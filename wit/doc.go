// Package wit holds the WIT files of the Chipmunk plugin API and a small
// parser that turns them into the type descriptors the rest of chiphost uses.
//
// The embedded directory v0.1.0 mirrors Chipmunk's own layout: a root
// package chipmunk:plugins whose world bindings includes the packages under
// deps/ (chipmunk:shared, chipmunk:parser and chipmunk:bytesource). The
// same directory is what the test-plugin build hands to wit-component, so it
// must stay valid WIT. A second API version is a new vX.Y.Z directory.
//
// The parser understands packages, interfaces, worlds (import, export,
// include), use, record, variant, enum, flags, type aliases, functions with
// at most one result, and the generic types list, option, result and tuple.
// Resources, handles, futures, streams and async functions are rejected
// with a positioned "not supported" error.
//
// Typical use:
//
//	res, err := wit.Load("0.1.0")
//	if err != nil { ... }
//	parse := res.Interface("chipmunk:parser/parser@0.1.0").Func("parse")
//	fmt.Println(parse.Result) // result<list<parse-return>, parse-error>
//
// Package wit imports only the standard library; every other chiphost
// package may import it, and it must import none of them.
package wit
