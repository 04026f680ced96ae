//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestParseFIFOInterrupted parses a named pipe whose writer connects and
// stays silent: chiphost waits for data, and SIGINT must end it (exit 1,
// the interruption on stderr, nothing on stdout). Before the fix the read
// could not be cancelled and chiphost ignored the signal forever (go test's
// timeout is the safety net).
func TestParseFIFOInterrupted(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chiphostBin(t), "parse", "--no-default-plugins", "--parser", "text", fifo)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Opening the write end waits until chiphost has opened the read end,
	// which it does after installing its signal handler.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "context canceled") || stdout.Len() != 0 {
		t.Fatalf("after SIGINT: %v, stdout %q, stderr %q; want exit 1 reporting the cancellation", err, stdout.String(), stderr.String())
	}
}
