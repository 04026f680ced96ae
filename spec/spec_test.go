package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/rpc/protocol"
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

var heading = regexp.MustCompile("(?m)^### `([^`]+)`\n\n(\\S+(?: notification)?)")

// TestProtocolDoc checks protocol.md against the method table: a section
// for every method of the table, opening with what the method is
// ("Request", "Notification" or "Server notification"), no section for a
// method the table does not have, and a schema file for each message's
// params and each request's result.
func TestProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile("protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	opening := map[string]string{}
	for _, m := range heading.FindAllSubmatch(doc, -1) {
		opening[string(m[1])] = strings.TrimRight(string(m[2]), ".,:")
	}
	kinds := map[string]string{"request": "Request", "notification": "Notification", "server-notification": "Server notification"}
	known := map[string]bool{}
	for _, m := range protocol.Methods() {
		known[m.Name] = true
		got, ok := opening[m.Name]
		switch {
		case !ok:
			t.Errorf("protocol.md has no section \"### `%s`\"", m.Name)
		case got != kinds[m.Kind()]:
			t.Errorf("protocol.md: the section of %s opens with %q, want %q (%s)", m.Name, got, kinds[m.Kind()], m.Direction)
		}
		if m.Params != nil {
			if _, err := os.Stat(filepath.Join("schema", SchemaFile(m.Name, "params"))); err != nil {
				t.Errorf("%s: no params schema: run %q", m.Name, GenerateCommand)
			}
		}
		if m.Request {
			if _, err := os.Stat(filepath.Join("schema", SchemaFile(m.Name, "result"))); err != nil {
				t.Errorf("%s: no result schema: run %q", m.Name, GenerateCommand)
			}
		}
	}
	for d := range opening {
		if !known[d] {
			t.Errorf("protocol.md documents %q, which is not in the method table (protocol.Methods)", d)
		}
	}
	if len(opening) == 0 {
		t.Fatal("no method sections found in protocol.md")
	}
}
