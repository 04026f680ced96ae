package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// progressMode is the value of parse --progress: when the progress line
// and the compile message are shown on stderr.
type progressMode string

const (
	progressAuto   progressMode = "auto"   // when stderr is a terminal
	progressAlways progressMode = "always" // also when it is not (for tests and logs that keep escapes)
	progressNever  progressMode = "never"
)

func (m *progressMode) String() string { return string(*m) }

// Type names the value in help (pflag.Value).
func (m *progressMode) Type() string { return "mode" }

func (m *progressMode) Set(v string) error {
	switch progressMode(v) {
	case progressAuto, progressAlways, progressNever:
		*m = progressMode(v)
		return nil
	}
	return fmt.Errorf("want auto, always or never, found %q", v)
}

// isTerminal reports whether the reader or writer rw is a terminal (a tty,
// not merely a character device such as /dev/null).
func isTerminal(rw any) bool {
	f, ok := rw.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// Escapes of the progress line: back to the start of the line, and erase
// from the cursor to the end of the line.
const (
	lineStart = "\r"
	eraseLine = "\x1b[K"
)

// redrawEvery is the shortest time between two redraws of the line.
const redrawEvery = 100 * time.Millisecond

// statusLine is the progress line of chiphost parse on stderr: bytes read
// (of the total when it is known, with a percentage and an estimate of the
// time left; with a spinner when it is not), rows, and the rate. It is
// redrawn in place at most every redrawEvery, and it is an io.Writer for
// every other stderr text: a write first erases the line, so the two never
// share a line; the next update draws it again below. Stdout is never
// touched.
type statusLine struct {
	// due is set when a redraw may happen: at first, then by a ticker
	// every redrawEvery. update checks only it, so the parse loop pays an
	// atomic swap per callback, not a clock read and a lock.
	due  atomic.Bool
	stop chan struct{} // closed by finish: ends the ticker

	mu    sync.Mutex
	w     io.Writer
	total int64 // bytes expected, -1 when unknown
	width int   // terminal columns (0: unknown)

	start    time.Time // when the first stats arrived
	shown    bool      // the line holds text
	finished bool
	spin     int // spinner frame
	buf      []byte
}

// newStatusLine returns the progress line for mode on stderr, or nil when
// the mode says not to show one.
func newStatusLine(mode progressMode, stderr io.Writer) *statusLine {
	switch {
	case mode == progressNever, mode == progressAuto && !isTerminal(stderr):
		return nil
	}
	l := &statusLine{w: stderr, total: -1, stop: make(chan struct{})}
	if f, ok := stderr.(interface{ Fd() uintptr }); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			l.width = cols
		}
	}
	l.due.Store(true)
	go l.tick()
	return l
}

// tick allows a redraw every redrawEvery until finish.
func (l *statusLine) tick() {
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.due.Store(true)
		}
	}
}

// setTotal sets the number of bytes expected (a regular file's size, or -1).
func (l *statusLine) setTotal(n int64) {
	l.mu.Lock()
	l.total = n
	l.mu.Unlock()
}

// update is driver.Options.Progress: it redraws the line at most once per
// tick of redrawEvery (the first stats are drawn at once). Between ticks it
// costs an atomic load.
func (l *statusLine) update(st driver.Stats) {
	if !l.due.Load() || !l.due.Swap(false) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return
	}
	now := time.Now()
	if l.start.IsZero() {
		l.start = now
	}
	l.buf = append(l.buf[:0], lineStart...)
	l.buf = l.appendStatus(l.buf, st, now.Sub(l.start))
	l.buf = append(l.buf, eraseLine...)
	l.w.Write(l.buf)
	l.shown = true
}

