// Package rpc serves the chiphost protocol (spec/protocol.md): JSON-RPC 2.0
// over a byte stream (stdin/stdout), with LSP Content-Length or NDJSON
// framing, on go.lsp.dev/jsonrpc2.
//
// A Server owns the lifecycle (initialize, shutdown, exit), plugin
// discovery (plugins/*), sessions (sessions/*: one goroutine and one plugin
// instance per session, rows in a per-session on-disk store served by grab
// and by a credit-controlled stream), cancellation ($/cancelRequest, handled
// ahead of queued work), progress and log forwarding (window/logMessage).
//
//	srv, _ := rpc.NewServer(&rpc.Options{Host: host, Roots: roots})
//	err := srv.Serve(ctx, stdio) // until exit, EOF or ctx
//
// Layers, in the manner of gopls: a stream that answers malformed frames,
// resynchronises after them and caps their size (stream.go), and checks
// each message, splits batches and routes their answers (inbound.go), a
// preempter for $/cancelRequest and
// sessions/credit, then one handler that gates the lifecycle, releases the
// read loop for slow methods (jsonrpc2.Async), bounds concurrency, turns
// panics into -32603 and maps errors to codes in one place (errors.go).
// Every accepted call is tracked until its response is on the wire
// (answers.go), so exit and end of input cancel and answer what is still
// running before the connection closes.
// The methods, their names, wire types and error codes are defined in
// package rpc/protocol, whose table (protocol.Methods) is the one list of
// methods: NewServer checks its handlers against it (dispatch.go).
//
// This package builds on runtime and schema. It must not import wazero or
// runtime/internal: it knows plugins only through the runtime API.
package rpc
