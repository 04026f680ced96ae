package search

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/loggen"
	"github.com/chiphost/chiphost/internal/stringparser"
)

// corpus returns the rows the string parser makes of the repository's test
// logs (testdata/logs/mixed.log; loggen's dirty log, with CRLF lines,
// multi-byte UTF-8 and invalid UTF-8 replaced by the parser, and its edge
// log), plus a few lines for word boundaries, case folding and tabs. Each row
// is a line and its columns (the parser's: the line's length and the line).
func corpus(t testing.TB) (lines [][]byte, cols [][][]byte) {
	t.Helper()
	edges, _ := loggen.Edges(40_000, 8192)
	mixed, err := os.ReadFile("../../testdata/logs/mixed.log")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(mixed, []byte("\n")) {
		mixed = append(mixed, '\n') // the parser's last line, given at the end of the input
	}
	logs := [][]byte{
		mixed,
		loggen.Log(300_000, true),
		edges,
		[]byte("ok\nok_ok\n-ok-\nxok okx\nOK\ttab\nÜNÏCØDÉ ünïcødé\nid=42 id=4\n\n\r\nSTRASSE straße\nfoo→bar →\n"),
	}
	var p stringparser.Parser
	for _, log := range logs {
		items, err := p.Parse(context.Background(), log, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			c := it.Message.Columns
			lines = append(lines, []byte(c[1]))
			cols = append(cols, [][]byte{[]byte(c[0]), []byte(c[1])})
		}
	}
	return lines, cols
}

// grepCase is a query and the grep options that mean the same.
type grepCase struct {
	q      Query
	locale string // LC_ALL for grep; "C" when empty
}

func (c grepCase) String() string {
	return fmt.Sprintf("%s %q cs=%v w=%v v=%v", c.q.Kind, c.q.Pattern, c.q.CaseSensitive, c.q.WholeWord, c.q.Invert)
}

func (c grepCase) grepArgs() []string {
	args := []string{"-c", "-a"}
	if c.q.Kind == KindRegex {
		args = append(args, "-E")
	} else {
		args = append(args, "-F")
	}
	if !c.q.CaseSensitive {
		args = append(args, "-i")
	}
	if c.q.WholeWord {
		args = append(args, "-w")
	}
	if c.q.Invert {
		args = append(args, "-v")
	}
	return append(args, "-e", c.q.Pattern)
}

func lit(p string, cs, w, v bool) grepCase {
	return grepCase{q: Query{Pattern: p, Kind: KindLiteral, CaseSensitive: cs, WholeWord: w, Invert: v}}
}

func rx(p string, cs, w, v bool) grepCase {
	return grepCase{q: Query{Pattern: p, Kind: KindRegex, CaseSensitive: cs, WholeWord: w, Invert: v}}
}

