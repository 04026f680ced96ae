package protocol

import (
	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/schema"
)

// Error codes. The JSON-RPC and LSP ones come first; chiphost's own codes sit
// in -31999…-31900, outside both reserved ranges (-32099…-32000 and
// -32899…-32800). Every code is listed in spec/protocol.md.
const (
	CodeParseError           = jsonrpc2.ParseError           // -32700 malformed JSON or frame
	CodeInvalidRequest       = jsonrpc2.InvalidRequest       // -32600 not a request, or a request after shutdown
	CodeMethodNotFound       = jsonrpc2.MethodNotFound       // -32601
	CodeInvalidParams        = jsonrpc2.InvalidParams        // -32602 wrong shapes, unknown ids, invalid config
	CodeInternalError        = jsonrpc2.InternalError        // -32603 a chiphost bug
	CodeServerNotInitialized = jsonrpc2.ServerNotInitialized // -32002 a request before initialize
	CodeRequestCancelled     = jsonrpc2.Code(-32800)         // $/cancelRequest or shutdown ended the request
	CodeRequestFailed        = jsonrpc2.Code(-32803)         // well-formed request that failed (LSP 3.17), e.g. busy

	// CodePluginFailed: the plugin failed (trap, timeout, oom, abi) or
	// reported an error (plugin-error) while serving the request.
	CodePluginFailed = jsonrpc2.Code(-31900)
	// CodeNotFound: no such plugin, session or file.
	CodeNotFound = jsonrpc2.Code(-31901)
	// CodeIO: reading or writing host files failed.
	CodeIO = jsonrpc2.Code(-31902)
	// CodeUnsupported: the plugin or request uses something chiphost does
	// not support.
	CodeUnsupported = jsonrpc2.Code(-31903)
	// CodeSessionClosed: the session was closed or its instance discarded.
	CodeSessionClosed = jsonrpc2.Code(-31904)
	// CodeLimitReached: a server-wide limit was reached; data.code names it
	// ("sessions", "memory" or "descriptors"). Closing sessions frees it.
	CodeLimitReached = jsonrpc2.Code(-31905)
)

// ErrorData is the data of every chiphost error and the error of failed
// sessions.
type ErrorData struct {
	Kind   string              `json:"kind" jsonschema:"enum=trap,enum=timeout,enum=oom,enum=abi,enum=plugin-error,enum=config,enum=io,enum=unsupported,enum=not-found,enum=cancelled,enum=closed,enum=limit,enum=internal"`
	Plugin string              `json:"plugin,omitempty"`
	Code   string              `json:"code,omitempty" jsonschema:"description=the plugin own error case for plugin-error (config or io or unsupported or other for init); the limit reached for limit (sessions or memory or descriptors or searches)"`
	Detail string              `json:"detail"`
	Errors []schema.FieldError `json:"errors,omitempty" jsonschema:"description=per-field configuration errors (with -32602)"`
	// Imports and Hint are set when a plugin is refused for importing
	// functions chiphost does not provide (kind unsupported).
	Imports []ImportGroup `json:"imports,omitempty" jsonschema:"description=the imports chiphost does not provide by interface (kind unsupported)"`
	Hint    string        `json:"hint,omitempty" jsonschema:"description=what to change in the plugin build when one is known to help"`
	// Position is set for an invalid search pattern when it is known.
	Position *int `json:"position,omitempty" jsonschema:"description=for an invalid search pattern (-32602 of searches/open): the byte offset in the pattern where it goes wrong"`
}

// ImportGroup is the refused imports of one interface that share a reason.
type ImportGroup struct {
	Interface string   `json:"interface" jsonschema:"description=the interface with its version; empty for world-level functions"`
	Kind      string   `json:"kind" jsonschema:"description=WASI 0.2 or Chipmunk API or world-level or other"`
	Reason    string   `json:"reason,omitempty" jsonschema:"description=what is not supported when more than the import being absent"`
	Functions []string `json:"functions" jsonschema:"description=the functions as the component names them"`
}
