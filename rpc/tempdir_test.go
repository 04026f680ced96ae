package rpc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestKilledServerLeavesNothingBehind: a server killed with SIGKILL while
// a session is open leaves its row store and its plugin's temporary
// directory; the next server started on the same temp dir removes them
// before it answers initialize, and leaves alone those of a server that
// still runs. When the last server exits, nothing is left, not even an
// empty chiphost-<uid>.
func TestKilledServerLeavesNothingBehind(t *testing.T) {
	watchdog(t, 90*time.Second)
	base := t.TempDir()
	parent := filepath.Join(base, "chiphost-"+strconv.Itoa(os.Geteuid()))
	input := writeLines(t, 1000)
	stringParser := protocol.ParserSpec{Plugin: filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")}
	openDone := func(c *client) string {
		t.Helper()
		var open protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: stringParser}, &open)
		if fin := c.waitFinal(open.Session, 30*time.Second); fin.State != protocol.StateDone {
			t.Fatalf("session %+v", fin)
		}
		return open.Session
	}

	killed := start(t, startOpts{tempDir: base})
	killed.initialize(nil)
	openDone(killed)
	left := filesUnder(t, parent)
	if !hasFileOf(left, killed.cmd.Process.Pid) {
		t.Fatalf("no files of the running server under %s: %v", parent, left)
	}
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-killed.exited
	if got := filesUnder(t, parent); len(got) != len(left) {
		t.Fatalf("files changed while the server was killed: %v, before %v", got, left)
	}

	next := start(t, startOpts{tempDir: base})
	next.initialize(nil) // answered after both of its directories were made
	for _, f := range left {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s, left by the killed server, is still there", f)
		}
	}
	session := openDone(next)

	third := start(t, startOpts{tempDir: base})
	third.initialize(nil)
	var g grabbed
	next.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: session, Start: 999, Count: 1}, &g)
	if len(g.Items) != 1 || !hasFileOf(filesUnder(t, parent), next.cmd.Process.Pid) {
		t.Errorf("the running server lost its session or its files when another started: %+v", g)
	}

	for _, c := range []*client{next, third} {
		c.stdin.Close()
		if code := c.waitExit(30 * time.Second); code != 0 {
			t.Errorf("exit status %d", code)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Errorf("left in the temp dir after every server exited: %v", entries)
	}
	// The process has exited, so all of its stderr has been copied. The
	// killed server had two directories: its host's and its sessions'.
	if log := next.stderr.String(); strings.Count(log, "removed the temporary directory of a process that is gone") != 2 {
		t.Errorf("the removal of the two directories is not logged:\n%s", log)
	}
}

// filesUnder lists every path under dir.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err == nil && p != dir {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// hasFileOf reports whether some regular file lies in a directory named
// after pid (<pid>-…) among paths.
func hasFileOf(paths []string, pid int) bool {
	prefix := strconv.Itoa(pid) + "-"
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err == nil && fi.Mode().IsRegular() && strings.Contains(p, string(filepath.Separator)+prefix) {
			return true
		}
	}
	return false
}
