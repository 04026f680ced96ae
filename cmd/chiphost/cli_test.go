package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// chiphostBin builds the real binary once per test run.
func chiphostBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chiphost-cli-test-*")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "chiphost")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{out}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type buildError struct{ out []byte }

func (e *buildError) Error() string { return "go build: " + string(e.out) }

func repo(rel string) string { return filepath.Join("..", "..", rel) }

// runCLI runs chiphost with a private cache and no default plugin root.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(chiphostBin(t), args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(os.TempDir(), "chiphost-test-cache-cli"), "HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestInspect(t *testing.T) {
	out, errOut, code := runCLI(t, "", "inspect", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got inspectOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Kind != "parser" || got.APIVersion != "0.1.0" || got.Version != "0.1.0" || len(got.ConfigSchemas) != 7 {
		t.Fatalf("got %+v", got)
	}
	var types []string
	for _, it := range got.ConfigSchemas {
		types = append(types, string(it.InputType.Type))
	}
	if strings.Join(types, ",") != "boolean,text,integer,float,files,directories,dropdown" {
		t.Errorf("types %v", types)
	}
	if !strings.Contains(out, `"default": 1.55`) || !strings.Contains(out, `"extensions": [`) || !strings.Contains(out, `"options": [`) {
		t.Errorf("defaults, extensions or options missing:\n%s", out)
	}
	if r := got.RenderOptions; r == nil || len(r.Columns) != 2 || r.Columns[1].Width != -1 || r.MaxWidth != 600 {
		t.Errorf("render options %+v", r)
	}
	// By discovered name, from an extra plugin root.
	out, errOut, code = runCLI(t, "", "inspect", "--plugins-dir", repo("testdata/plugins"), "file_source")
	if code != 0 || !strings.Contains(out, `"kind": "bytesource"`) || !strings.Contains(out, `"renderOptions": null`) {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON (%v): %q", err, sc.Text())
		}
		rows = append(rows, m)
	}
	return rows
}

func TestParse(t *testing.T) {
	sample, err := os.ReadFile(repo("examples/sample.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(sample), "\n"), "\n")
	// string_parser prints to its stdout during init: none of it may reach
	// chiphost's stdout, which carries rows only.
	out, errOut, code := runCLI(t, "", "parse", "--output", "jsonl", "--parser", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"), "--config", "prefix=>", repo("examples/sample.log"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := jsonLines(t, out)
	if len(rows) != len(lines) {
		t.Fatalf("%d rows, want %d", len(rows), len(lines))
	}
	for i, r := range rows {
		cols, _ := r["columns"].([]any)
		if r["index"] != float64(i) || len(cols) != 2 || cols[1] != "> "+lines[i] {
			t.Fatalf("row %d: %v", i, r)
		}
	}
	// Built-in text parser over stdin, text output.
	out, _, code = runCLI(t, "one\ntwo\r\nthree", "parse", "--parser", "text", "-")
	if code != 0 || out != "one\ntwo\nthree\n" {
		t.Fatalf("exit %d: %q", code, out)
	}
}

func TestParseAttachmentsAndSource(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(input, []byte("line|first\nattach|notes.txt|aGVsbG8=\ncols|a,b,c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	att := filepath.Join(dir, "att")
	// Read the input through the file_source byte-source plugin.
	out, errOut, code := runCLI(t, "", "parse", "--output", "jsonl", "--plugins-dir", repo("testdata/plugins"), "--no-default-plugins",
		"--parser", "go_records", "--source", "file_source", "--source-config", "input-path="+input, "--attachments", att)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := jsonLines(t, out)
	if len(rows) != 3 || rows[0]["line"] != "first" {
		t.Fatalf("rows %v", rows)
	}
	a, ok := rows[1]["attachment"].(map[string]any)
	if !ok || a["name"] != "notes.txt" || a["size"] != float64(5) || a["createdDate"] != "2024-01-01" {
		t.Fatalf("attachment row %v", rows[1])
	}
	b, err := os.ReadFile(a["path"].(string))
	if err != nil || string(b) != "hello" || filepath.Dir(a["path"].(string)) != att {
		t.Fatalf("attachment file %v: %q %v", a["path"], b, err)
	}
	if cols, _ := rows[2]["columns"].([]any); len(cols) != 3 {
		t.Fatalf("columns row %v", rows[2])
	}
}

func TestCLIErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no such plugin", []string{"inspect", "--no-default-plugins", "nope"}, 1, `plugin "nope"`},
		{"unsupported component", []string{"inspect", repo("testdata/plugins/negative/p2_imports.wasm")}, 1, "wasi:"},
		{"unknown config id", []string{"parse", "--parser", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"), "--config", "nope=1", "-"}, 2, "has no such item"},
		{"bad config value", []string{"parse", "--parser", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"), "--config", "lossy=maybe", "-"}, 2, "want true or false"},
		{"bad dropdown", []string{"parse", "--parser", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"), "--config", "dropdown_idx=Option 9", "-"}, 1, "not one of the options"},
		{"missing -parser", []string{"parse", "x.log"}, 2, "-parser is required"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"missing input file", []string{"parse", "--parser", "text", "/nonexistent/input.log"}, 1, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "", tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.stderr)
			}
			if out != "" {
				t.Fatalf("stdout must stay empty on errors, got %q", out)
			}
		})
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)
