package rpc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestErrorEcho sends 1 MiB values wherever an error message quotes client
// input and checks that every error frame stays small: the value is cut to
// a few hundred bytes with an ellipsis and its size. A 60 MiB plugin id
// checks the size the issue reported.
func TestErrorEcho(t *testing.T) {
	watchdog(t, 120*time.Second)
	big := strings.Repeat("p", 1<<20)
	num := "1" + strings.Repeat("0", 1<<20)
	many := map[string]any{}
	for i := range 200 {
		many[fmt.Sprintf("%s%d", big[:1000], i)] = 1
	}
	open := func(source, parser map[string]any) map[string]any {
		return map[string]any{"source": source, "parser": parser}
	}
	file := map[string]any{"file": "/dev/null"}
	text := map[string]any{"builtin": "text"}
	plugin := func(cfg map[string]any) map[string]any {
		return map[string]any{"plugin": "string_parser", "config": cfg}
	}
	cases := []struct {
		name   string
		method string
		params any
		code   float64
	}{
		{"log level", protocol.MethodInitialize, map[string]any{"initializationOptions": map[string]any{"logLevel": big}}, float64(protocol.CodeInvalidParams)},
		{"method", big, nil, float64(protocol.CodeMethodNotFound)},
		{"describe id", protocol.MethodPluginsDescribe, map[string]any{"id": big}, float64(protocol.CodeNotFound)},
		{"describe 60 MiB id", protocol.MethodPluginsDescribe, map[string]any{"id": strings.Repeat("q", 60<<20)}, float64(protocol.CodeNotFound)},
		{"parser plugin", protocol.MethodSessionsOpen, open(file, map[string]any{"plugin": big}), float64(protocol.CodeNotFound)},
		{"source plugin", protocol.MethodSessionsOpen, open(map[string]any{"plugin": big + ".wasm"}, text), float64(protocol.CodeNotFound)},
		{"source file", protocol.MethodSessionsOpen, open(map[string]any{"file": big}, text), float64(protocol.CodeNotFound)},
		{"builtin", protocol.MethodSessionsOpen, open(file, map[string]any{"builtin": big}), float64(protocol.CodeInvalidParams)},
		{"config key", protocol.MethodSessionsOpen, open(file, plugin(map[string]any{big: 1})), float64(protocol.CodeInvalidParams)},
		{"config keys", protocol.MethodSessionsOpen, open(file, plugin(many)), float64(protocol.CodeInvalidParams)},
		{"dropdown value", protocol.MethodSessionsOpen, open(file, plugin(map[string]any{"dropdown_idx": big})), float64(protocol.CodeInvalidParams)},
		{"file value", protocol.MethodSessionsOpen, open(file, plugin(map[string]any{"files_idx": []string{big + ".log"}})), float64(protocol.CodeInvalidParams)},
		{"integer value", protocol.MethodSessionsOpen, open(file, plugin(map[string]any{"integer_idx": json.RawMessage(num)})), float64(protocol.CodeInvalidParams)},
		{"grab session", protocol.MethodSessionsGrab, map[string]any{"session": big, "count": 1}, float64(protocol.CodeNotFound)},
		{"grab start", protocol.MethodSessionsGrab, map[string]any{"session": "s1", "start": json.RawMessage(num)}, float64(protocol.CodeInvalidParams)},
		{"stream session", protocol.MethodSessionsStream, map[string]any{"session": big}, float64(protocol.CodeNotFound)},
		{"close session", protocol.MethodSessionsClose, map[string]any{"session": big}, float64(protocol.CodeNotFound)},
	}
	root := t.TempDir() // a plugin root with string_parser only: less to compile
	if err := os.MkdirAll(filepath.Join(root, "parsers"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(plugins, "parsers", "string_parser"), filepath.Join(root, "parsers", "string_parser")); err != nil {
		t.Fatal(err)
	}
	c := start(t, startOpts{raw: true, args: []string{"--plugins-dir", root}})
	r := bufio.NewReaderSize(c.stdout, 1<<16)
	for i, tc := range cases {
		msg := map[string]any{"jsonrpc": "2.0", "id": i, "method": tc.method}
		if tc.params != nil {
			msg["params"] = tc.params
		}
		b, err := json.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		go c.stdin.Write([]byte(frame("header", string(b))))
		body := readBody(t, r, "header")
		var resp struct {
			ID    int `json:"id"`
			Error *struct {
				Code    float64         `json:"code"`
				Message string          `json:"message"`
				Data    json.RawMessage `json:"data"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &resp); err != nil || resp.ID != i || resp.Error == nil || resp.Error.Code != tc.code {
			t.Fatalf("%s: want error %v for id %d, got %.300s", tc.name, tc.code, i, body)
		}
		if len(body) > 16<<10 || len(resp.Error.Message) > maxErrorText {
			t.Errorf("%s: error frame of %d bytes (message %d): %.300s", tc.name, len(body), len(resp.Error.Message), body)
		}
		if !strings.Contains(string(body), "bytes)") {
			t.Errorf("%s: no cut marked in %.600s", tc.name, body)
		}
		if i == 0 { // initialize failed: initialize for the rest
			go c.stdin.Write([]byte(frame("header", `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{}}`)))
			readBody(t, r, "header")
		}
	}
}