var grepCases = []grepCase{
	lit("ERROR", true, false, false),
	lit("error", false, false, false),
	lit("eRrOr", false, false, true),
	lit("id=42", true, false, false),
	lit("net: disk", true, false, false),
	lit("3ms ok", true, false, true),
	lit("ok", true, true, false),
	lit("OK", false, true, false),
	lit("ok", true, true, true),
	lit("id=4", true, true, false),
	lit("=42", true, true, false),
	lit("→", true, true, false),
	lit("日本語", true, false, false),
	lit("ünïcødé", true, false, false),
	lit("\uFFFD", true, false, false),
	lit("\r", true, false, false),
	lit("ok \r", true, false, false),
	lit("", true, false, false),
	lit("a", false, false, false),
	lit("aaaaaaaaaaaaaaaa", true, false, false),
	lit("requesting", true, false, false),
	lit("K", false, false, false),
	lit("took 3ms", false, true, false),
	lit("\tt", true, false, false),
	lit("timeout", false, false, false),
	lit("error", false, true, false),
	lit("error", true, true, true),
	lit("ERRORS_TOTAL", false, false, false),
	lit("\tcol", true, false, false),
	lit("caf", false, false, false),
	rx("ERROR|WARN", true, false, false),
	rx("^0000[0-9]+ INFO", true, false, false),
	rx("disk $", true, false, false),
	rx("\r$", true, false, true),
	rx("took (3ms|ok)", true, false, false),
	rx("i[a-z]=4", true, false, false),
	rx("[0-9]{8} WARN", true, false, false),
	rx("warn|error", false, false, false),
	rx("o.", true, true, false),
	rx("(net|disk): ", true, false, false),
	rx("request.*took", true, false, false),
	rx("WARN ok", false, false, true),
	rx("(ok )+id", true, false, false),
	rx("[a-z]+=[0-9]+", true, true, false),
	rx("x?", true, false, false),
	rx("日本語 (ok|→)", true, false, false),
	rx("s[tT]raddles", true, false, false),
	{q: Query{Pattern: "ÜNÏCØDÉ", CaseSensitive: false}, locale: "C.UTF-8"},
	{q: Query{Pattern: "ünïcødé ok", CaseSensitive: false}, locale: "C.UTF-8"},
	{q: Query{Pattern: "ÜNÏCØDÉ|日本語", Kind: KindRegex}, locale: "C.UTF-8"},
	{q: Query{Pattern: "CAFÉ"}, locale: "C.UTF-8"},
	{q: Query{Pattern: "température élevée"}, locale: "C.UTF-8"},
	rx("[0-9]+ms\\)?\r?$", true, false, false),
	rx("error[sx]?", false, true, false),
	rx("(GET|POST) /[a-z]+ [45][0-9][0-9]", true, false, false),
}

