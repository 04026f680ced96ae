package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// grepCase is one filter, as chiphost's flags and as GNU grep's.
type grepCase struct {
	name   string
	ours   []string // chiphost parse flags
	theirs []string // grep flags (patterns included)
	locale string   // grep's LC_ALL
}

// grepCases cover literals, case folding (ASCII and Unicode), several
// patterns, inversion, whole words, regexes, and the bytes CRLF and invalid
// UTF-8 leave in rows (\r, U+FFFD).
var grepCases = []grepCase{
	{"literal", []string{"--grep", "ERROR"}, []string{"-F", "-e", "ERROR"}, "C.UTF-8"},
	{"ignore case", []string{"-i", "--grep", "error"}, []string{"-F", "-i", "-e", "error"}, "C.UTF-8"},
	{"any of two", []string{"--grep", "ERROR", "--grep", "WARN"}, []string{"-F", "-e", "ERROR", "-e", "WARN"}, "C.UTF-8"},
	{"invert", []string{"--invert", "--grep", "INFO"}, []string{"-F", "-v", "-e", "INFO"}, "C.UTF-8"},
	{"invert two", []string{"-v", "-e", "INFO", "-e", "ERROR"}, []string{"-F", "-v", "-e", "INFO", "-e", "ERROR"}, "C.UTF-8"},
	// grep -w's word characters are ASCII in the C locale, as --word's.
	{"word", []string{"--word", "--grep", "error"}, []string{"-F", "-w", "-e", "error"}, "C"},
	{"word ignore case", []string{"-w", "-i", "-e", "error"}, []string{"-F", "-w", "-i", "-e", "error"}, "C"},
	{"regex", []string{"--regex", "--grep", "timeout after [0-9]+ms"}, []string{"-E", "-e", "timeout after [0-9]+ms"}, "C.UTF-8"},
	{"regex anchors", []string{"-E", "-e", "^$", "-e", "ERROR$"}, []string{"-E", "-e", "^$", "-e", "ERROR$"}, "C.UTF-8"},
	{"regex unicode ignore case", []string{"--regex", "-i", "--grep", "caf[eé]"}, []string{"-E", "-i", "-e", "caf[eé]"}, "C.UTF-8"},
	{"unicode literal", []string{"--grep", "é"}, []string{"-F", "-e", "é"}, "C.UTF-8"},
	{"unicode ignore case", []string{"-i", "--grep", "É"}, []string{"-F", "-i", "-e", "É"}, "C.UTF-8"},
	{"carriage return", []string{"--grep", "\r"}, []string{"-F", "-e", "\r"}, "C.UTF-8"},
	{"replacement character", []string{"--grep", "\uFFFD"}, []string{"-F", "-e", "\uFFFD"}, "C.UTF-8"},
	{"no match", []string{"--grep", "no such text"}, []string{"-F", "-e", "no such text"}, "C.UTF-8"},
}

// grepParsers run the logs through the built-in text parser (CRLF
// stripped, a run of invalid bytes one U+FFFD) and the committed
// string_parser fixture (\r kept, U+FFFD per invalid byte, two columns).
var grepParsers = [][]string{
	{"--parser", "text"},
	{"--plugins-dir", repo("testdata/plugins"), "--parser", "string_parser"},
}

