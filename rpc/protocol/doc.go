// Package protocol defines the chiphost protocol as data: the wire types of
// every message (params, results, rows, errors), the method names, the
// error codes, the limits the server announces, and the table of every
// message (Methods): its name, who sends it, whether it is answered, its
// params and result types and a one-line summary.
//
// The table is the one list of methods. The server (package rpc) checks
// its handlers against it, the JSON Schemas in spec/schema are generated
// from it, and the spec tests check spec/protocol.md against it. Clients
// written in Go can use the types to encode requests and decode results.
//
// This package holds no behaviour: it imports runtime and schema only for
// the types that appear on the wire.
package protocol
