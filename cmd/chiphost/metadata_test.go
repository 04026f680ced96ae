package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectMetadata: inspect prints the title and description of the
// plugin's metadata file, given a .wasm path or a discovered name; a file
// that is not valid TOML leaves the plugin usable, with the name as title
// and a warning naming the file and the line.
func TestInspectMetadata(t *testing.T) {
	root := t.TempDir()
	wasm, err := os.ReadFile(repo("testdata/plugins/parsers/string_parser/string_parser.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	install := func(name, toml string) string {
		dir := filepath.Join(root, "parsers", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".toml"), []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".wasm")
		if err := os.WriteFile(path, wasm, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	goodPath := install("good", "# metadata\ntitle = \"Gut ✓\"\ntags = [\n  \"x\",\n]\ndescription = \"Zwei\\nZeilen\"\n")
	badPath := install("bad", "title = \"Bad\"\ndescription = \"open\n")
	inspect := func(args ...string) inspectOutput {
		t.Helper()
		out, errOut, code := runCLI(t, "", append([]string{"inspect", "--no-default-plugins"}, args...)...)
		if code != 0 {
			t.Fatalf("inspect %q: exit %d: %s", args, code, errOut)
		}
		var got inspectOutput
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		return got
	}
	for _, args := range [][]string{{goodPath}, {"--plugins-dir", root, "good"}} {
		got := inspect(args...)
		if got.Title != "Gut ✓" || got.Description == nil || *got.Description != "Zwei\nZeilen" || len(got.Warnings) != 0 {
			t.Errorf("inspect %q: title %q description %v warnings %q", args, got.Title, got.Description, got.Warnings)
		}
	}
	got := inspect(badPath)
	if got.Title != "bad" || got.Description != nil || len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "bad.toml failed: line 2") {
		t.Errorf("invalid TOML: title %q description %v warnings %q", got.Title, got.Description, got.Warnings)
	}
	if got := inspect(repo("testdata/plugins/hostile/odd_schema.wasm")); got.Title != "odd_schema" {
		t.Errorf("no metadata file: title %q, want the name", got.Title)
	}
}
