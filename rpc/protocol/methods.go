package protocol

import (
	"reflect"
	"slices"
)

// Method names, for code that sends or matches one message. What each
// message is (who sends it, whether it is answered, its types) is said
// once, in the table of Methods.
const (
	MethodInitialize  = "initialize"
	MethodInitialized = "initialized"
	MethodShutdown    = "shutdown"
	MethodExit        = "exit"

	MethodPluginsList     = "plugins/list"
	MethodPluginsDescribe = "plugins/describe"
	MethodPluginsReload   = "plugins/reload"
	MethodPluginsChanged  = "plugins/changed"

	MethodSessionsOpen    = "sessions/open"
	MethodSessionsUpdated = "sessions/updated"
	MethodSessionsGrab    = "sessions/grab"
	MethodSessionsStream  = "sessions/stream"
	MethodSessionsItems   = "sessions/items"
	MethodSessionsCredit  = "sessions/credit"
	MethodSessionsClose   = "sessions/close"

	MethodSearchesOpen    = "searches/open"
	MethodSearchesUpdated = "searches/updated"
	MethodSearchesGrab    = "searches/grab"
	MethodSearchesNearest = "searches/nearest"
	MethodSearchesClose   = "searches/close"

	MethodCancelRequest = "$/cancelRequest"
	MethodProgress      = "$/progress"
	MethodLogMessage    = "window/logMessage"
)

// Direction says who sends a message.
type Direction int

// The two directions.
const (
	ClientToServer Direction = iota
	ServerToClient
)

func (d Direction) String() string {
	if d == ServerToClient {
		return "server → client"
	}
	return "client → server"
}

// Method describes one message of the protocol.
type Method struct {
	Name      string
	Direction Direction
	// Request is set for a message that has an id and gets a response;
	// the others are notifications.
	Request bool
	// Params is the zero value of the params type; nil when there are none.
	Params any
	// Result is the zero value of a request's result type; nil when the
	// result is null, and for notifications.
	Result any
	// Summary says in one line what the message does.
	Summary string
}

// Kind names the sort of message as the spec does: "request",
// "notification" (client → server) or "server-notification".
func (m Method) Kind() string {
	switch {
	case m.Request:
		return "request"
	case m.Direction == ServerToClient:
		return "server-notification"
	}
	return "notification"
}

// ParamsType is the type of the params (nil when there are none).
func (m Method) ParamsType() reflect.Type { return typeOf(m.Params) }

// ResultType is the type of the result (nil for null and notifications).
func (m Method) ResultType() reflect.Type { return typeOf(m.Result) }

func typeOf(v any) reflect.Type {
	if v == nil {
		return nil
	}
	return reflect.TypeOf(v)
}

// Methods returns every message of the protocol, in the order of
// spec/protocol.md. It is the one list of methods: the server's dispatch
// is checked against it, and the notification lists, the JSON Schemas
// (spec/schema) and the checks of spec/protocol.md are derived from it.
func Methods() []Method {
	const c2s, s2c = ClientToServer, ServerToClient
	return []Method{
		{MethodInitialize, c2s, true, InitializeParams{}, InitializeResult{},
			"first request: client options in, server info and capabilities out"},
		{MethodInitialized, c2s, false, nil, nil,
			"sent after the initialize result; no effect"},
		{MethodShutdown, c2s, true, nil, nil,
			"lets earlier requests finish, closes every session; only exit is accepted after it"},
		{MethodExit, c2s, false, nil, nil,
			"answers what still runs with -32800 and ends the server (status 1 without shutdown)"},
		{MethodPluginsList, c2s, true, PluginsListParams{}, PluginsListResult{},
			"the plugins under the roots, valid or with the reason they are not"},
		{MethodPluginsDescribe, c2s, true, PluginsDescribeParams{}, PluginsDescribeResult{},
			"one plugin's metadata, config items and config JSON Schema"},
		{MethodPluginsReload, c2s, true, PluginsListParams{}, PluginsListResult{},
			"plugins/list after rescanning the roots"},
		{MethodPluginsChanged, s2c, false, PluginsChangedParams{}, nil,
			"a plugin under the roots was added, changed or removed"},
		{MethodSessionsOpen, c2s, true, SessionsOpenParams{}, SessionsOpenResult{},
			"starts parsing a source (file, stdin or bytesource plugin) with a parser"},
		{MethodSessionsUpdated, s2c, false, SessionsUpdatedParams{}, nil,
			"a session's rows, bytes and state moved"},
		{MethodSessionsGrab, c2s, true, SessionsGrabParams{}, SessionsGrabResult{},
			"a range of a session's rows"},
		{MethodSessionsStream, c2s, true, SessionsStreamParams{}, SessionsStreamResult{},
			"pushes a session's rows as sessions/items within the client's credits"},
		{MethodSessionsItems, s2c, false, SessionsItemsParams{}, nil,
			"rows of a running sessions/stream"},
		{MethodSessionsCredit, c2s, false, SessionsCreditParams{}, nil,
			"grants a session's stream more rows"},
		{MethodSessionsClose, c2s, true, SessionsCloseParams{}, nil,
			"stops a session and removes its files"},
		{MethodSearchesOpen, c2s, true, SearchesOpenParams{}, SearchesOpenResult{},
			"starts searching a session's rows for one query or several combined"},
		{MethodSearchesUpdated, s2c, false, SearchesUpdatedParams{}, nil,
			"a search's matches, rows searched and state moved"},
		{MethodSearchesGrab, c2s, true, SearchesGrabParams{}, SearchesGrabResult{},
			"a range of a search's matches: the rows with the byte ranges of their matches"},
		{MethodSearchesNearest, c2s, true, SearchesNearestParams{}, SearchesNearestResult{},
			"the match at or after (or before) a session row"},
		{MethodSearchesClose, c2s, true, SearchesCloseParams{}, nil,
			"stops a search and forgets its matches"},
		{MethodCancelRequest, c2s, false, CancelParams{}, nil,
			"cancels a running request, which answers -32800"},
		{MethodProgress, s2c, false, ProgressParams{}, nil,
			"work-done progress of a request that carried a token"},
		{MethodLogMessage, s2c, false, LogMessageParams{}, nil,
			"a plugin log line, or the count of lines dropped over the rate limit"},
	}
}

// Lookup returns the method named name.
func Lookup(name string) (Method, bool) {
	for _, m := range Methods() {
		if m.Name == name {
			return m, true
		}
	}
	return Method{}, false
}

// Names returns the names of the messages sent in direction d, sorted.
func Names(d Direction) []string {
	var out []string
	for _, m := range Methods() {
		if m.Direction == d {
			out = append(out, m.Name)
		}
	}
	slices.Sort(out)
	return out
}