// grepCount runs grep over file and returns the count it prints.
func grepCount(t testing.TB, file string, c grepCase) int {
	t.Helper()
	cmd := exec.Command("grep", append(c.grepArgs(), file)...)
	locale := c.locale
	if locale == "" {
		locale = "C"
	}
	cmd.Env = append(os.Environ(), "LC_ALL="+locale)
	out, err := cmd.Output()
	if err != nil && !(cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 1) {
		t.Fatalf("grep %v: %v", c.grepArgs(), err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("grep %v printed %q", c.grepArgs(), out)
	}
	return n
}

func needGrep(t testing.TB) {
	if _, err := exec.LookPath("grep"); err != nil {
		t.Skipf("grep is not installed (%v): nothing to compare counts with", err)
	}
}

func writeLines(t testing.TB, lines [][]byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rows.txt")
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func joinTab(cols [][]byte) []byte { return bytes.Join(cols, []byte("\t")) }

// chunkOf lays rows out as a store's records.
func chunkOf(texts []Text) *chunk {
	c := &chunk{}
	for _, t := range texts {
		var flags uint64
		c.buf, flags = appendRecord(c.buf, t)
		c.entries = append(c.entries, uint64(len(c.buf))|flags)
	}
	return c
}

// scanCount counts the matching rows of c through the chunk scanner.
func scanCount(m *Matcher, c *chunk) int {
	n := 0
	newScanner(m).scan(c, func(int) { n++ })
	return n
}

// TestCountsEqualGrep matches the corpus's rows, as lines and as columns
// rows, one by one and through the chunk scanner (the prefilter), and
// compares each count with grep -c over the same lines.
func TestCountsEqualGrep(t *testing.T) {
	needGrep(t)
	lines, cols := corpus(t)
	lineFile := writeLines(t, lines)
	joined := make([][]byte, len(cols))
	lineTexts := make([]Text, len(lines))
	colTexts := make([]Text, len(cols))
	for i := range cols {
		joined[i] = joinTab(cols[i])
		lineTexts[i] = Text{Line: lines[i]}
		colTexts[i] = Text{Columns: cols[i]}
	}
	joinedFile := writeLines(t, joined)
	lineChunk, colChunk := chunkOf(lineTexts), chunkOf(colTexts)
	for _, c := range grepCases {
		t.Run(c.String(), func(t *testing.T) {
			if c.locale != "" && !hasLocale(c.locale) {
				t.Skipf("locale %s is not installed: grep cannot fold non-ASCII case", c.locale)
			}
			m, err := Compile(Filter{Queries: []Query{c.q}})
			if err != nil {
				t.Fatal(err)
			}
			want := grepCount(t, lineFile, c)
			if got := countMatches(m, lineTexts); got != want {
				t.Errorf("lines: Match counts %d, grep %d", got, want)
			}
			if got := scanCount(m, lineChunk); got != want {
				t.Errorf("lines: scan counts %d, grep %d", got, want)
			}
			wantJoined := grepCount(t, joinedFile, c)
			t.Logf("grep counts %d of %d lines, %d of the joined columns", want, len(lines), wantJoined)
			if got := countMatches(m, colTexts); got != wantJoined {
				t.Errorf("columns: Match counts %d, grep %d", got, wantJoined)
			}
			if got := scanCount(m, colChunk); got != wantJoined {
				t.Errorf("columns: scan counts %d, grep %d", got, wantJoined)
			}
			// Only the line column named: the same rows as the lines, for
			// patterns that cannot span the tab.
			c1 := c.q
			c1.Columns = []int{1}
			m1, err := Compile(Filter{Queries: []Query{c1}})
			if err != nil {
				t.Fatal(err)
			}
			if got := scanCount(m1, colChunk); got != want {
				t.Errorf("column 1: scan counts %d, grep over the lines %d", got, want)
			}
		})
	}
}

func countMatches(m *Matcher, texts []Text) int {
	n := 0
	for _, t := range texts {
		if m.Match(t) {
			n++
		}
	}
	return n
}

func hasLocale(name string) bool {
	out, err := exec.Command("locale", "-a").Output()
	if err != nil {
		return false
	}
	want := strings.ToLower(strings.ReplaceAll(name, "-", ""))
	for _, l := range strings.Fields(string(out)) {
		if strings.ToLower(strings.ReplaceAll(l, "-", "")) == want {
			return true
		}
	}
	return false
}

// TestCombinedCountsEqualGrep: "any" is grep with several -e; "all" is grep
// piped into grep.
func TestCombinedCountsEqualGrep(t *testing.T) {
	needGrep(t)
	lines, _ := corpus(t)
	file := writeLines(t, lines)
	texts := make([]Text, len(lines))
	for i, l := range lines {
		texts[i] = Text{Line: l}
	}
	ch := chunkOf(texts)
	a, b := Query{Pattern: "ERROR", CaseSensitive: true}, Query{Pattern: "took [0-9]", Kind: KindRegex, CaseSensitive: true}
	notB := b
	notB.Invert = true
	for _, tc := range []struct {
		name string
		f    Filter
		sh   string
	}{
		{"any", Filter{Queries: []Query{a, b}}, `grep -a -c -E -e ERROR -e 'took [0-9]' "$1"`},
		{"all", Filter{Queries: []Query{a, b}, Combine: CombineAll}, `grep -a -F ERROR "$1" | grep -a -c -E 'took [0-9]'`},
		{"all-not", Filter{Queries: []Query{a, notB}, Combine: CombineAll}, `grep -a -F ERROR "$1" | grep -a -c -v -E 'took [0-9]'`},
		{"any-not", Filter{Queries: []Query{notB, a}}, `grep -a -c -v -E 'took [0-9]' "$1"; grep -a -E 'took [0-9]' "$1" | grep -a -c -F ERROR`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Compile(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", "-c", tc.sh, "sh", file)
			cmd.Env = append(os.Environ(), "LC_ALL=C")
			out, _ := cmd.Output()
			want := 0
			for _, f := range strings.Fields(string(out)) {
				n, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("%s printed %q", tc.sh, out)
				}
				want += n
			}
			if got := countMatches(m, texts); got != want {
				t.Errorf("Match counts %d, grep %d", got, want)
			}
			if got := scanCount(m, ch); got != want {
				t.Errorf("scan counts %d, grep %d", got, want)
			}
		})
	}
}
