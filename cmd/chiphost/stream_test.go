package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseStreamsRows writes lines to chiphost's stdin through a real pipe
// one at a time, and writes the next line only after the previous one's row
// has come out of stdout. Rows that waited for the end of the input (or for
// the output buffer to fill) would block the test: go test's timeout is the
// safety net. Both the built-in parser and a plugin are checked.
func TestParseStreamsRows(t *testing.T) {
	for _, parser := range []string{"text", repo("testdata/plugins/parsers/string_parser/string_parser.wasm")} {
		t.Run(filepath.Base(parser), func(t *testing.T) {
			cmd := exec.Command(chiphostBin(t), "parse", "--no-default-plugins", "--parser", parser, "--output", "jsonl", "-")
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(os.TempDir(), "chiphost-test-cache-cli"))
			w, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			rows := bufio.NewScanner(out)
			for i, line := range []string{"first", "second", "third"} {
				if _, err := w.Write([]byte(line + "\n")); err != nil {
					t.Fatal(err)
				}
				if !rows.Scan() {
					t.Fatalf("stdout ended before row %d: %v, stderr %q", i, rows.Err(), stderr.String())
				}
				if got := rows.Text(); !strings.Contains(got, `"`+line+`"`) {
					t.Fatalf("row %d = %s, want the line %q", i, got, line)
				}
			}
			w.Close()
			if rows.Scan() {
				t.Errorf("unexpected row after EOF: %s", rows.Text())
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("chiphost: %v, stderr %q", err, stderr.String())
			}
		})
	}
}
