package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/benchkit"
)

// TestBenchPlugin runs plugin-author mode the way a plugin author does,
// `chiphost bench --parser P --input F --quick --json`, on the real binary:
// load times, throughput and the ratio to the native baseline with
// identical rows.
func TestBenchPlugin(t *testing.T) {
	out, errOut, code := runCLI(t, "", "bench", "--quick", "--json",
		"--parser", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"), "--input", repo("examples/sample.log"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep benchkit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if len(rep.Skipped) != 0 || len(rep.Figures) < 5 {
		t.Fatalf("skipped %q, %d figures: %s", rep.Skipped, len(rep.Figures), out)
	}
	found := false
	for _, r := range rep.Ratios {
		if strings.HasSuffix(r.Name, "/ string_parser") {
			found = true
			if r.Note != "rows identical" || r.Value <= 0 {
				t.Errorf("baseline ratio %+v", r)
			}
		}
	}
	if !found {
		t.Errorf("no ratio to the string_parser baseline: %s", out)
	}
	if _, errOut, code := runCLI(t, "", "bench", "--quick"); code != 2 || !strings.Contains(errOut, "--parser and --input are required") {
		t.Errorf("bench without a plugin: exit %d, %q", code, errOut)
	}
}

// TestDevCodeNotLinked: the shipped binary carries neither the project's
// benchmark suite (bench/: client scripts, C source, a JSON-RPC reader) nor
// test-only packages.
func TestDevCodeNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(bytes.TrimSpace(out)))
	const mod = "github.com/chiphost/chiphost/"
	if !slices.Contains(deps, mod+"runtime") {
		t.Fatalf("go list -deps does not list the runtime: %q", deps)
	}
	for _, d := range deps {
		p, ours := strings.CutPrefix(d, mod)
		if !ours {
			continue
		}
		if p == "bench" || strings.HasPrefix(p, "bench/") || strings.HasSuffix(p, "test") || slices.Contains([]string{"internal/gorecords", "internal/loggen", "internal/testutil"}, p) {
			t.Errorf("chiphost links the development-only package %s", d)
		}
	}
}
