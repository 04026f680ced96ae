package driver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chiphost/chiphost/internal/testutil"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// logLines is a zerolog writer that hands every log line to a channel, so a
// test can wait for a note (a truncation seen, a path gone) as a signal.
type logLines struct {
	mu  sync.Mutex
	all bytes.Buffer
	ch  chan string
}

func newLogLines() *logLines { return &logLines{ch: make(chan string, 100)} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.all.Write(p)
	l.mu.Unlock()
	select {
	case l.ch <- string(p):
	default:
	}
	return len(p), nil
}

func (l *logLines) logger() *zerolog.Logger {
	lg := zerolog.New(l).Level(zerolog.InfoLevel)
	return &lg
}

// await waits for a log line containing s.
func (l *logLines) await(t *testing.T, s string) {
	t.Helper()
	for {
		if strings.Contains(testutil.Await(t, l.ch, "a log line with "+s), s) {
			return
		}
	}
}

type runResult struct {
	stats driver.Stats
	err   error
}

// follower runs the driver with the text parser on a followed source and
// hands each row's line to a channel.
type follower struct {
	rows   chan string
	done   chan runResult
	stop   chan struct{}
	cancel context.CancelFunc
	seen   atomic.Int64 // rows handed to the sink so far
}

// newFollower makes a follower whose stop channel is to be passed to the
// source as FollowOptions.Stop; start runs it.
func newFollower() *follower {
	return &follower{rows: make(chan string, 1000), done: make(chan runResult, 1), stop: make(chan struct{})}
}

func (f *follower) start(t *testing.T, src driver.Source, p driver.Parser) {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	t.Cleanup(cancel)
	go func() {
		stats, err := driver.Run(ctx, src, p, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
			for _, r := range rows {
				f.seen.Add(1)
				f.rows <- rowText(r.Item.Message)
			}
			return nil
		}), nil)
		f.done <- runResult{stats, err}
	}()
}

// expect waits for the next rows and checks them.
func (f *follower) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := testutil.Await(t, f.rows, "row "+w); got != w {
			t.Fatalf("row %q, want %q", got, w)
		}
	}
}

// finish stops following gracefully and returns the run's result, checking
// that no row arrived that the test did not expect.
func (f *follower) finish(t *testing.T, want ...string) runResult {
	t.Helper()
	close(f.stop)
	res := testutil.Await(t, f.done, "the end of the run")
	close(f.rows)
	var got []string
	for r := range f.rows {
		got = append(got, r)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("rows after the stop %q, want %q", got, want)
	}
	return res
}

