package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// benchQuick runs `chiphost bench --quick --json` with args in-process and
// returns the report; the sections that spawn chiphost use the real binary.
func benchQuick(t *testing.T, args ...string) map[string]any {
	t.Helper()
	t.Setenv("CHIPHOST_BENCH_EXE", chiphostBin(t))
	var out, errb bytes.Buffer
	code := run(append([]string{"bench", "--quick", "--json", "--fixtures", repo("testdata/plugins")}, args...), strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	for _, s := range asSlice(rep["skipped"]) {
		if strings.Contains(s.(string), "failed") {
			t.Errorf("skipped: %s", s)
		}
	}
	if len(asSlice(rep["figures"])) == 0 || len(asSlice(rep["ratios"])) == 0 {
		t.Fatalf("no figures or ratios: %s", out.String())
	}
	return rep
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// TestBenchQuick keeps the quick smoke run of the suite working: the
// overhead section (in-process plus a plugin built with clang when present)
// and plugin-author mode. CHIPHOST_BENCH_ALL=1 runs every section (slow).
func TestBenchQuick(t *testing.T) {
	if os.Getenv("CHIPHOST_BENCH_ALL") != "" {
		benchQuick(t)
		return
	}
	benchQuick(t, "--sections", "4")
	rep := benchQuick(t, "--parser", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"), "--input", repo("examples/sample.log"))
	for _, r := range asSlice(rep["ratios"]) {
		if m := r.(map[string]any); strings.Contains(m["name"].(string), "/ string_parser") && m["note"] != "rows identical" {
			t.Errorf("author mode baseline: %v", m["note"])
		}
	}
}
