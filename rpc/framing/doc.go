// Package framing carries JSON-RPC 2.0 messages over a byte stream for the
// chiphost server: a jsonrpc2.Stream (go.lsp.dev/jsonrpc2) with either of
// two framings, LSP's Content-Length headers (Header) or one JSON message
// per line (NDJSON).
//
// The library's own framers end the connection on the first malformed
// frame. A Stream instead answers every malformed frame with an error
// response (id null) and reads on:
//
//   - in header framing it resynchronises on the next "Content-Length:"
//     (any case, even in the middle of a line), so one bad frame costs one
//     error response; a JSON message where a header was expected gets a
//     message saying how to send line-based JSON (--framing ndjson);
//   - a frame over protocol.MaxInFrame is answered with -32600 and skipped
//     without being held in memory, and a large declared Content-Length is
//     read in steps, so memory follows the bytes that arrive;
//   - error messages quote at most a few hundred bytes of the input.
//
// It also applies the JSON-RPC 2.0 rules the library does not (inbound.go):
// invalid requests are answered with their id when it can be read, a
// request with "id": null is answered, and batches are split into their
// members and answered as one array. Responses are written even when the
// request's context was cancelled, with one Write per frame; the server is
// told of each response before it is written (Options.OnResponse), so it
// can make sure every request gets exactly one answer.
//
// With Options.Trace set, every frame read or written is appended to the
// trace as one JSON line: {"time":"…","dir":"recv"|"send","msg":{…}}, or
// "invalid":"…" in place of "msg" for a frame that was not JSON.
package framing