// TestGrepMatchesGrep runs chiphost parse --grep over the repository's logs
// (testdata/logs/mixed.log has Unicode, CRLF and invalid UTF-8 lines) and
// compares it with GNU grep over the rows chiphost prints without --grep
// (the text the parser produced): --count prints what grep -c prints, and
// the rows of --output jsonl are grep -n's lines, with their index one less
// than grep's line number.
func TestGrepMatchesGrep(t *testing.T) {
	grepBin := needGrep(t)
	for _, log := range []string{"testdata/logs/mixed.log", "examples/sample.log"} {
		for _, parser := range grepParsers {
			t.Run(filepath.Base(log)+"/"+parser[len(parser)-1], func(t *testing.T) {
				base := append(append([]string{"parse", "--no-default-plugins"}, parser...), repo(log))
				rows, errOut, code := runCLI(t, "", base...)
				if code != 0 {
					t.Fatalf("parse: exit %d: %s", code, errOut)
				}
				rowsFile := filepath.Join(t.TempDir(), "rows")
				if err := os.WriteFile(rowsFile, []byte(rows), 0o644); err != nil {
					t.Fatal(err)
				}
				for _, c := range grepCases {
					t.Run(c.name, func(t *testing.T) {
						wantCount := runGrep(t, grepBin, c.locale, append([]string{"-c"}, c.theirs...), rowsFile)
						out, errOut, code := runCLI(t, "", append(append([]string{}, base...), append([]string{"--count"}, c.ours...)...)...)
						if code != 0 || out != wantCount {
							t.Fatalf("--count: exit %d, stdout %q, want %q (grep -c)\nstderr: %s", code, out, wantCount, errOut)
						}
						want := runGrep(t, grepBin, c.locale, append([]string{"-n"}, c.theirs...), rowsFile)
						out, errOut, code = runCLI(t, "", append(append([]string{}, base...), append([]string{"--output", "jsonl"}, c.ours...)...)...)
						if code != 0 {
							t.Fatalf("jsonl: exit %d: %s", code, errOut)
						}
						if got := numberedRows(t, out); got != want {
							t.Fatalf("rows (index+1:text)\n%s\nwant (grep -n)\n%s", got, want)
						}
					})
				}
			})
		}
	}
}

// needGrep returns GNU grep's path, or skips the test when there is none.
func needGrep(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("grep")
	if err != nil {
		t.Skipf("no grep on PATH (%v): nothing to compare with", err)
	}
	if out, err := exec.Command(p, "--version").Output(); err != nil || !strings.Contains(string(out), "GNU grep") {
		t.Skipf("%s is not GNU grep: its -w and -i may differ", p)
	}
	return p
}

// runGrep runs grep with args on file in locale and returns its stdout.
// Exit status 1 (no line selected) is not an error.
func runGrep(t *testing.T, grepBin, locale string, args []string, file string) string {
	t.Helper()
	cmd := exec.Command(grepBin, append(args, file)...)
	cmd.Env = append(os.Environ(), "LC_ALL="+locale)
	out, errOut, code := runCmd(t, cmd)
	if code > 1 {
		t.Fatalf("grep %q: exit %d: %s", args, code, errOut)
	}
	return out
}

