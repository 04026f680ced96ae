package rpc

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestDescribeUnusableDefaults describes, then opens, a real plugin whose
// float defaults are NaN and +inf and whose dropdown default is not an
// option (odd_schema): plugins/describe answers (it failed with -32603 on
// NaN) with warnings naming the plugin and each item, no default for the
// floats in configItems and configSchema, and the first option as the
// dropdown's default; a session without the float values is refused with
// -32602 naming them, and with them the plugin's init gets the first option.
func TestDescribeUnusableDefaults(t *testing.T) {
	watchdog(t, 60*time.Second)
	plugin := filepath.Join(plugins, "hostile/odd_schema.wasm")
	c := start(t, startOpts{})
	c.initialize(nil)
	var d struct {
		protocol.PluginsDescribeResult
		ConfigSchema struct {
			Properties map[string]map[string]any `json:"properties"`
		} `json:"configSchema"`
	}
	c.mustCall(protocol.MethodPluginsDescribe, protocol.PluginsDescribeParams{ID: plugin}, &d)
	want := []string{`plugin odd_schema: config "ratio": the float default NaN`, `plugin odd_schema: config "scale": the float default +Inf`, `plugin odd_schema: config "level": the dropdown default "medium"`}
	if len(d.Warnings) != len(want) {
		t.Fatalf("warnings %q, want %d", d.Warnings, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(d.Warnings[i], w) {
			t.Errorf("warning %d: %q, want it to start with %q", i, d.Warnings[i], w)
		}
	}
	for id, wantDefault := range map[string]any{"ratio": nil, "scale": nil, "level": "low", "name": "odd"} {
		if got, has := d.ConfigSchema.Properties[id]["default"]; got != wantDefault || has != (wantDefault != nil) {
			t.Errorf("configSchema %s.default = %v (present %v), want %v", id, got, has, wantDefault)
		}
	}
	if len(d.ConfigItems) != 4 || d.ConfigItems[0].InputType.Default != nil || d.ConfigItems[2].InputType.Default != "low" {
		t.Errorf("configItems %+v", d.ConfigItems)
	}

	input := writeLines(t, 3)
	err := c.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Plugin: plugin}}, nil)
	data := wireErr(t, err, protocol.CodeInvalidParams)
	if len(data.Errors) != 2 || data.Errors[0].Field != "ratio" || data.Errors[1].Field != "scale" || data.Plugin != "odd_schema" {
		t.Errorf("open without the float values: %+v", data)
	}
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Plugin: plugin,
		Config: map[string]json.RawMessage{"ratio": json.RawMessage(`0.5`), "scale": json.RawMessage(`2`)}}}, &open)
	c.waitNote(30*time.Second, func(n note) bool {
		var p protocol.LogMessageParams
		return n.method == protocol.MethodLogMessage && json.Unmarshal(n.params, &p) == nil && p.Session == open.Session && p.Message == `level = Dropdown("low")`
	})
	if fin := c.waitFinal(open.Session, 30*time.Second); fin.State != protocol.StateDone || fin.Rows != 3 {
		t.Errorf("final %+v, want done with 3 rows", fin)
	}
}
