//go:build linux

package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/chiphost/chiphost/internal/testutil"
)

// followRun is a running `chiphost parse --follow`: its rows (stdout lines)
// and its stderr lines arrive on channels as the process writes them.
type followRun struct {
	cmd    *exec.Cmd
	rows   chan string
	logs   chan string
	mu     sync.Mutex
	stderr strings.Builder
	exited chan struct{}
	code   int
}

func startFollow(t *testing.T, args ...string) *followRun {
	t.Helper()
	cmd := exec.Command(chiphostBin(t), append([]string{"parse", "--no-default-plugins"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(os.TempDir(), "chiphost-test-cache-cli"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errOut, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &followRun{cmd: cmd, rows: make(chan string, 1000), logs: make(chan string, 1000), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	readers.Go(func() { lines(out, r.rows, nil) })
	readers.Go(func() { lines(errOut, r.logs, r) })
	go func() {
		readers.Wait() // Wait closes the pipes: read them to their end first
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			r.code = -1
		}
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			cmd.Process.Kill()
			<-r.exited
		}
		if t.Failed() {
			t.Logf("chiphost stderr:\n%s", r.errors())
		}
	})
	return r
}

// lines sends each line of rd to ch, closing ch at the end; with r, it
// also keeps them in r.stderr.
func lines(rd io.Reader, ch chan<- string, r *followRun) {
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		if r != nil {
			r.mu.Lock()
			r.stderr.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
		}
		ch <- sc.Text()
	}
	close(ch)
}

func (r *followRun) errors() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// expect waits for the next rows and checks them.
func (r *followRun) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		got, ok := <-r.rows
		if !ok {
			<-r.exited
			t.Fatalf("stdout ended (exit %d) waiting for row %q", r.code, w)
		}
		if got != w {
			t.Fatalf("row %q, want %q", got, w)
		}
	}
}

// awaitLog waits for a stderr line containing s.
func (r *followRun) awaitLog(t *testing.T, s string) {
	t.Helper()
	for line := range r.logs {
		if strings.Contains(line, s) {
			return
		}
	}
	t.Fatalf("stderr ended without a line containing %q", s)
}

// interrupt sends SIGINT and returns the exit status and the rows written
// after it.
func (r *followRun) interrupt(t *testing.T) (int, []string) {
	t.Helper()
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for row := range r.rows {
		rest = append(rest, row)
	}
	testutil.Await(t, r.exited, "chiphost to exit after SIGINT")
	return r.code, rest
}

func writeFile(t *testing.T, path, s string, flag int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestParseFollow follows a real file through the life of a log: lines
// appended (each row is awaited before the next write), a truncation, a
// rotation by rename (a line still written to the old file, then the new
// file), a deletion and a re-creation (once chiphost's log says it noticed
// the deletion), and a last line without a newline. SIGINT then ends the
// run: exit status 0, the unterminated line as the last row, and a summary
// on stderr. Every line of every file appears exactly once, in order.
// Without --follow, chiphost exits after the first two rows.
func TestParseFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, "one\ntwo\n", 0)
	r := startFollow(t, "--parser", "text", "--log-level", "info", "--follow", path)
	r.expect(t, "one", "two")
	writeFile(t, path, "three\n", os.O_APPEND)
	r.expect(t, "three")

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "truncated\n", os.O_APPEND)
	r.expect(t, "truncated")

	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path+".1", "old file\n", os.O_APPEND)
	writeFile(t, path, "new 1\nnew 2\n", 0)
	r.expect(t, "old file", "new 1", "new 2")

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r.awaitLog(t, "names no file")
	writeFile(t, path, "recreated\n", 0)
	r.expect(t, "recreated")

	writeFile(t, path, "unterminated", os.O_APPEND)
	code, rest := r.interrupt(t)
	if code != 0 || strings.Join(rest, "|") != "unterminated" {
		t.Fatalf("after SIGINT: exit %d, rows %q; want 0 and the unterminated line", code, rest)
	}
	errs := r.errors()
	if !strings.Contains(errs, "chiphost parse: 9 rows, 0 bytes skipped, 0 parse errors, 0 cut-dependent rows") || !strings.Contains(errs, "truncated") {
		t.Fatalf("stderr has no summary of 9 rows or no truncation warning:\n%s", errs)
	}
	// The runtime's log lines read as the command's own warnings, not JSON.
	if !strings.Contains(errs, "chiphost parse: warning: follow: the file was truncated; reading it again from its start (file="+path+" read=") {
		t.Errorf("the truncation warning is not a chiphost parse: warning: line:\n%s", errs)
	}
	for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
		if !strings.HasPrefix(l, "chiphost parse: ") {
			t.Errorf("stderr line %q is not one of chiphost parse's", l)
		}
	}
}

// TestParseFollowSource follows a byte-source plugin (the committed
// file_source fixture) reading a growing file: its reads come back empty at
// the end of the file and are polled again, so an appended line becomes a
// row; SIGINT ends the run with exit status 0. Without --follow the first
// empty read ends the input.
func TestParseFollowSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	writeFile(t, path, "from the plugin\n", 0)
	r := startFollow(t, "--plugins-dir", repo("testdata/plugins"), "--parser", "text",
		"--source", "file_source", "--source-config", "input-path="+path, "--follow")
	r.expect(t, "from the plugin")
	for _, line := range []string{"appended 1", "appended 2"} {
		writeFile(t, path, line+"\n", os.O_APPEND)
		r.expect(t, line)
	}
	code, rest := r.interrupt(t)
	if code != 0 || len(rest) != 0 || !strings.Contains(r.errors(), "chiphost parse: 3 rows") {
		t.Fatalf("after SIGINT: exit %d, rows %q, stderr %s", code, rest, r.errors())
	}
}

// TestParseFollowRefused: --follow needs a file or a plugin source; stdin is
// a usage error (2), and a named pipe cannot be followed (1).
func TestParseFollowRefused(t *testing.T) {
	_, errOut, code := runCLI(t, "x\n", "parse", "--no-default-plugins", "--parser", "text", "--follow", "-")
	if code != 2 || !strings.Contains(errOut, "stdin is always read until it ends") {
		t.Fatalf("--follow -: exit %d, %s", code, errOut)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "", "parse", "--no-default-plugins", "--parser", "text", "--follow", fifo)
	if code != 1 || !strings.Contains(errOut, "named pipe") {
		t.Fatalf("--follow FIFO: exit %d, %s", code, errOut)
	}
}

// TestParseFollowInputBoundary is the tester's case: a file's unterminated
// last line stays a row of its own when the file is rotated and when it is
// truncated. Each file's content is written at once, so the row before the
// partial line says that the partial line was read too. chiphost used to
// print "abcdef" and "ghijkl", rows that were in neither file.
func TestParseFollowInputBoundary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	writeFile(t, path, "one\nabc", 0)
	r := startFollow(t, "--parser", "text", "--follow", path)
	r.expect(t, "one")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "def\nghi", 0)
	r.expect(t, "abc", "def")
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "jkl\n", os.O_APPEND)
	r.expect(t, "ghi", "jkl")
	if code, rest := r.interrupt(t); code != 0 || len(rest) != 0 {
		t.Fatalf("after SIGINT: exit %d, rows %q; want 0 and none", code, rest)
	}
}
