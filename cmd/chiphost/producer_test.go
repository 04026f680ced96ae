package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleRows are examples/sample.log's lines numbered from 1, as
// file_producer gives them (number, tab, line).
func sampleRows(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(repo("examples/sample.log"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		rows = append(rows, fmt.Sprintf("%d\t%s", n, sc.Text()))
	}
	return rows
}

// TestParseProducer: parse --producer, by discovered name (producers/ of a
// plugin root) and by path, prints the producer's rows like a parser's:
// text (columns joined by tabs) and jsonl (the same objects as parser rows);
// the JavaScript producer (WASI 0.2 filesystem) gives the same rows.
func TestParseProducer(t *testing.T) {
	want := sampleRows(t)
	out, errOut, code := runCLI(t, "", "parse", "--no-default-plugins", "--plugins-dir", repo("testdata/plugins"),
		"--producer", "file_producer", "--config", "input-path="+repo("examples/sample.log"), "--config", "lines-per-call=2")
	if code != 0 || out != strings.Join(want, "\n")+"\n" {
		t.Fatalf("exit %d, stdout\n%s\nwant\n%s\nstderr: %s", code, out, strings.Join(want, "\n"), errOut)
	}
	// The JavaScript twin reads its file through wasi:filesystem (WASI 0.2) instead of the
	// preview-1 adapter: the same rows.
	abs, err := filepath.Abs(repo("examples/sample.log"))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCLI(t, "", "parse", "--producer", repo("testdata/plugins/wasip2/js_file_producer/js_file_producer.wasm"),
		"--config", "input-path="+abs, "--progress", "never")
	if code != 0 || out != strings.Join(want, "\n")+"\n" {
		t.Fatalf("js_file_producer: exit %d, stdout\n%s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "", "parse", "--producer", repo("testdata/plugins/producers/file_producer/file_producer.wasm"),
		"--config", "input-path="+repo("examples/sample.log"), "--output", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	grepOut, errOut, code := runCLI(t, "", "parse", "--producer", repo("testdata/plugins/producers/file_producer/file_producer.wasm"),
		"--config", "input-path="+repo("examples/sample.log"), "--grep", "http:", "--count")
	if code != 0 || grepOut != "2\n" {
		t.Errorf("--grep http: --count: exit %d, %q (%s), want 2", code, grepOut, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d jsonl rows, want %d: %s", len(lines), len(want), out)
	}
	for i, l := range lines {
		var row struct {
			Index   int      `json:"index"`
			Columns []string `json:"columns"`
		}
		if err := json.Unmarshal([]byte(l), &row); err != nil || row.Index != i || strings.Join(row.Columns, "\t") != want[i] {
			t.Errorf("row %d: %s (%v), want index %d and %q", i, l, err, i, want[i])
		}
	}
}

// TestParseProducerUsage: what a producer run cannot take is a usage error
// (exit 2) naming it; so are bad config values, whether chiphost's check or
// the plugin's init refuses them. A parser named as --producer is refused
// for its kind (exit 1).
func TestParseProducerUsage(t *testing.T) {
	fp := repo("testdata/plugins/producers/file_producer/file_producer.wasm")
	in := "input-path=" + repo("examples/sample.log")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--producer", fp, "--config", in, repo("examples/sample.log")}, 2, "--producer takes no FILE"},
		{[]string{"--producer", fp, "--parser", "text", "--config", in}, 2, "give --parser or --producer, not both"},
		{[]string{"--producer", fp, "--source", "file_source", "--config", in}, 2, "--source and --source-config do not apply"},
		{[]string{"--producer", fp, "--follow", "--config", in}, 2, "--follow does not apply"},
		{[]string{"--producer", fp, "--config", in, "--follow", repo("examples/sample.log")}, 2, "--follow does not apply to --producer"},
		{[]string{"--producer", fp, "--config", "nope=1"}, 2, "nope"},
		{[]string{"--producer", fp, "--config", in, "--config", "lines-per-call=0"}, 2, "'lines-per-call' must be an integer of at least 1"},
		{[]string{"--producer", repo("testdata/plugins/parsers/string_parser/string_parser.wasm"), "--config", in}, 1, "is a parser"},
		{[]string{"--plugins-dir", repo("testdata/plugins"), "--producer", "string_parser", "--config", in}, 1, "plugin string_parser: unsupported: it is a parser, want a producer"},
	} {
		out, errOut, code := runCLI(t, "", append([]string{"parse"}, tc.args...)...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.msg)
		}
	}
}

// TestInspectProducer: inspect says kind producer, with the producer's
// schemas and render options.
func TestInspectProducer(t *testing.T) {
	out, errOut, code := runCLI(t, "", "inspect", repo("testdata/plugins/producers/file_producer/file_producer.wasm"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got inspectOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != "producer" || got.APIVersion != "0.1.0" || len(got.ConfigSchemas) != 5 || got.ConfigSchemas[0].ID != "input-path" ||
		got.RenderOptions == nil || len(got.RenderOptions.Columns) != 2 || got.RenderOptions.Columns[1].Caption != "Text" {
		t.Errorf("inspect: %s", out)
	}
}

// TestBenchProducer: bench --producer runs the producer from init to done
// and reports its rows/s and the MB/s of the file its config names.
func TestBenchProducer(t *testing.T) {
	out, errOut, code := runCLI(t, "", "bench", "--quick", "--json", "--producer", repo("testdata/plugins/producers/file_producer/file_producer.wasm"),
		"--config", "input-path="+repo("examples/sample.log"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Figures []struct {
			Name, Note string
			Median     float64
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range rep.Figures {
		if f.Median > 0 {
			found[f.Name] = true
		}
		if f.Name == "file_producer: rows" && !strings.Contains(f.Note, "7 rows") {
			t.Errorf("rows figure note %q, want 7 rows", f.Note)
		}
	}
	for _, n := range []string{"file_producer: rows", "file_producer: produce-next calls", "file_producer: throughput of the files its config names"} {
		if !found[n] {
			t.Errorf("no figure %q in %s", n, out)
		}
	}
	if _, errOut, code := runCLI(t, "", "bench", "--producer", "x.wasm", "--input", "y.log"); code != 2 || !strings.Contains(errOut, "--producer takes neither") {
		t.Errorf("bench --producer --input: exit %d, %s", code, errOut)
	}
}
