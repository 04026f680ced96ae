package rpc

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportBoundaries keeps rpc away from wazero and runtime/internal, and
// runtime away from rpc: each package keeps to its job.
func TestImportBoundaries(t *testing.T) {
	cases := []struct {
		pkg       string
		forbidden []string
	}{
		{".", []string{"github.com/tetratelabs/wazero", "github.com/chiphost/chiphost/runtime/internal"}},
		{"../runtime", []string{"github.com/chiphost/chiphost/rpc", "go.lsp.dev/jsonrpc2"}},
	}
	for _, tc := range cases {
		// rpc's own imports (not transitive: runtime legitimately uses wazero).
		format := "{{join .Imports \"\\n\"}}"
		if tc.pkg != "." {
			format = "{{join .Deps \"\\n\"}}"
		}
		out, err := exec.Command("go", "list", "-f", format, tc.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", tc.pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			for _, f := range tc.forbidden {
				if strings.HasPrefix(imp, f) {
					t.Errorf("%s imports %s", tc.pkg, imp)
				}
			}
		}
	}
}
