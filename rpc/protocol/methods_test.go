package protocol

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// TestMethodTable checks the table's own rules: names are unique, every
// message has a summary, only client→server messages are requests, a
// result type only comes with a request, and every Method* name constant
// is in the table (the constants only spell the names; the table says
// what they are).
func TestMethodTable(t *testing.T) {
	inTable := map[string]bool{}
	for _, m := range Methods() {
		if inTable[m.Name] {
			t.Errorf("%s is in the table twice", m.Name)
		}
		inTable[m.Name] = true
		if m.Summary == "" || strings.Contains(m.Summary, "\n") {
			t.Errorf("%s: want a one-line summary, got %q", m.Name, m.Summary)
		}
		if m.Request && m.Direction != ClientToServer {
			t.Errorf("%s: a request from the server", m.Name)
		}
		if m.Result != nil && !m.Request {
			t.Errorf("%s: a notification with a result type", m.Name)
		}
		if got, ok := Lookup(m.Name); !ok || got.Name != m.Name {
			t.Errorf("Lookup(%q) = %v, %v", m.Name, got.Name, ok)
		}
	}
	consts := methodConstants(t)
	for name, value := range consts {
		if !inTable[value] {
			t.Errorf("%s = %q is not in the method table", name, value)
		}
	}
	if len(consts) != len(inTable) {
		t.Errorf("%d Method* constants for %d messages in the table", len(consts), len(inTable))
	}
	if n := len(Names(ClientToServer)) + len(Names(ServerToClient)); n != len(inTable) {
		t.Errorf("Names lists %d messages, the table has %d", n, len(inTable))
	}
}

// methodConstants returns the Method* string constants of methods.go.
func methodConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "methods.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, id := range vs.Names {
			if !strings.HasPrefix(id.Name, "Method") || i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				out[id.Name] = v
			}
		}
		return true
	})
	if len(out) == 0 {
		t.Fatal("no Method* constants found in methods.go")
	}
	return out
}