// rowText is a row's line, or its last column (string_parser's line).
func rowText(m *runtime.Message) string {
	if len(m.Columns) > 0 {
		return strings.Clone(m.Columns[len(m.Columns)-1])
	}
	return strings.Clone(m.Line)
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func follow(t *testing.T, path string, o driver.FollowOptions) *driver.FollowedFile {
	t.Helper()
	src, err := driver.FollowFile(path, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// modes runs a test with file notifications and with polling forced, so
// the fallback is exercised where notifications work. With notifications
// the safety-net poll is an hour apart: the test would hang without them.
func modes(t *testing.T, test func(t *testing.T, o driver.FollowOptions)) {
	t.Run("notify", func(t *testing.T) { test(t, driver.FollowOptions{MaxPoll: time.Hour}) })
	t.Run("poll", func(t *testing.T) { test(t, driver.FollowOptions{Poll: true}) })
}

// TestFollowGrowingFile follows a file that is appended to: each appended
// line becomes a row before the next append, a partial last line waits for
// its newline (no early row "par"), CaughtUp comes once the rows of
// everything read are in the sink, and Stop ends the run cleanly with the
// unterminated last line emitted and every byte accounted for. A plain
// FileSource ends after the first rows, with "par" as a row.
func TestFollowGrowingFile(t *testing.T) {
	modes(t, func(t *testing.T, o driver.FollowOptions) {
		path := filepath.Join(t.TempDir(), "app.log")
		appendFile(t, path, "a\nb\npar")
		caughtUp := make(chan int64, 100)
		f := newFollower()
		o.Stop, o.CaughtUp = f.stop, func() { caughtUp <- f.seen.Load() }
		f.start(t, follow(t, path, o), &driver.TextParser{})
		f.expect(t, "a", "b")
		if n := testutil.Await(t, caughtUp, "caught up"); n != 2 {
			t.Fatalf("caught up with %d rows in the sink, want 2", n)
		}
		appendFile(t, path, "tial\n")
		f.expect(t, "partial")
		for i := range 20 {
			line := fmt.Sprintf("line %d", i)
			appendFile(t, path, line+"\n")
			f.expect(t, line)
		}
		appendFile(t, path, "last, unterminated")
		res := f.finish(t, "last, unterminated")
		if res.err != nil {
			t.Fatal(res.err)
		}
		st, _ := os.Stat(path)
		if res.stats.Bytes != uint64(st.Size()) {
			t.Fatalf("read %d bytes of %d", res.stats.Bytes, st.Size())
		}
		checkAccounting(t, res.stats, int(st.Size()))
	})
}

// TestFollowTruncation: a file truncated below what was read is read again
// from its start, with a warning. Without the check the reads stay past the
// end of the shorter file and the row never comes.
func TestFollowTruncation(t *testing.T) {
	modes(t, func(t *testing.T, o driver.FollowOptions) {
		path := filepath.Join(t.TempDir(), "app.log")
		appendFile(t, path, "first line\nsecond line\n")
		logs := newLogLines()
		f := newFollower()
		o.Stop, o.Log = f.stop, logs.logger()
		f.start(t, follow(t, path, o), &driver.TextParser{})
		f.expect(t, "first line", "second line")
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "again\n")
		f.expect(t, "again")
		appendFile(t, path, "more\n")
		f.expect(t, "more")
		res := f.finish(t)
		if res.err != nil {
			t.Fatal(res.err)
		}
		if !strings.Contains(logs.all.String(), "truncated") {
			t.Fatalf("no truncation warning in %q", logs.all.String())
		}
		checkAccounting(t, res.stats, len("first line\nsecond line\nagain\nmore\n"))
	})
}

// TestFollowRotation rotates by rename: mv app.log app.log.1, a line
// appended to the old file, a new app.log with more lines. Every line of
// both files comes exactly once, in order, and the new file is followed.
func TestFollowRotation(t *testing.T) {
	modes(t, func(t *testing.T, o driver.FollowOptions) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		appendFile(t, path, "1\n2\n")
		f := newFollower()
		o.Stop = f.stop
		f.start(t, follow(t, path, o), &driver.TextParser{})
		f.expect(t, "1", "2")
		appendFile(t, path, "3\n")
		f.expect(t, "3")
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path+".1", "4 (old file, after the rename)\n")
		appendFile(t, path, "5\n6\n")
		f.expect(t, "4 (old file, after the rename)", "5", "6")
		appendFile(t, path, "7\n")
		f.expect(t, "7")
		// A second rotation.
		if err := os.Rename(path, path+".2"); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "8\n")
		f.expect(t, "8")
		if res := f.finish(t); res.err != nil {
			t.Fatal(res.err)
		}
	})
}

// TestFollowRecreated: the file is deleted; once the follower has noticed
// (its log says so), a new file appears under the name and is read from
// its start.
func TestFollowRecreated(t *testing.T) {
	modes(t, func(t *testing.T, o driver.FollowOptions) {
		path := filepath.Join(t.TempDir(), "app.log")
		appendFile(t, path, "before\n")
		logs := newLogLines()
		f := newFollower()
		o.Stop, o.Log = f.stop, logs.logger()
		f.start(t, follow(t, path, o), &driver.TextParser{})
		f.expect(t, "before")
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		logs.await(t, "names no file")
		appendFile(t, path, "after\n")
		f.expect(t, "after")
		logs.await(t, "rotated or replaced")
		appendFile(t, path, "again\n")
		f.expect(t, "again")
		if res := f.finish(t); res.err != nil {
			t.Fatal(res.err)
		}
	})
}

// TestFollowSymlink follows a symbolic link to a file in another
// directory: appends to the file are noticed through the watch on the
// target's directory (with notifications, the safety-net poll is an hour
// apart, so without that watch the row never comes).
func TestFollowSymlink(t *testing.T) {
	modes(t, func(t *testing.T, o driver.FollowOptions) {
		target := filepath.Join(t.TempDir(), "real.log")
		appendFile(t, target, "one\n")
		link := filepath.Join(t.TempDir(), "app.log")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		f := newFollower()
		o.Stop = f.stop
		f.start(t, follow(t, link, o), &driver.TextParser{})
		f.expect(t, "one")
		appendFile(t, target, "two\n")
		f.expect(t, "two")
		if res := f.finish(t); res.err != nil {
			t.Fatal(res.err)
		}
	})
}

