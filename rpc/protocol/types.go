package protocol

import (
	"encoding/json"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// ProtocolVersion is the version of the protocol described in
// spec/protocol.md. It changes when a method changes incompatibly.
const ProtocolVersion = "0.1.0"

// ServerName is the name in InitializeResult.ServerInfo.
const ServerName = "chiphost"

// Limits the server announces in its capabilities.
const (
	// MaxInFrame is the largest incoming frame accepted. A larger one is
	// answered with -32600 and skipped; the connection goes on.
	MaxInFrame = 64 << 20
	// MaxOutFrame is the soft cap of frames the server sends: grab results
	// and sessions/items notifications are cut to stay below it.
	MaxOutFrame = 1 << 20
	// MaxGrabCount is the largest count sessions/grab accepts.
	MaxGrabCount = 10000
	// DefaultCredits is a stream's initial window when the request has none.
	DefaultCredits = 10000
)

// BuiltinText is the name of the built-in line parser (ParserSpec.Builtin).
const BuiltinText = "text"

// InitializeParams are the params of initialize.
type InitializeParams struct {
	ProcessID             *int                   `json:"processId,omitempty" jsonschema:"description=process id of the client; chiphost exits when it dies"`
	ClientInfo            *ClientInfo            `json:"clientInfo,omitempty"`
	Capabilities          map[string]any         `json:"capabilities,omitempty" jsonschema:"description=client capabilities (none are defined yet)"`
	InitializationOptions *InitializationOptions `json:"initializationOptions,omitempty"`
}

// ClientInfo names the client.
type ClientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// InitializationOptions configure the server for this client.
type InitializationOptions struct {
	// PluginDirs are extra plugin roots (Chipmunk layout: parsers/ and
	// bytesources/ below each root), scanned before the server's own roots.
	PluginDirs []string `json:"pluginDirs,omitempty"`
	// LogLevel is the plugin log level: error, warn, info, debug or trace.
	// It is handed to every plugin's init and filters window/logMessage.
	LogLevel string `json:"logLevel,omitempty" jsonschema:"enum=error,enum=warn,enum=info,enum=debug,enum=trace"`
}

// InitializeResult is the result of initialize.
type InitializeResult struct {
	ServerInfo      ServerInfo         `json:"serverInfo"`
	ProtocolVersion string             `json:"protocolVersion"`
	Capabilities    ServerCapabilities `json:"capabilities"`
}

// ServerInfo names the server.
type ServerInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ServerCapabilities tell the client what the server supports and its limits.
type ServerCapabilities struct {
	PluginKinds     []string `json:"pluginKinds"`
	BuiltinParsers  []string `json:"builtinParsers"`
	Cancellation    bool     `json:"cancellation"`
	Progress        bool     `json:"progress"`
	MaxFrameBytes   int      `json:"maxFrameBytes" jsonschema:"description=largest frame the server sends"`
	MaxInFrameBytes int      `json:"maxInFrameBytes" jsonschema:"description=largest frame the server accepts"`
	MaxGrabCount    int      `json:"maxGrabCount"`
}

// PluginInfo describes one discovered plugin (plugins/list).
type PluginInfo struct {
	ID          string             `json:"id" jsonschema:"description=the plugin directory (Chipmunk's plugin id); use it in sessions/open"`
	Name        string             `json:"name"`
	Kind        runtime.PluginKind `json:"kind" jsonschema:"enum=parser,enum=bytesource,enum=producer"`
	Title       string             `json:"title"`
	Description *string            `json:"description,omitempty"`
	Version     string             `json:"version,omitempty"`
	APIVersion  string             `json:"apiVersion,omitempty"`
	Path        string             `json:"path"`
	Readme      string             `json:"readme,omitempty"`
	State       string             `json:"state" jsonschema:"enum=valid,enum=invalid"`
	Error       *ErrorData         `json:"error,omitempty"`
	Warnings    []string           `json:"warnings,omitempty"`
}

// PluginsListParams are the (optional) params of plugins/list and
// plugins/reload.
type PluginsListParams struct {
	WorkDoneToken any `json:"workDoneToken,omitempty" jsonschema:"description=integer or string token for $/progress: begin and end around the listing and a report naming each plugin compiled on the way; all before the response"`
}

// PluginsListResult is the result of plugins/list and plugins/reload.
type PluginsListResult struct {
	Plugins []PluginInfo `json:"plugins"`
}

// PluginsChangedParams are the params of the plugins/changed notification.
type PluginsChangedParams struct {
	Roots []string `json:"roots"`
}

// PluginsDescribeParams are the params of plugins/describe.
type PluginsDescribeParams struct {
	ID string `json:"id" jsonschema:"description=a plugin id from plugins/list or a plugin name or a path to a .wasm file"`
}

// PluginsDescribeResult is the result of plugins/describe.
type PluginsDescribeResult struct {
	ID            string                 `json:"id"`
	Name          string                 `json:"name"`
	Kind          runtime.PluginKind     `json:"kind" jsonschema:"enum=parser,enum=bytesource,enum=producer"`
	Title         string                 `json:"title"`
	Description   *string                `json:"description,omitempty"`
	Version       string                 `json:"version"`
	APIVersion    string                 `json:"apiVersion"`
	ConfigItems   []schema.Item          `json:"configItems"`
	ConfigSchema  json.RawMessage        `json:"configSchema" jsonschema:"type=object,description=JSON Schema of the config object (no $schema; x-chipmunk-input / x-file-extensions / x-order annotations)"`
	RenderOptions *runtime.RenderOptions `json:"renderOptions,omitempty"`
	Warnings      []string               `json:"warnings,omitempty"`
}

// SourceSpec says where a session's bytes come from: exactly one of File,
// Stdin or Plugin.
type SourceSpec struct {
	File   string                     `json:"file,omitempty" jsonschema:"description=path of a file to read"`
	Stdin  bool                       `json:"stdin,omitempty" jsonschema:"description=read the stream passed with chiphost --input-fd (the server stdin carries the protocol)"`
	Plugin string                     `json:"plugin,omitempty" jsonschema:"description=id of a bytesource plugin"`
	Config map[string]json.RawMessage `json:"config,omitempty" jsonschema:"description=configuration of the bytesource plugin keyed by config id"`
	Follow bool                       `json:"follow,omitempty" jsonschema:"description=keep reading as the input grows (a file like tail -F; a plugin whose reads come back empty is polled again) until sessions/close; the session is live once it has caught up. Not with stdin"`
}

// ParserSpec chooses the parser: a plugin or a built-in.
type ParserSpec struct {
	Plugin  string                     `json:"plugin,omitempty" jsonschema:"description=id of a parser plugin"`
	Config  map[string]json.RawMessage `json:"config,omitempty" jsonschema:"description=configuration of the parser plugin keyed by config id"`
	Builtin string                     `json:"builtin,omitempty" jsonschema:"enum=text"`
}

// ProducerSpec chooses a producer plugin, which reads its own input (named
// in its config): a session with a producer has no source and no parser.
type ProducerSpec struct {
	Plugin string                     `json:"plugin" jsonschema:"description=id of a producer plugin"`
	Config map[string]json.RawMessage `json:"config,omitempty" jsonschema:"description=configuration of the producer plugin keyed by config id"`
}

// SessionsOpenParams are the params of sessions/open: Source and Parser, or
// Producer alone.
type SessionsOpenParams struct {
	Source        SourceSpec    `json:"source,omitzero" jsonschema:"description=where the bytes come from (with parser; not with producer)"`
	Parser        ParserSpec    `json:"parser,omitzero" jsonschema:"description=the parser of the bytes (with source; not with producer)"`
	Producer      *ProducerSpec `json:"producer,omitempty" jsonschema:"description=a producer plugin instead of source and parser: it reads the input its config names"`
	WorkDoneToken any           `json:"workDoneToken,omitempty" jsonschema:"description=integer or string token for $/progress (begin when loading starts and a report naming each plugin compiled on the way and end when the session is open or the request failed)"`
	ProgressToken any           `json:"progressToken,omitempty" jsonschema:"description=integer or string token for $/progress of the parse: begin before the response and reports with the percentage of a file read and end when parsing ends (done or failed or closed)"`
}

// SessionsOpenResult is the result of sessions/open.
type SessionsOpenResult struct {
	Session       string                 `json:"session"`
	Columns       []runtime.ColumnInfo   `json:"columns,omitempty"`
	RenderOptions *runtime.RenderOptions `json:"renderOptions,omitempty"`
}

// Session states.
const (
	StateRunning = "running"
	// StateLive is a followed session that has read everything its source
	// held and waits for more (spec/protocol.md).
	StateLive   = "live"
	StateDone   = "done"
	StateFailed = "failed"
	StateClosed = "closed"
)

// SessionsUpdatedParams are the params of the sessions/updated notification.
type SessionsUpdatedParams struct {
	Session      string     `json:"session"`
	Rows         uint64     `json:"rows" jsonschema:"description=rows parsed and stored so far"`
	Bytes        uint64     `json:"bytes" jsonschema:"description=bytes read from the source so far"`
	State        string     `json:"state" jsonschema:"enum=running,enum=live,enum=done,enum=failed,enum=closed"`
	Error        *ErrorData `json:"error,omitempty"`
	SkippedBytes uint64     `json:"skippedBytes"`
	ParseErrors  uint64     `json:"parseErrors"`
	// TruncatedRows is counted when the run ends (driver.Stats).
	TruncatedRows uint64 `json:"truncatedRows,omitempty" jsonschema:"description=rows cut to the maximum row size (128 KiB of text): present only when rows were cut and counted when the run ends"`
	// CutDependentRows is driver.Stats.CutDependentRows.
	CutDependentRows uint64 `json:"cutDependentRows,omitempty" jsonschema:"description=rows that ended where the server had cut the input and came out different when parsed again past that point (the re-parsed rows are stored): the parser's rows depend on where its input is cut; present only when not 0"`
}

// SessionsGrabParams are the params of sessions/grab.
type SessionsGrabParams struct {
	Session string `json:"session"`
	Start   uint64 `json:"start"`
	Count   uint64 `json:"count" jsonschema:"description=at most maxGrabCount (10000)"`
}

// Row is one parsed item as sent to clients (sessions/grab and
// sessions/items). The server encodes rows by hand, once, when they are
// stored; this type exists for clients, documentation and schemas.
type Row struct {
	Index      uint64         `json:"index"`
	Line       *string        `json:"line,omitempty" jsonschema:"description=the message when the parser returns a single line"`
	Columns    []string       `json:"columns,omitempty" jsonschema:"description=the message when the parser returns columns"`
	Attachment *RowAttachment `json:"attachment,omitempty"`
}

// RowAttachment is an attachment a parser extracted; its data is saved in
// the session's directory at Path (removed when the session closes).
type RowAttachment struct {
	Name         string   `json:"name"`
	Size         uint64   `json:"size"`
	Path         string   `json:"path"`
	CreatedDate  *string  `json:"createdDate,omitempty"`
	ModifiedDate *string  `json:"modifiedDate,omitempty"`
	Messages     []uint64 `json:"messages"`
}

// SessionsGrabResult is the result of sessions/grab.
type SessionsGrabResult struct {
	Items []Row `json:"items" jsonschema:"description=rows start..start+len(items)-1; fewer than count at the end of the rows parsed so far or when the 1 MiB frame cap is reached"`
}

// Credits are a stream's flow-control window.
type Credits struct {
	Rows uint64 `json:"rows" jsonschema:"description=rows the server may send"`
}

// SessionsStreamParams are the params of sessions/stream.
type SessionsStreamParams struct {
	Session       string          `json:"session"`
	From          uint64          `json:"from,omitempty" jsonschema:"description=first row index to send (default 0)"`
	Credits       *InitialCredits `json:"credits,omitempty" jsonschema:"description=initial window; without it (or without rows) 10000 rows"`
	WorkDoneToken any             `json:"workDoneToken,omitempty" jsonschema:"description=integer or string token for $/progress"`
}

// InitialCredits is the initial window of a stream. Rows left out (or
// null), like credits left out, mean the default window: a client's
// encoder may send an empty object for "nothing to say".
type InitialCredits struct {
	Rows *uint64 `json:"rows,omitempty" jsonschema:"description=rows the server may send (default 10000)"`
}

// Window returns the initial window the credits ask for, or def.
func (c *InitialCredits) Window(def uint64) uint64 {
	if c == nil || c.Rows == nil {
		return def
	}
	return *c.Rows
}

// StreamWindow is an initial window of n rows.
func StreamWindow(n uint64) *InitialCredits { return &InitialCredits{Rows: &n} }

// SessionsItemsParams are the params of the sessions/items notification.
type SessionsItemsParams struct {
	Session string `json:"session"`
	Start   uint64 `json:"start" jsonschema:"description=index of the first item"`
	Items   []Row  `json:"items"`
}

// SessionsCreditParams are the params of the sessions/credit notification.
type SessionsCreditParams struct {
	Session string  `json:"session"`
	Credits Credits `json:"credits" jsonschema:"description=more rows the server may send (added to the window)"`
}

// SessionsStreamResult is the result of sessions/stream.
type SessionsStreamResult struct {
	Session string     `json:"session"`
	Rows    uint64     `json:"rows" jsonschema:"description=rows sent by this stream"`
	Next    uint64     `json:"next" jsonschema:"description=index after the last row sent"`
	State   string     `json:"state" jsonschema:"enum=running,enum=done,enum=failed,enum=closed"`
	Error   *ErrorData `json:"error,omitempty"`
}

// SessionsCloseParams are the params of sessions/close.
type SessionsCloseParams struct {
	Session string `json:"session"`
}

// CancelParams are the params of $/cancelRequest.
type CancelParams struct {
	ID any `json:"id" jsonschema:"description=id of the request to cancel (integer or string)"`
}

// ProgressParams are the params of $/progress.
type ProgressParams struct {
	Token any           `json:"token"`
	Value ProgressValue `json:"value"`
}

// ProgressValue is LSP work-done progress.
type ProgressValue struct {
	Kind       string `json:"kind" jsonschema:"enum=begin,enum=report,enum=end"`
	Title      string `json:"title,omitempty"`
	Message    string `json:"message,omitempty"`
	Percentage *int   `json:"percentage,omitempty"`
}

// LogMessageParams are the params of window/logMessage.
type LogMessageParams struct {
	Type    int    `json:"type" jsonschema:"enum=1,enum=2,enum=3,enum=4,enum=5,description=1 error 2 warning 3 info 4 log 5 debug"`
	Message string `json:"message"`
	Plugin  string `json:"plugin,omitempty"`
	Session string `json:"session,omitempty"`
	Source  string `json:"source,omitempty" jsonschema:"enum=log,enum=stdout,enum=stderr,enum=host"`
}

// Null is the result of methods that return nothing (shutdown,
// sessions/close).
type Null struct{}
