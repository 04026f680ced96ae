package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/runtime/internal/abitest"
)

// scenario is a sequence of raw calls, in the format shared with the jco
// reference host (testdata/plugins/oracle/run.mjs).
type scenario struct {
	Calls []struct {
		Fn   string            `json:"fn"`
		Args []json.RawMessage `json:"args"`
	} `json:"calls"`
}

// scenarioPlugins maps a scenario name prefix to the fixtures that must
// produce its expected output; the longest matching prefix wins. The
// cut-independent string_parser, its core module and the composed component
// that nests it; the Chipmunk-faithful
// build and its JavaScript twins (WASI off, and WASI 0.2 on); and for init, which every build does
// alike, all of them.
var scenarioPlugins = []struct {
	prefix   string
	fixtures []string
}{
	{"string_parser", []string{"parsers/string_parser/string_parser.wasm", "core/string_parser.core.wasm",
		"compat/string_parser_draft/string_parser_draft.wasm", "composed/nested.wasm"}},
	{"string_parser_init", []string{"parsers/string_parser/string_parser.wasm", "core/string_parser.core.wasm",
		"compat/string_parser_draft/string_parser_draft.wasm", "composed/nested.wasm", "compat/string_parser_chipmunk/string_parser_chipmunk.wasm", "parsers/js_string_parser/js_string_parser.wasm",
		"wasip2/js_wasi_string_parser/js_wasi_string_parser.wasm"}},
	{"chipmunk_string_parser", []string{"compat/string_parser_chipmunk/string_parser_chipmunk.wasm", "parsers/js_string_parser/js_string_parser.wasm",
		"wasip2/js_wasi_string_parser/js_wasi_string_parser.wasm"}},
	{"file_source", []string{"bytesources/file_source/file_source.wasm", "core/file_source.core.wasm"}},
	{"go_records", []string{"parsers/go_records/go_records.wasm"}},
	{"file_producer", []string{"producers/file_producer/file_producer.wasm", "wasip2/js_file_producer/js_file_producer.wasm"}},
	{"file_producer_missing_file", []string{"producers/file_producer/file_producer.wasm"}},
	{"js_file_producer", []string{"wasip2/js_file_producer/js_file_producer.wasm"}},
	{"hostile", []string{"hostile/hostile.wasm"}},
	// One WAT parser in both UTF-16 encodings. jco cannot transpile
	// latin1+utf16, so the latin1 build must give the utf16 build's
	// results: the strings are the same, only their layout differs.
	{"utf16_lines", []string{"compat/utf16_lines/utf16_lines.wasm", "compat/latin1_lines/latin1_lines.wasm"}},
}

// TestOracleScenarios runs every scenario through chiphost and compares the
// canonical JSON of each call's result with what the jco-transpiled
// JavaScript host produced (scenarios/*.expected.jsonl, regenerated and
// checked in CI by testdata/plugins/oracle/expected.sh --check).
func TestOracleScenarios(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "testdata", "plugins", "oracle", "scenarios")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in %s", dir)
	}
	h := newTestHost(t, nil)
	ran := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		want, err := os.ReadFile(filepath.Join(dir, name+".expected.jsonl"))
		if err != nil {
			t.Logf("%s: no expected output (the oracle cannot run it, e.g. a trap jco handles differently); skipped", name)
			continue
		}
		var fixtures []string
		matched := ""
		for _, sp := range scenarioPlugins {
			if strings.HasPrefix(name, sp.prefix) && len(sp.prefix) > len(matched) {
				fixtures, matched = sp.fixtures, sp.prefix
			}
		}
		if fixtures == nil {
			t.Fatalf("%s: no plugin for this scenario prefix", name)
		}
		for _, fx := range fixtures {
			t.Run(name+"/"+filepath.Base(fx), func(t *testing.T) {
				got := runScenario(t, h, fixture(t, fx), f, dir)
				compareJSONLines(t, got, want)
			})
			ran++
		}
	}
	if ran == 0 {
		t.Fatal("no scenario has an expected output")
	}
}

// runScenario performs the scenario's calls on one fresh instance and
// returns the canonical JSON lines.
func runScenario(t *testing.T, h *Host, plugin, scenarioFile, dir string) []byte {
	t.Helper()
	ctx := context.Background()
	raw, err := os.ReadFile(scenarioFile)
	if err != nil {
		t.Fatal(err)
	}
	// Scenario arguments may name files relative to the scenario directory.
	raw = bytes.ReplaceAll(raw, []byte("${SCENARIO_DIR}"), []byte(dir))
	var sc scenario
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatalf("scenario: %v", err)
	}
	p, err := h.Load(ctx, plugin)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := p.compiled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in, err := h.newInstance(ctx, cp, mounts{dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	for i, c := range sc.Calls {
		f := in.funcs[c.Fn]
		if f == nil {
			t.Fatalf("call %d: plugin has no function %q", i, c.Fn)
		}
		if len(c.Args) != len(f.wit.Params) {
			t.Fatalf("call %d %s: %d args, want %d", i, c.Fn, len(c.Args), len(f.wit.Params))
		}
		args := make([]abi.Value, len(c.Args))
		for j, a := range c.Args {
			v, err := abitest.ParseJSON(f.wit.Params[j].Type, a)
			if err != nil {
				t.Fatalf("call %d %s arg %d: %v", i, c.Fn, j, err)
			}
			args[j] = v
		}
		res, err := in.call(ctx, c.Fn, args)
		if err != nil {
			t.Logf("call %d %s: %v", i, c.Fn, err)
			out.WriteString(`{"fn":"` + c.Fn + `","trap":true}` + "\n")
			break
		}
		out.WriteString(`{"fn":"` + c.Fn + `","result":`)
		if f.wit.Result == nil {
			out.WriteString("null")
		} else {
			out.Write(abitest.AppendJSON(nil, f.wit.Result, res))
		}
		out.WriteString("}\n")
	}
	return out.Bytes()
}

func compareJSONLines(t *testing.T, got, want []byte) {
	t.Helper()
	g, w := jsonLines(t, got), jsonLines(t, want)
	for i := 0; i < max(len(g), len(w)); i++ {
		switch {
		case i >= len(g):
			t.Errorf("line %d: missing, want %s", i+1, short(w[i]))
		case i >= len(w):
			t.Errorf("line %d: extra %s", i+1, short(g[i]))
		default:
			var gv, wv any
			json.Unmarshal(g[i], &gv)
			json.Unmarshal(w[i], &wv)
			if !reflect.DeepEqual(gv, wv) {
				t.Errorf("line %d:\n got %s\nwant %s", i+1, short(g[i]), short(w[i]))
			}
		}
	}
}

func jsonLines(t *testing.T, b []byte) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	return out
}

func short(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}
