package rpc

import (
	"bufio"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// exchange is one message sent and the responses it must get, in order;
// a nil want means no response (the next exchange's response comes first).
type exchange struct {
	name string
	send string
	want []any // each a response pattern (see matches), or a []any of patterns for a batch response in any order
}

// TestMessages drives the JSON-RPC 2.0 rules the library does not apply
// itself (rpc/framing/inbound.go) over real pipes, in both framings: batch members
// answered one by one, ids echoed in Invalid Request errors, null ids,
// params [], invalid UTF-8 in ids. Every frame the server sends must be
// valid UTF-8, and each request must get exactly one answer.
func TestMessages(t *testing.T) {
	list := func(id string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"plugins/list"}`
	}
	invalid := func(id any) map[string]any {
		return map[string]any{"id": id, "error": map[string]any{"code": float64(protocol.CodeInvalidRequest)}}
	}
	listed := func(id any) map[string]any {
		return map[string]any{"id": id, "result": map[string]any{"plugins": []any{}}}
	}
	initialize := exchange{"initialize", `{"jsonrpc":"2.0","id":"init","method":"initialize"}`, []any{map[string]any{"id": "init"}}}
	cases := [][]exchange{
		{
			{"initialize with params []", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":[]}`,
				[]any{map[string]any{"id": float64(1), "result": map[string]any{"protocolVersion": protocol.ProtocolVersion}}}},
			{"initialized with params []", `{"jsonrpc":"2.0","method":"initialized","params":[]}`, nil},
			{"params []", `{"jsonrpc":"2.0","id":23,"method":"plugins/list","params":[]}`, []any{listed(float64(23))}},
			{"shutdown with params []", `{"jsonrpc":"2.0","id":26,"method":"shutdown","params":[]}`, []any{map[string]any{"id": float64(26), "result": nil}}},
			{"exit with params []", `{"jsonrpc":"2.0","method":"exit","params":[]}`, nil},
		},
		{initialize, {"batch of numbers", `[1,2,3]`, []any{[]any{invalid(nil), invalid(nil), invalid(nil)}}}},
		{initialize, {"empty batch", `[]`, []any{invalid(nil)}}},
		{initialize, {"no jsonrpc member", `{"id":18,"method":"plugins/list"}`, []any{invalid(float64(18))}}},
		{initialize, {"wrong version, string id", `{"jsonrpc":"1.0","id":"x","method":"plugins/list"}`, []any{invalid("x")}}},
		{initialize, {"method not a string", `{"jsonrpc":"2.0","id":21,"method":5}`, []any{invalid(float64(21))}}},
		{initialize, {"no method: id not echoed", `{"jsonrpc":"2.0","id":22}`, []any{invalid(nil)}}},
		{initialize, {"id null", `{"jsonrpc":"2.0","id":null,"method":"plugins/list"}`, []any{listed(nil)}}},
		{initialize, {"mixed batch", `[` + `{"id":19,"method":"plugins/list"},` + list("20") + `,{"jsonrpc":"2.0","method":"initialized"},5,` + list("null") + `]`,
			[]any{[]any{invalid(float64(19)), listed(float64(20)), invalid(nil), listed(nil)}}}},
		{initialize, {"batch with one id twice", `[` + list("24") + `,` + list("24") + `]`, []any{[]any{listed(float64(24)), listed(float64(24))}}}},
		{initialize, {"batch of notifications", `[{"jsonrpc":"2.0","method":"initialized"},{"jsonrpc":"2.0","method":"x/unknown"}]`, nil}},
		{initialize, {"invalid UTF-8 in a string id", `{"jsonrpc":"2.0","id":"a` + "\xff\xfe" + `b","method":"plugins/list"}`, []any{listed("a\uFFFD\uFFFDb")}}},
	}
	for _, framing := range framings {
		for _, exchanges := range cases {
			last := exchanges[len(exchanges)-1]
			t.Run(framing+"/"+last.name, func(t *testing.T) {
				t.Parallel()
				watchdog(t, 60*time.Second)
				c := start(t, startOpts{framing: framing, raw: true})
				r := bufio.NewReaderSize(c.stdout, 1<<16)
				for _, ex := range exchanges {
					if _, err := c.stdin.Write([]byte(frame(framing, ex.send))); err != nil {
						t.Fatalf("%s: %v", ex.name, err)
					}
					for _, want := range ex.want {
						body := readBody(t, r, framing)
						if !utf8.Valid(body) {
							t.Fatalf("%s: the server sent invalid UTF-8: %q", ex.name, body)
						}
						var got any
						if err := json.Unmarshal(body, &got); err != nil {
							t.Fatalf("%s: %v", ex.name, err)
						}
						if !matches(want, got) {
							t.Fatalf("%s: got %s, want %v", ex.name, body, want)
						}
					}
				}
				if last.name != "exit with params []" {
					// A request after it: its answer comes next, so nothing
					// was answered twice or left unanswered in between.
					c.stdin.Write([]byte(frame(framing, list("25"))))
					if body := readBody(t, r, framing); !matches(listed(float64(25)), decode(t, body)) {
						t.Fatalf("the request after %s: got %s", last.name, body)
					}
					c.stdin.Close()
				}
				// The input ended (or exit came after shutdown): status 0,
				// and nothing more was sent.
				if code := c.waitExit(30 * time.Second); code != 0 {
					t.Errorf("exit status %d, want 0", code)
				}
				if rest, _ := r.ReadString(0); rest != "" {
					t.Errorf("unexpected output after the last answer: %q", rest)
				}
			})
		}
	}
}

func decode(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	return v
}

// matches reports whether got matches pattern want: maps match as subsets,
// a []any pattern matches an array of the same length in any order, other
// values match when equal.
func matches(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present || !matches(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		left := slices.Clone(g)
		for _, wv := range w {
			i := slices.IndexFunc(left, func(gv any) bool { return matches(wv, gv) })
			if i < 0 {
				return false
			}
			left = slices.Delete(left, i, i+1)
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}
