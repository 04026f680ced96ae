package rpc

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

func TestDebugTrap(t *testing.T) {
	input := writeLines(t, 100)
	c := start(t, startOpts{args: []string{"--call-timeout", "2s"}})
	c.initialize(nil)
	var open SessionsOpenResult
	c.mustCall(MethodSessionsOpen, SessionsOpenParams{Source: SourceSpec{File: input}, Parser: ParserSpec{Plugin: filepath.Join(plugins, "hostile/hostile.wasm"), Config: map[string]json.RawMessage{"mode": json.RawMessage(`"trap"`)}}}, &open)
	time.Sleep(time.Second)
	c.mu.Lock()
	for _, n := range c.notes {
		t.Logf("%s %s", n.method, n.params)
	}
	c.mu.Unlock()
}
