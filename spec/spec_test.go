package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/chiphost/chiphost/rpc"
)

// TestGenerated regenerates the schemas in memory and fails, naming the
// command to run, when schema/ is stale.
func TestGenerated(t *testing.T) {
	want, err := Schemas()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join("schema", name))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("schema/%s is missing or stale: run %q", name, GenerateCommand)
		}
	}
	files, _ := filepath.Glob("schema/*.json")
	for _, f := range files {
		if _, ok := want[filepath.Base(f)]; !ok {
			t.Errorf("%s is not generated any more: run %q", f, GenerateCommand)
		}
	}
}

var heading = regexp.MustCompile("(?m)^### `([^`]+)`")

// TestProtocolDoc checks that protocol.md has a section for every method of
// the dispatch table and every server notification, that each message with
// params or a result has a schema file, and that the document names no
// method the server does not know.
func TestProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile("protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range heading.FindAllSubmatch(doc, -1) {
		documented = append(documented, string(m[1]))
	}
	known := append(rpc.Methods(), rpc.Notifications()...)
	for _, m := range known {
		if !slices.Contains(documented, m) {
			t.Errorf("protocol.md has no section \"### `%s`\"", m)
		}
	}
	for _, d := range documented {
		if !slices.Contains(known, d) {
			t.Errorf("protocol.md documents %q, which is not in the dispatch table or the notifications", d)
		}
	}
	inMessages := map[string]bool{}
	for _, m := range rpc.Messages() {
		inMessages[m.Method] = true
		if m.Params != nil {
			if _, err := os.Stat(filepath.Join("schema", SchemaFile(m.Method, "params"))); err != nil {
				t.Errorf("%s: no params schema: run %q", m.Method, GenerateCommand)
			}
		}
		if m.Kind == "request" {
			if _, err := os.Stat(filepath.Join("schema", SchemaFile(m.Method, "result"))); err != nil {
				t.Errorf("%s: no result schema: run %q", m.Method, GenerateCommand)
			}
		}
	}
	for _, m := range known {
		if !inMessages[m] {
			t.Errorf("%s is missing from rpc.Messages()", m)
		}
	}
}
