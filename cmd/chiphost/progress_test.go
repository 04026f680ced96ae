package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/loggen"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// draws returns the progress lines drawn in stderr (each "\r" TEXT "\x1b[K"
// with some text), and whether the last one was erased afterwards.
func draws(stderr string) (lines []string, cleared bool) {
	for _, part := range strings.Split(stderr, lineStart)[1:] {
		text, ok := strings.CutSuffix(part, eraseLine)
		switch {
		case ok && text != "":
			lines = append(lines, text)
			cleared = false
		case strings.HasPrefix(part, eraseLine):
			cleared = true
		}
	}
	return lines, cleared
}

// writeLog writes n bytes of generated log lines to a new file.
func writeLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input.log")
	if err := os.WriteFile(path, loggen.Log(n, false), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProgressAlways parses a file and a pipe with --progress=always (stderr
// is a pipe here): the line shows the bytes of the total with a percentage
// and the rows for the file, a spinner and the byte count for the pipe; it
// is erased at the end; stdout is byte-identical to a run without progress.
func TestProgressAlways(t *testing.T) {
	input := writeLog(t, 2<<20)
	data, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	for _, parser := range []string{"text", stringParser} {
		t.Run(filepath.Base(parser), func(t *testing.T) {
			plain, errPlain, code := runCLI(t, "", "parse", "--progress=never", "--parser", parser, input)
			if code != 0 || errPlain != "" {
				t.Fatalf("--progress=never: exit %d, stderr %q (want none)", code, errPlain)
			}
			out, errOut, code := runCLI(t, "", "parse", "--progress=always", "--parser", parser, input)
			if code != 0 {
				t.Fatalf("exit %d: %q", code, errOut)
			}
			if out != plain {
				t.Errorf("stdout differs with --progress=always (%d bytes, %d without)", len(out), len(plain))
			}
			lines, cleared := draws(errOut)
			if len(lines) == 0 || !cleared || !strings.HasSuffix(errOut, lineStart+eraseLine) {
				t.Fatalf("stderr %q: want progress lines, the last one erased at the very end", errOut)
			}
			total := fmt.Sprintf(" of %.1f MB (", float64(len(data))/1e6)
			for _, l := range lines {
				if !strings.Contains(l, total) || !strings.Contains(l, "%)") || !strings.Contains(l, " rows") {
					t.Errorf("progress line %q: want bytes%s…%%) and rows", l, total)
				}
			}

			if parser != "text" {
				// string_parser's rows depend on where the input is cut,
				// and a pipe cuts it where its writes happened to be.
				return
			}
			// stdin is a pipe: no total, so a spinner and the bytes read.
			out, errOut, code = runCLI(t, string(data), "parse", "--progress=always", "--parser", parser, "-")
			if code != 0 || out != plain {
				t.Fatalf("stdin: exit %d, stdout %d bytes (want %d): %q", code, len(out), len(plain), errOut)
			}
			lines, cleared = draws(errOut)
			if len(lines) == 0 || !cleared {
				t.Fatalf("stdin: stderr %q: want progress lines, erased at the end", errOut)
			}
			for _, l := range lines {
				if !strings.ContainsAny(l[:1], `|/-\`) || !strings.Contains(l, " MB  ") || strings.Contains(l, " of ") {
					t.Errorf("stdin: progress line %q: want a spinner and a byte count, no total", l)
				}
			}
		})
	}
}

// TestProgressAutoNotTerminal: by default (auto) and with --progress=auto,
// a stderr that is not a terminal gets no progress line and no compile
// message, even on a cold cache.
func TestProgressAutoNotTerminal(t *testing.T) {
	input := writeLog(t, 1<<20)
	for _, args := range [][]string{nil, {"--progress=auto"}} {
		cmd := exec.Command(chiphostBin(t), append(append([]string{"parse", "--cache-dir", t.TempDir(), "--parser", stringParser}, args...), input)...)
		out, errOut, code := runCmd(t, cmd)
		if code != 0 || out == "" {
			t.Fatalf("%v: exit %d, %d bytes of rows: %q", args, code, len(out), errOut)
		}
		if errOut != "" {
			t.Errorf("%v: stderr %q, want nothing", args, errOut)
		}
	}
}

// TestProgressThrottle parses with a plugin that returns one item per
// parse call: the line is redrawn far less often than the driver reports
// (after every read and parse call), since redraws are at least 100 ms
// apart. Counted, not timed: 40,000 calls would draw 40,000 lines without
// the throttle; with it, a run would have to last minutes to draw 400.
func TestProgressThrottle(t *testing.T) {
	const n = 40000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "line|row %d\n", i)
	}
	path := filepath.Join(t.TempDir(), "records.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "", "parse", "--progress=always", "--parser", repo("testdata/plugins/parsers/go_records/go_records.wasm"),
		"--config", "max-items=1", path)
	if code != 0 {
		t.Fatalf("exit %d: %q", code, errOut)
	}
	if rows := strings.Count(out, "\n"); rows != n {
		t.Fatalf("%d rows, want %d", rows, n)
	}
	lines, cleared := draws(errOut)
	if len(lines) == 0 || !cleared {
		t.Fatalf("stderr %q: want progress lines, erased at the end", errOut)
	}
	if len(lines) > n/100 {
		t.Errorf("%d redraws for %d parse calls: the line is not throttled", len(lines), n)
	}
}

// TestCompileMessage: on a cold cache, --progress=always prints what is
// being compiled, on a line of its own before any progress line; a warm
// cache prints nothing of the kind; with the caches off the message does
// not promise "first use only"; --progress=never prints none.
func TestCompileMessage(t *testing.T) {
	fi, err := os.Stat(stringParser)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("chiphost parse: compiling string_parser (%.1f MB), first use only\n", float64(fi.Size())/1e6)
	sample := repo("examples/sample.log")
	cache := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(chiphostBin(t), append(append([]string{"parse", "--parser", stringParser}, args...), sample)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		_, errOut, code := runCmd(t, cmd)
		if code != 0 {
			t.Fatalf("%v: exit %d: %q", args, code, errOut)
		}
		return errOut
	}
	errOut := run("--progress=always", "--cache-dir", cache)
	if !strings.HasPrefix(errOut, want) {
		t.Errorf("cold cache: stderr %q, want it to start with %q", errOut, want)
	}
	if errOut = run("--progress=always", "--cache-dir", cache); strings.Contains(errOut, "compiling") {
		t.Errorf("warm cache: stderr %q, want no compile message", errOut)
	}
	noCache := strings.Replace(want, ", first use only", "", 1)
	if errOut = run("--progress=always", "--no-cache"); !strings.HasPrefix(errOut, noCache) {
		t.Errorf("--no-cache: stderr %q, want it to start with %q", errOut, noCache)
	}
	if errOut = run("--progress=never", "--cache-dir", t.TempDir()); errOut != "" {
		t.Errorf("--progress=never, cold cache: stderr %q, want nothing", errOut)
	}
	// --log-level info logs the compilation whatever --progress says.
	if errOut = run("--progress=never", "--log-level", "info", "--cache-dir", t.TempDir()); !strings.Contains(errOut, "compiling plugin") {
		t.Errorf("--log-level info, cold cache: stderr %q, want a log line about the compilation", errOut)
	}
}

// TestProgressTerminal runs chiphost under script(1), which gives it a
// pseudo-terminal as stderr: by default the progress line and the compile
// message appear there, while stdout, redirected to a file, holds the same
// rows as a run without progress.
func TestProgressTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) from util-linux is not installed: the pseudo-terminal case is not checked")
	}
	input := writeLog(t, 2<<20)
	plain, _, code := runCLI(t, "", "parse", "--progress=never", "--parser", stringParser, input)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	outFile := filepath.Join(t.TempDir(), "rows.txt")
	shell := fmt.Sprintf("%s parse --cache-dir %s --parser %s %s > %s", chiphostBin(t), t.TempDir(), stringParser, input, outFile)
	cmd := exec.Command(script, "-qec", shell, "/dev/null")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	terminal, errOut, code := runCmd(t, cmd)
	if code != 0 {
		t.Fatalf("script: exit %d: %q %q", code, terminal, errOut)
	}
	rows, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(rows) != plain {
		t.Errorf("stdout with a terminal stderr differs: %d bytes, want %d", len(rows), len(plain))
	}
	if !strings.HasPrefix(terminal, "chiphost parse: compiling string_parser (") {
		t.Errorf("terminal %q: want the compile message first", terminal)
	}
	lines, cleared := draws(terminal)
	if len(lines) == 0 || !cleared || !strings.Contains(lines[0], " rows") {
		t.Errorf("terminal %q: want progress lines, erased at the end", terminal)
	}
}

// TestStatusText checks the line's text for given stats and elapsed times:
// the rate and the time left appear once half a second has passed, a
// source that grows past its size falls back to the spinner, and a narrow
// terminal cuts the line.
func TestStatusText(t *testing.T) {
	l := &statusLine{total: 100e6}
	st := driver.Stats{Bytes: 25e6, Items: 1234567}
	tests := []struct {
		total   int64
		width   int
		elapsed time.Duration
		want    string
	}{
		{100e6, 0, 100 * time.Millisecond, "25.0 MB of 100.0 MB (25%)  1,234,567 rows"},
		{100e6, 0, 2 * time.Second, "25.0 MB of 100.0 MB (25%)  1,234,567 rows  12.5 MB/s  ETA 0:06"},
		{-1, 0, 2 * time.Second, "| 25.0 MB  1,234,567 rows  12.5 MB/s"},
		{10e6, 0, 2 * time.Second, "/ 25.0 MB  1,234,567 rows  12.5 MB/s"},
		{100e6, 21, 2 * time.Second, "25.0 MB of 100.0 MB "},
	}
	for _, tc := range tests {
		l.total, l.width = tc.total, tc.width
		if got := string(l.appendStatus(nil, st, tc.elapsed)); got != tc.want {
			t.Errorf("total %d, width %d, after %v: %q, want %q", tc.total, tc.width, tc.elapsed, got, tc.want)
		}
	}
	if got := compileMessage("parse", runtime.CompileInfo{Plugin: "kv_parser", Size: 12_100_000, Cached: true}); got != "chiphost parse: compiling kv_parser (12.1 MB), first use only\n" {
		t.Errorf("compile message %q", got)
	}
	if got := string(appendClock(nil, 3*time.Hour+25*time.Second)); got != "3:00:25" {
		t.Errorf("clock %q", got)
	}
}

// BenchmarkStatusUpdate measures what the progress line costs the parse
// loop per driver callback when the throttle skips the redraw (nearly every
// call): go test ./cmd/chiphost -run '^$' -bench StatusUpdate.
func BenchmarkStatusUpdate(b *testing.B) {
	l := newStatusLine(progressAlways, io.Discard)
	st := driver.Stats{Bytes: 1 << 20, Items: 1000}
	l.update(st)
	defer l.finish()
	for b.Loop() {
		st.Bytes++
		l.update(st)
	}
}
