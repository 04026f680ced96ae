package rpc

import (
	"context"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestRoutesMatchTable checks the server's handlers against the protocol
// table, and that the check catches each way they can drift apart: a
// client→server method without a handler, a handler without a method, a
// handler that decodes other params or returns another result, and a
// handler for a server→client notification.
func TestRoutesMatchTable(t *testing.T) {
	routes, err := newRoutes(protocol.Methods(), handlers())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range protocol.Methods() {
		r, ok := routes[m.Name]
		if ok != (m.Direction == protocol.ClientToServer) {
			t.Errorf("%s (%s): routed %v", m.Name, m.Direction, ok)
		}
		if ok && r.request != m.Request {
			t.Errorf("%s: route says request %v, the table %v", m.Name, r.request, m.Request)
		}
	}
	drifts := []struct {
		name string
		edit func(map[string]handler)
		want string
	}{
		{"missing handler", func(h map[string]handler) { delete(h, protocol.MethodSessionsGrab) }, "sessions/grab: no handler"},
		{"handler without method", func(h map[string]handler) { h["sessions/peek"] = h[protocol.MethodSessionsGrab] }, "sessions/peek: a handler, but no client→server method"},
		{"server notification handled", func(h map[string]handler) { h[protocol.MethodProgress] = h[protocol.MethodExit] }, "$/progress: a handler, but no client→server method"},
		{"other params", func(h map[string]handler) { h[protocol.MethodPluginsList] = h[protocol.MethodPluginsDescribe] }, "plugins/list: the handler decodes protocol.PluginsDescribeParams"},
		{"other result", func(h map[string]handler) {
			h[protocol.MethodPluginsDescribe] = typed(func(*Server, context.Context, *protocol.PluginsDescribeParams) (*protocol.PluginsListResult, error) {
				return nil, nil
			}, 0)
		}, "plugins/describe: the handler returns *protocol.PluginsListResult"},
		{"null result", func(h map[string]handler) { h[protocol.MethodSessionsClose] = typed((*Server).sessionsClose, 0) }, ""},
	}
	for _, d := range drifts {
		hs := handlers()
		d.edit(hs)
		_, err := newRoutes(protocol.Methods(), hs)
		switch {
		case d.want == "" && err != nil:
			t.Errorf("%s: %v", d.name, err)
		case d.want != "" && (err == nil || !strings.Contains(err.Error(), d.want)):
			t.Errorf("%s: error %v, want one containing %q", d.name, err, d.want)
		}
	}
}