// TestFollowStopWhileWaiting: Stop ends a run that waits for data (it has
// caught up) at once, and without an error; cancelling the context instead
// ends it with the context's error.
func TestFollowStopWhileWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, path, "only\n")
	for _, cancel := range []bool{false, true} {
		caughtUp := make(chan struct{}, 10)
		f := newFollower()
		f.start(t, follow(t, path, driver.FollowOptions{Stop: f.stop, CaughtUp: func() { caughtUp <- struct{}{} }}), &driver.TextParser{})
		f.expect(t, "only")
		testutil.Await(t, caughtUp, "caught up")
		if cancel {
			f.cancel()
			if res := testutil.Await(t, f.done, "the end of the run"); !errors.Is(res.err, context.Canceled) {
				t.Fatalf("cancelled run ended with %v", res.err)
			}
			continue
		}
		if res := f.finish(t); res.err != nil || res.stats.Items != 1 {
			t.Fatalf("stopped run: %+v", res)
		}
	}
}

// TestFollowRefusesNonRegular: only regular files can be followed.
func TestFollowRefusesNonRegular(t *testing.T) {
	if _, err := driver.FollowFile(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("following a directory: %v", err)
	}
	if _, err := driver.FollowFile(filepath.Join(t.TempDir(), "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("following a missing file: %v", err)
	}
}

// emptyReads is a live source: it answers empty reads until the test gives
// it bytes (through a channel, the way a plugin gets them from a device).
type emptyReads struct {
	data chan []byte
}

func (s *emptyReads) Read(ctx context.Context, buf []byte, max int) ([]byte, error) {
	select {
	case b := <-s.data:
		return append(buf, b...), nil
	default:
		return buf, nil
	}
}

// TestFollowSource: a followed source whose reads come back empty is read
// again (not taken for the end) until bytes come; Stop ends it. Without
// FollowSource the first empty read ends the run.
func TestFollowSource(t *testing.T) {
	src := &emptyReads{data: make(chan []byte)}
	caughtUp := make(chan struct{}, 100)
	f := newFollower()
	f.start(t, driver.FollowSource(src, &driver.FollowOptions{Stop: f.stop, CaughtUp: func() { caughtUp <- struct{}{} }}), &driver.TextParser{})
	for i := range 3 {
		testutil.Await(t, caughtUp, "an empty read")
		line := fmt.Sprintf("from the source %d", i)
		src.data <- []byte(line + "\n") // taken by a later read
		f.expect(t, line)
	}
	testutil.Await(t, caughtUp, "an empty read")
	res := f.finish(t)
	if res.err != nil || res.stats.Items != 3 {
		t.Fatalf("%+v", res)
	}
}

// oneLinePerCall parses one line per call, as many plugins do.
type oneLinePerCall struct {
	items []runtime.Item
	msg   runtime.Message
}

func (p *oneLinePerCall) Parse(_ context.Context, data []byte, _ *uint64) ([]runtime.Item, error) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return nil, incomplete()
	}
	p.msg = runtime.Message{Line: string(data[:i])}
	p.items = append(p.items[:0], runtime.Item{Consumed: uint64(i + 1), Message: &p.msg})
	return p.items, nil
}

// TestParsesInHandBeforeWaiting: after a short read (the next may wait for
// a followed file or a pipe), a parser that returns one item per call gets
// everything in hand parsed before the next read. The driver used to read
// first, so on a followed file the second of two appended lines waited for
// the next append.
func TestParsesInHandBeforeWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, path, "one\ntwo\nthree\n")
	caughtUp := make(chan int64, 100)
	f := newFollower()
	f.start(t, follow(t, path, driver.FollowOptions{Stop: f.stop, CaughtUp: func() { caughtUp <- f.seen.Load() }}), &oneLinePerCall{})
	if n := testutil.Await(t, caughtUp, "caught up"); n != 3 {
		t.Fatalf("waiting for more input with %d rows of 3 in the sink", n)
	}
	appendFile(t, path, "four\nfive\n")
	if n := testutil.Await(t, caughtUp, "caught up"); n != 5 {
		t.Fatalf("waiting for more input with %d rows of 5 in the sink", n)
	}
	f.expect(t, "one", "two", "three", "four", "five")
	if res := f.finish(t); res.err != nil {
		t.Fatal(res.err)
	}
}
