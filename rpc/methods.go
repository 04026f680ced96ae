package rpc

// Method names of the chiphost protocol (spec/protocol.md). Handlers are
// named after their method; only the dispatch table in server.go links them.
const (
	MethodInitialize  = "initialize"
	MethodInitialized = "initialized"
	MethodShutdown    = "shutdown"
	MethodExit        = "exit"

	MethodPluginsList     = "plugins/list"
	MethodPluginsDescribe = "plugins/describe"
	MethodPluginsReload   = "plugins/reload"
	MethodPluginsChanged  = "plugins/changed" // server → client notification

	MethodSessionsOpen    = "sessions/open"
	MethodSessionsGrab    = "sessions/grab"
	MethodSessionsStream  = "sessions/stream"
	MethodSessionsCredit  = "sessions/credit" // client → server notification
	MethodSessionsClose   = "sessions/close"
	MethodSessionsUpdated = "sessions/updated" // server → client notification
	MethodSessionsItems   = "sessions/items"   // server → client notification

	MethodCancelRequest = "$/cancelRequest"
	MethodProgress      = "$/progress"        // server → client notification
	MethodLogMessage    = "window/logMessage" // server → client notification
)
