package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/loggen"
)

// faithfulParser is string_parser's Chipmunk-faithful build: a line without
// its newline is a row at once.
var faithfulParser = repo("testdata/plugins/compat/string_parser_chipmunk/string_parser_chipmunk.wasm")

// TestREADMECommandOnALargeFile: the README's first command (string_parser
// on a file) on a log larger than two 10 MiB windows, whose lines cross the
// places where chiphost cuts the input, gives the text parser's rows; so
// does the Chipmunk-faithful build, whose rows depend on the cut: chiphost
// parses again past the cut, and says so in the summary and in one warning
// naming the plugin. The old string_parser split a line at every 10 MiB,
// one byte lost, exit 0, nothing on stderr.
func TestREADMECommandOnALargeFile(t *testing.T) {
	data, _ := loggen.Edges(25<<20, 10<<20)
	path := filepath.Join(t.TempDir(), "big.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, errOut, code := runCLI(t, "", "parse", "--parser", "text", path)
	if code != 0 || errOut != "" {
		t.Fatalf("text: exit %d: %s", code, errOut)
	}
	for _, tc := range []struct {
		parser, name, summary string
	}{
		{stringParser, "string_parser", ""},
		{faithfulParser, "string_parser_chipmunk", "chiphost parse: " + strconv.Itoa(strings.Count(want, "\n")) + " rows, 0 bytes skipped, 0 parse errors, 1 cut-dependent rows\n"},
	} {
		out, errOut, code := runCLI(t, "", "parse", "--parser", tc.parser, path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.name, code, errOut)
		}
		if got := lineColumn(out); got != want {
			t.Errorf("%s: %d rows differ from the text parser's %d", tc.name, strings.Count(got, "\n"), strings.Count(want, "\n"))
		}
		warning := "chiphost parse: warning: " + tc.name + ": 1 row(s) came out different when parsed again past the point where the input was cut"
		if tc.summary == "" {
			if strings.Contains(errOut, "warning") || strings.Contains(errOut, "cut-dependent") {
				t.Errorf("%s: stderr %q, want no warning", tc.name, errOut)
			}
			continue
		}
		if strings.Count(errOut, "warning:") != 1 || !strings.Contains(errOut, warning) || !strings.HasSuffix(errOut, tc.summary) {
			t.Errorf("%s: stderr %q, want one warning %q and the summary %q", tc.name, errOut, warning, tc.summary)
		}
	}
}

// TestUnterminatedLastLine: a last line without a newline is a row, whole,
// from a file and from stdin (the repeat call). The old string_parser gave
// it without its last byte.
func TestUnterminatedLastLine(t *testing.T) {
	in := "first\nlast line"
	path := filepath.Join(t.TempDir(), "tail.log")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{path}, {"-"}} {
		out, errOut, code := runCLI(t, in, append([]string{"parse", "--parser", stringParser}, args...)...)
		if code != 0 || out != "5\tfirst\n9\tlast line\n" || errOut != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want the whole last line and no warning", args[0], code, out, errOut)
		}
	}
}

// lineColumn keeps the last column of each row of text output.
func lineColumn(out string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		if i := strings.LastIndexByte(l, '\t'); i >= 0 {
			l = l[i+1:]
		}
		b.WriteString(l)
	}
	return b.String()
}