// appendStatus appends the text of the line, cut to the terminal's width.
func (l *statusLine) appendStatus(b []byte, st driver.Stats, elapsed time.Duration) []byte {
	start := len(b)
	known := l.total >= 0 && st.Bytes <= uint64(l.total)
	if known {
		b = appendMB(b, st.Bytes)
		b = append(b, " of "...)
		b = appendMB(b, uint64(l.total))
		pct := uint64(100)
		if l.total > 0 {
			pct = st.Bytes * 100 / uint64(l.total)
		}
		b = fmt.Appendf(b, " (%d%%)", pct)
	} else {
		b = append(b, `|/-\`[l.spin%4], ' ')
		l.spin++
		b = appendMB(b, st.Bytes)
	}
	b = append(b, "  "...)
	b = appendGrouped(b, st.Items)
	b = append(b, " rows"...)
	if secs := elapsed.Seconds(); secs >= 0.5 && st.Bytes > 0 {
		rate := float64(st.Bytes) / secs
		b = append(b, "  "...)
		b = appendMB(b, uint64(rate))
		b = append(b, "/s"...)
		if known {
			left := time.Duration(float64(uint64(l.total)-st.Bytes) / rate * float64(time.Second))
			b = append(b, "  ETA "...)
			b = appendClock(b, left)
		}
	}
	if l.width > 1 && len(b)-start > l.width-1 {
		b = b[:start+l.width-1] // the text is ASCII: one byte per column
	}
	return b
}

// finish erases the line if it holds text and stops drawing it. It may be
// called more than once.
func (l *statusLine) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eraseLocked()
	if !l.finished {
		l.finished = true
		close(l.stop)
	}
}

func (l *statusLine) eraseLocked() {
	if l.shown {
		io.WriteString(l.w, lineStart+eraseLine)
		l.shown = false
	}
}

// Write writes other stderr text (logs, warnings, the compile message) on
// a line of its own: the progress line is erased first.
func (l *statusLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eraseLocked()
	return l.w.Write(p)
}

// Fd returns stderr's descriptor, so that the logger still sees a terminal
// behind the line.
func (l *statusLine) Fd() uintptr {
	if f, ok := l.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// compileTrace prints "compiling NAME (SIZE), first use only" before a
// plugin compilation that does real work (see runtime.CompileTrace); the
// words "first use only" are left out when the caches are off.
func (l *statusLine) compileTrace() *runtime.CompileTrace {
	return &runtime.CompileTrace{Start: func(i runtime.CompileInfo) {
		fmt.Fprint(l, compileMessage("parse", i))
	}}
}

// withCompileNotes returns ctx with a compile trace that prints
// compileMessage for command on stderr when stderr is a terminal: inspect
// and plugins, which have no progress line, say why a first run waits.
func withCompileNotes(ctx context.Context, command string, stderr io.Writer) context.Context {
	if !isTerminal(stderr) {
		return ctx
	}
	return runtime.WithCompileTrace(ctx, &runtime.CompileTrace{Start: func(i runtime.CompileInfo) {
		fmt.Fprint(stderr, compileMessage(command, i))
	}})
}

// compileMessage is the line a compile trace prints for command.
func compileMessage(command string, i runtime.CompileInfo) string {
	msg := "chiphost " + command + ": compiling " + i.Plugin + " (" + string(appendMB(nil, uint64(i.Size))) + ")"
	if i.Cached {
		msg += ", first use only"
	}
	return msg + "\n"
}

// sourceSize returns the bytes parse will read when they are known: the
// size of FILE or of stdin redirected from a regular file; -1 for pipes,
// devices and byte-source plugins.
func sourceSize(file, sourceRef string, stdin io.Reader) int64 {
	switch {
	case sourceRef != "":
		return -1
	case file == "-":
		return stdinSize(stdin)
	default:
		return regularSize(file)
	}
}

// regularSize returns the size of path if it is a regular file, else -1.
func regularSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}

// stdinSize returns what is left of stdin when it is a regular file
// (redirected with <), else -1.
func stdinSize(stdin io.Reader) int64 {
	f, ok := stdin.(*os.File)
	if !ok {
		return -1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil || off > st.Size() {
		return -1
	}
	return st.Size() - off
}

// appendMB appends n bytes in decimal megabytes with one decimal
// ("12.1 MB"), as the rate and the compile message use them.
func appendMB(b []byte, n uint64) []byte {
	return fmt.Appendf(b, "%.1f MB", float64(n)/1e6)
}

// appendGrouped appends n with thousands separators ("3,533,584").
func appendGrouped(b []byte, n uint64) []byte {
	s := strconv.FormatUint(n, 10)
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return b
}

// appendClock appends d as m:ss or h:mm:ss, rounded up to the second.
func appendClock(b []byte, d time.Duration) []byte {
	s := int64((d + time.Second - 1) / time.Second)
	if s >= 3600 {
		return fmt.Appendf(b, "%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Appendf(b, "%d:%02d", s/60, s%60)
}
