package rpc

// Message describes one protocol message for documentation and schema
// generation (spec/schema): its method, who sends it, and its Go types.
type Message struct {
	Method string
	// Kind is "request" (client → server, answered), "notification"
	// (client → server) or "server-notification" (server → client).
	Kind   string
	Params any // zero value of the params type; nil when there are none
	Result any // zero value of the result type; nil for notifications
}

// Messages lists every protocol message, in the order of spec/protocol.md.
func Messages() []Message {
	return []Message{
		{MethodInitialize, "request", InitializeParams{}, InitializeResult{}},
		{MethodInitialized, "notification", nil, nil},
		{MethodShutdown, "request", nil, nil},
		{MethodExit, "notification", nil, nil},
		{MethodPluginsList, "request", PluginsListParams{}, PluginsListResult{}},
		{MethodPluginsDescribe, "request", PluginsDescribeParams{}, PluginsDescribeResult{}},
		{MethodPluginsReload, "request", PluginsListParams{}, PluginsListResult{}},
		{MethodPluginsChanged, "server-notification", PluginsChangedParams{}, nil},
		{MethodSessionsOpen, "request", SessionsOpenParams{}, SessionsOpenResult{}},
		{MethodSessionsUpdated, "server-notification", SessionsUpdatedParams{}, nil},
		{MethodSessionsGrab, "request", SessionsGrabParams{}, SessionsGrabResult{}},
		{MethodSessionsStream, "request", SessionsStreamParams{}, SessionsStreamResult{}},
		{MethodSessionsItems, "server-notification", SessionsItemsParams{}, nil},
		{MethodSessionsCredit, "notification", SessionsCreditParams{}, nil},
		{MethodSessionsClose, "request", SessionsCloseParams{}, nil},
		{MethodCancelRequest, "notification", CancelParams{}, nil},
		{MethodProgress, "server-notification", ProgressParams{}, nil},
		{MethodLogMessage, "server-notification", LogMessageParams{}, nil},
	}
}
