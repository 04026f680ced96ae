// Package rpc serves the chiphost protocol (spec/protocol.md): JSON-RPC 2.0
// over a byte stream (stdin/stdout), with LSP Content-Length or NDJSON
// framing, on go.lsp.dev/jsonrpc2.
//
//	host, _ := runtime.NewHost(ctx, nil)
//	srv, _ := rpc.NewServer(&rpc.Options{Host: host, Roots: roots})
//	host.SetLogSink(srv.PluginLog) // plugin log lines → window/logMessage
//	err := srv.Serve(ctx, stdio)   // until exit, EOF or ctx
//
// A Server owns the lifecycle (initialize, shutdown, exit), plugin
// discovery (plugins/*), sessions (sessions/*: one goroutine and one plugin
// instance per session, rows in a per-session on-disk store served by grab
// and by a credit-controlled stream), cancellation ($/cancelRequest, handled
// ahead of queued work), progress and log forwarding (window/logMessage).
//
// The protocol itself (wire types, method names, error codes and the table
// of every message) is package rpc/protocol; reading and writing frames
// is package rpc/framing. Here, by file:
//
//   - server.go: Options, NewServer, Serve (connection set-up and end);
//   - dispatch.go: the handlers of the client→server methods, checked
//     against protocol.Methods by NewServer; the one jsonrpc2 handler that
//     gates the lifecycle, releases the read loop for slow methods
//     (jsonrpc2.Async), bounds concurrency, turns panics into -32603 and
//     maps errors to codes (errors.go); the preempter for $/cancelRequest
//     and sessions/credit;
//   - answers.go: every accepted call is tracked until its response is on
//     the wire, so exit and end of input cancel and answer what is still
//     running before the connection closes;
//   - lifecycle.go, plugins.go (resolution, listing, root polling),
//     open.go (sessions/open in steps), sessions.go, streaming.go
//     (sessions/stream), rowstore.go (the row store, which also feeds the
//     session's search text store), searches.go (searches/*: one engine
//     goroutine and one updates goroutine per search), searchgrab.go,
//     searchprogress.go, progress.go, logs.go (rate-limited forwarding),
//     memory.go (returning memory after sessions).
//
// docs/design.md ("How is the JSON-RPC server built?") gives the reasons.
// This package builds on runtime and schema. It must not import wazero or
// runtime/internal: it knows plugins only through the runtime API.
package rpc