// numberedRows turns jsonl rows into grep -n's form: index+1, a colon,
// the line or the columns joined by tabs.
func numberedRows(t *testing.T, jsonl string) string {
	t.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	for sc.Scan() {
		var row struct {
			Index   uint64   `json:"index"`
			Line    *string  `json:"line"`
			Columns []string `json:"columns"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("stdout line is not a row (%v): %q", err, sc.Text())
		}
		text := strings.Join(row.Columns, "\t")
		if row.Line != nil {
			text = *row.Line
		}
		fmt.Fprintf(&b, "%d:%s\n", row.Index+1, text)
	}
	return b.String()
}

// TestGrepTextOutput: text output prints the matching rows as without
// --grep, from stdin too; --count alone on stdout, even for no match.
func TestGrepTextOutput(t *testing.T) {
	in := "alpha\nbeta\r\nALPHA beta\ngamma"
	out, errOut, code := runCLI(t, in, "parse", "--no-default-plugins", "--parser", "text", "-i", "--grep", "alpha", "-")
	if code != 0 || out != "alpha\nALPHA beta\n" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, in, "parse", "--no-default-plugins", "--parser", "text", "--grep", "delta", "--count")
	if code != 0 || out != "0\n" || errOut != "" {
		t.Fatalf("no match --count: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = runCLI(t, in, "parse", "--no-default-plugins", "--parser", "text", "--grep", "delta")
	if code != 0 || out != "" {
		t.Fatalf("no match: exit %d, stdout %q, stderr %q; want 0 and nothing", code, out, errOut)
	}
}

// TestGrepErrors: a bad regex names the --grep, where and why, quotes at
// most maxPatternEcho bytes of the pattern, and is a usage error (2) before
// anything is read; so are the modifiers without --grep.
func TestGrepErrors(t *testing.T) {
	parse := []string{"parse", "--no-default-plugins", "--parser", "text", repo("examples/sample.log")}
	_, errOut, code := runCLI(t, "", append(parse, "--regex", "--grep", "ok", "--grep", "a(b")...)
	if code != 2 || !strings.Contains(errOut, `--grep "a(b"`) || !strings.Contains(errOut, "missing closing )") {
		t.Fatalf("bad regex: exit %d, stderr %q", code, errOut)
	}
	long := strings.Repeat("x", 60<<10) + "(" // under the 64 KiB limit of a pattern
	_, errOut, code = runCLI(t, "", append(parse, "--regex", "--grep", long)...)
	if code != 2 || !strings.Contains(errOut, "missing closing )") || len(errOut) > 1000 {
		t.Fatalf("bad 60 KiB regex: exit %d, %d bytes of stderr (want < 1000): %.300q", code, len(errOut), errOut)
	}
	if !strings.Contains(errOut, "("+strconv.Itoa(len(long))+" bytes)") {
		t.Errorf("bad 60 KiB regex: the message does not say the pattern was cut: %.300q", errOut)
	}
	// The server's limits, worded as the server words them
	// ("query.pattern: 70000 bytes, at most 65536").
	_, errOut, code = runCLI(t, "", append(parse, "--grep", strings.Repeat("y", 70000))...)
	if code != 2 || !strings.Contains(errOut, ": 70000 bytes, at most 65536") || len(errOut) > 1000 {
		t.Errorf("70000-byte pattern: exit %d, %d bytes of stderr: %.300q; want exit 2 and the server's limit", code, len(errOut), errOut)
	}
	many := parse
	for i := range 65 {
		many = append(many, "-e", strconv.Itoa(i))
	}
	_, errOut, code = runCLI(t, "", many...)
	if code != 2 || !strings.Contains(errOut, "chiphost parse: --grep: 65 queries, at most 64\n") {
		t.Errorf("65 patterns: exit %d, stderr %q; want exit 2 and the limit", code, errOut)
	}
	for _, flag := range []string{"--count", "-i", "--regex", "--invert", "--word"} {
		_, errOut, code := runCLI(t, "", append(parse, flag)...)
		if code != 2 || !strings.Contains(errOut, "needs --grep PATTERN") {
			t.Errorf("%s without --grep: exit %d, stderr %q", flag, code, errOut)
		}
	}
}

// TestGrepHelp: parse's help shows the filter flags with grep's
// shorthands, an example, and says what the exit status is.
func TestGrepHelp(t *testing.T) {
	out, _, code := runCLI(t, "", "help", "parse")
	for _, want := range []string{"-e, --grep PATTERN", "-i, --ignore-case", "-E, --regex", "-w, --word", "-v, --invert", "-c, --count",
		"app.log --grep ERROR --grep WARN", "exit status is 0", "at most 64 patterns of at most 64 KiB"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("help parse: exit %d, no %q in:\n%s", code, want, out)
		}
	}
}

// TestGrepColumnsAndAttachments (go_records, the committed Go fixture): a
// columns row is matched on its columns joined by tabs, an attachment-only
// row has empty text, and only the printed rows' attachments are saved.
func TestGrepColumnsAndAttachments(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(input, []byte("line|first\nattach|notes.txt|aGVsbG8=\ncols|a,b,c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	parse := func(att string, args ...string) []map[string]any {
		t.Helper()
		out, errOut, code := runCLI(t, "", append([]string{"parse", "--output", "jsonl", "--plugins-dir", repo("testdata/plugins"), "--no-default-plugins",
			"--parser", "go_records", input, "--attachments", att}, args...)...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errOut)
		}
		return jsonLines(t, out)
	}
	saved := func(att string) int {
		entries, _ := os.ReadDir(att)
		return len(entries)
	}
	att := filepath.Join(dir, "att1")
	rows := parse(att, "--grep", "b\tc", "--grep", "first")
	if len(rows) != 2 || rows[0]["index"] != float64(0) || rows[1]["index"] != float64(2) || saved(att) != 0 {
		t.Fatalf("--grep 'b<tab>c' --grep first: rows %v, %d attachments saved; want rows 0 and 2, none saved", rows, saved(att))
	}
	att = filepath.Join(dir, "att2")
	rows = parse(att, "--invert", "--grep", "first", "--grep", "a")
	if len(rows) != 1 || rows[0]["index"] != float64(1) || rows[0]["attachment"] == nil || saved(att) != 1 {
		t.Fatalf("--invert: rows %v, %d attachments saved; want the attachment row, saved", rows, saved(att))
	}
}
