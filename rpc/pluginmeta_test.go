package rpc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestPluginMetadata: plugins/list and plugins/describe carry the title and
// description of a metadata file that uses TOML beyond a flat list of
// strings (a multi-line array, comments, unicode, a table); a plugin whose
// metadata file is not valid TOML is still listed as valid, titled with its
// name, with a warning naming the file and the line.
func TestPluginMetadata(t *testing.T) {
	watchdog(t, 120*time.Second)
	root := t.TempDir()
	for _, name := range []string{"good", "bad"} {
		copyFile(t, filepath.Join(plugins, "parsers/string_parser/string_parser.wasm"), filepath.Join(root, "parsers", name, name+".wasm"))
	}
	good := "# Chipmunk metadata\ntitle = 'Größe ✓'\ntags = [\n  \"a\",\n  \"b\",\n]\ndescription = \"\"\"\nline one\nline two\"\"\"\n[extra]\ntitle = 1\n"
	if err := os.WriteFile(filepath.Join(root, "parsers/good/good.toml"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "parsers/bad/bad.toml"), []byte("title = \"Bad\"\n\ndescription = = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	c := start(t, startOpts{})
	c.initialize(&protocol.InitializationOptions{PluginDirs: []string{root}})
	var list protocol.PluginsListResult
	c.mustCall(protocol.MethodPluginsList, nil, &list)
	byName := map[string]protocol.PluginInfo{}
	for _, p := range list.Plugins {
		byName[p.Name] = p
	}
	if p := byName["good"]; p.State != "valid" || p.Title != "Größe ✓" || p.Description == nil || *p.Description != "line one\nline two" || len(p.Warnings) != 0 {
		t.Errorf("good: %+v", p)
	}
	if p := byName["bad"]; p.State != "valid" || p.Title != "bad" || p.Description != nil || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "parsing metadata file bad.toml failed: line 3") {
		t.Errorf("bad: %+v", p)
	}

	var d protocol.PluginsDescribeResult
	c.mustCall(protocol.MethodPluginsDescribe, protocol.PluginsDescribeParams{ID: "good"}, &d)
	if d.Title != "Größe ✓" || d.Description == nil || *d.Description != "line one\nline two" {
		t.Errorf("describe good: title %q description %v", d.Title, d.Description)
	}
	d = protocol.PluginsDescribeResult{}
	c.mustCall(protocol.MethodPluginsDescribe, protocol.PluginsDescribeParams{ID: filepath.Join(root, "parsers/bad/bad.wasm")}, &d)
	if d.Title != "bad" || len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "bad.toml failed: line 3") {
		t.Errorf("describe bad: title %q warnings %q", d.Title, d.Warnings)
	}
}
