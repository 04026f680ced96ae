//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/testutil"
)

// TestGrepFollow: with --follow, each matching row is printed (with its
// index) as soon as its line is appended: the test awaits each one before
// writing the next lines, and the rows that do not match never show up.
// SIGINT ends the run with exit status 0 and the unterminated last line
// filtered like the others.
func TestGrepFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	writeFile(t, path, "a ok\nb ERROR one\n", 0)
	r := startFollow(t, "--parser", "text", "--follow", path, "--output", "jsonl", "--grep", "ERROR")
	r.expect(t, `{"index":1,"line":"b ERROR one"}`)
	writeFile(t, path, "c ok\nd ok\ne ERROR two\n", os.O_APPEND)
	r.expect(t, `{"index":4,"line":"e ERROR two"}`)
	writeFile(t, path, "f ok\ng ERROR three", os.O_APPEND)
	code, rest := r.interrupt(t)
	if code != 0 || strings.Join(rest, "|") != `{"index":6,"line":"g ERROR three"}` {
		t.Fatalf("after SIGINT: exit %d, rows %q; want 0 and the unterminated matching line", code, rest)
	}
}

// TestGrepFollowCount: --follow --count prints nothing while following,
// then the number of matching rows of everything read when SIGINT ends the
// input, lines appended after the run started and the unterminated last
// line included. The test appends once chiphost has drawn its first
// progress line (it is reading the file), so the signal cannot come first.
func TestGrepFollowCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	writeFile(t, path, "x ERROR\n", 0)
	cmd := exec.Command(chiphostBin(t), "parse", "--no-default-plugins", "--parser", "text", "--follow", path,
		"--progress", "always", "--grep", "ERROR", "--count")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(os.TempDir(), "chiphost-test-cache-cli"))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	drawn, stderrText := make(chan struct{}), make(chan string, 1)
	go func(drawn chan struct{}) {
		var all bytes.Buffer
		buf := make([]byte, 4096)
		for {
			n, err := stderr.Read(buf)
			all.Write(buf[:n])
			if drawn != nil && strings.Contains(all.String(), " rows") {
				close(drawn)
				drawn = nil
			}
			if err != nil {
				stderrText <- all.String()
				return
			}
		}
	}(drawn)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	testutil.Await(t, drawn, "the first progress line")
	writeFile(t, path, "y ok\nz ERROR\nw ERROR, unterminated", os.O_APPEND)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	errText := testutil.Await(t, stderrText, "stderr to end")
	if err := testutil.Await(t, exited, "chiphost to exit after SIGINT"); err != nil {
		t.Fatalf("%v; stderr: %q", err, errText)
	}
	if stdout.String() != "3\n" {
		t.Fatalf("stdout %q, want \"3\\n\"; stderr: %q", stdout.String(), errText)
	}
}
