package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// Polling intervals of a followed source (FollowOptions.MinPoll, MaxPoll).
const (
	DefaultMinPoll = 10 * time.Millisecond
	DefaultMaxPoll = time.Second
)

// FollowOptions tune FollowFile and FollowSource. The zero value gives the
// defaults.
type FollowOptions struct {
	// Stop, when closed, ends the input gracefully (the CLI closes it on
	// SIGINT): a followed file is read up to its size at that moment, then
	// Read reports io.EOF; a followed source reports io.EOF at its next
	// Read. The driver then finishes the bytes in hand as at the end of any
	// input (the text parser emits an unterminated last line) and the run
	// ends without an error. Cancelling Read's context abandons the run
	// instead.
	Stop <-chan struct{}
	// Poll makes FollowFile poll the file instead of waiting for the
	// platform's file notifications (which it falls back to polling without).
	Poll bool
	// MinPoll and MaxPoll bound the interval between polls (defaults
	// DefaultMinPoll and DefaultMaxPoll): it starts at MinPoll, doubles while
	// nothing arrives, up to MaxPoll, and returns to MinPoll when bytes
	// come. With notifications, a followed file is also looked at every
	// MaxPoll, in case one was missed (network file systems send none).
	MinPoll, MaxPoll time.Duration
	// CaughtUp, when set, is called (on Read's goroutine) when the source
	// has delivered everything it holds and starts waiting for more: once
	// per wait, not once per poll.
	CaughtUp func()
	// Log receives warnings (truncation, notifications unavailable) and, at
	// info level, notes (rotation). Nil: nothing is logged.
	Log *zerolog.Logger
}

func (o *FollowOptions) withDefaults() FollowOptions {
	var r FollowOptions
	if o != nil {
		r = *o
	}
	if r.MinPoll <= 0 {
		r.MinPoll = DefaultMinPoll
	}
	if r.MaxPoll <= 0 {
		r.MaxPoll = DefaultMaxPoll
	}
	r.MaxPoll = max(r.MaxPoll, r.MinPoll)
	if r.Log == nil {
		nop := zerolog.Nop()
		r.Log = &nop
	}
	return r
}

// closed reports whether ch is closed (a nil channel never is).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// backoff is a polling interval that doubles up to a bound.
type backoff struct{ min, max, cur time.Duration }

func newBackoff(o *FollowOptions) backoff { return backoff{o.MinPoll, o.MaxPoll, o.MinPoll} }

// next returns the interval to wait now and doubles the following one.
func (b *backoff) next() time.Duration {
	d := b.cur
	b.cur = min(b.cur*2, b.max)
	return d
}

func (b *backoff) reset() { b.cur = b.min }

// pause waits until ctx ends (its error is returned), stop is closed, wake
// is signalled, or d has passed. t is a stopped timer, reused.
func pause(ctx context.Context, t *time.Timer, d time.Duration, stop, wake <-chan struct{}) error {
	t.Reset(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
	case <-wake:
	case <-t.C:
	}
	return nil
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// FollowedSource follows a live source, such as a byte-source plugin, for
// which an empty read means "nothing yet" instead of the end of the input:
// it reads again after MinPoll, then after intervals that double up to
// MaxPoll, back to MinPoll when bytes come, until FollowOptions.Stop is
// closed or the context ends. An error or io.EOF from the source ends the
// input as usual. See docs/design.md for Chipmunk's rule.
type FollowedSource struct {
	src     Source
	o       FollowOptions
	poll    backoff
	timer   *time.Timer
	waiting bool
}

// FollowSource wraps src so that its empty reads are polled again.
func FollowSource(src Source, opts *FollowOptions) *FollowedSource {
	o := opts.withDefaults()
	return &FollowedSource{src: src, o: o, poll: newBackoff(&o), timer: stoppedTimer()}
}

// Read implements Source: it returns when src delivered bytes or failed,
// and reports io.EOF once Stop is closed.
func (s *FollowedSource) Read(ctx context.Context, buf []byte, max int) ([]byte, error) {
	for {
		if closed(s.o.Stop) {
			return buf, io.EOF
		}
		before := len(buf)
		var err error
		buf, err = s.src.Read(ctx, buf, max)
		if err != nil || len(buf) > before {
			s.poll.reset()
			s.waiting = false
			return buf, err
		}
		if !s.waiting {
			s.waiting = true
			if s.o.CaughtUp != nil {
				s.o.CaughtUp()
			}
		}
		if err := pause(ctx, s.timer, s.poll.next(), s.o.Stop, nil); err != nil {
			return buf, err
		}
	}
}

// FollowedFile reads a regular file to its end and then keeps reading as it
// grows, like tail -F:
//
//   - a file that shrinks below what was read (truncated) is read again
//     from its start, with a warning;
//   - when the path comes to name another file (rotation by rename, or a
//     file removed and created again), the old file is read to its end and
//     the new one from its start; while the path names nothing, the open
//     file is read on, and a file that appears there later is picked up.
//
// In both cases Read reports ErrInputBoundary once the old file's bytes
// (or those read before the truncation) have been delivered, so that the
// driver ends them as an input of their own: an unterminated last line is
// a row of its own, not the start of the new file's first row.
//
// Every file the path comes to name is opened as soon as it is seen (on
// every Read, and when a notification says the path was created) and
// queued, so a reader behind its writer still reads files rotated away
// again before it got to them; the queued files are read in order after the
// open one (at most maxQueued wait; more are skipped with a warning).
//
// It waits for the platform's file notifications on the file's directory
// (so a re-creation is seen), and polls instead when they are unavailable,
// fail, or FollowOptions.Poll is set. Memory stays bounded by the reads the
// driver asks for, however long it follows.
//
// Bytes written to the old file after the switch to the new one are not
// read (tail -F does the same), a file created and rotated away between two
// looks at the path is never seen, and a truncation followed by writes past
// the old size before the file is looked at again cannot be told from
// growth.
type FollowedFile struct {
	path string
	o    FollowOptions

	f      *os.File
	off    int64 // bytes read from f
	size   int64 // f's size when last looked at
	queue  fileQueue
	stopAt int64 // -1 until Stop is seen; then f's size at that moment
	// drainedOnce: a queued file was seen at the end of f and f was read
	// once more since, so nothing written before the rotation is missed.
	drainedOnce bool

	detached bool // f is no longer what the path names
	boundary bool // f was switched or rewound after bytes were read: report ErrInputBoundary
	waiting  bool
	poll     backoff
	timer    *time.Timer
	watch    *watcher // nil when polling

	// warnedNotRegular: the warning that the path names a directory or a
	// pipe was given since f was last what the path names.
	warnedNotRegular bool
}

// FollowFile opens path, which must name a regular file, for following.
func FollowFile(path string, opts *FollowOptions) (*FollowedFile, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	s := &FollowedFile{path: path, o: o, f: f, size: size, stopAt: -1, poll: newBackoff(&o), timer: stoppedTimer()}
	s.queue.cur, _ = f.Stat()
	if !o.Poll {
		w, err := newWatcher(path, o.Log, s.lookAtPath)
		if err != nil {
			o.Log.Warn().Str("file", path).Err(err).Msg("follow: file notifications are unavailable; polling the file instead")
		} else {
			s.watch = w
		}
	}
	return s, nil
}

// openRegular opens path for reading if it names a regular file, and
// returns the file with its size.
func openRegular(path string) (*os.File, int64, error) {
	f, info, err := openRegularInfo(path)
	if err != nil {
		return nil, 0, err
	}
	return f, info.Size(), nil
}

// openRegularInfo is openRegular returning the open file's FileInfo.
func openRegularInfo(path string) (*os.File, os.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open source file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, notRegular(path, st.Mode())
	}
	f, _, _, err := openForReading(path) // never blocks, should it have become a FIFO
	if err != nil {
		return nil, nil, fmt.Errorf("open source file: %w", err)
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = notRegular(path, st.Mode())
		}
		return nil, nil, err
	}
	return f, st, nil
}

// notRegularError says that a path names something other than a regular
// file.
type notRegularError struct {
	path string
	mode fs.FileMode
}

func (e *notRegularError) Error() string {
	return fmt.Sprintf("follow %s: %s; only regular files can be followed", e.path, notRegularWhat(e.mode))
}

func notRegular(path string, mode fs.FileMode) error { return &notRegularError{path, mode} }

// notRegularWhat names what a file that is not regular is.
func notRegularWhat(mode fs.FileMode) string {
	what := "not a regular file"
	switch {
	case mode.IsDir():
		what = "a directory"
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe (read to its end without following)"
	case mode&fs.ModeDevice != 0, mode&fs.ModeCharDevice != 0:
		what = "a device"
	}
	return what
}

// Read implements Source: it returns as soon as the file holds bytes not
// yet read, waiting for them if need be.
func (s *FollowedFile) Read(ctx context.Context, buf []byte, max int) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return buf, err
		}
		if s.stopAt < 0 && closed(s.o.Stop) {
			s.lookAtPath() // what the path names now was written before the stop
			s.stopAt = s.off
			if st, err := s.f.Stat(); err == nil {
				s.stopAt = st.Size()
			}
		}
		if s.stopAt < 0 {
			s.lookAtPath() // a reader behind its writer must not miss a rotated file
		}
		before := len(buf)
		var err error
		if buf, err = s.readSome(buf, max); err != nil {
			return buf, err
		}
		if len(buf) > before {
			s.poll.reset()
			s.waiting = false
			return buf, nil
		}
		if s.stopAt >= 0 {
			if s.queue.len() == 0 {
				return buf, io.EOF
			}
			// Files rotated away before the stop are read too, each up
			// to its size when the reader gets to it.
			s.switchToNext()
			s.stopAt = 0
			if st, err := s.f.Stat(); err == nil {
				s.stopAt = st.Size()
			}
			if s.boundary {
				s.boundary = false
				return buf, ErrInputBoundary
			}
			continue
		}
		moved, err := s.check()
		if err != nil {
			return buf, err
		}
		if s.boundary {
			s.boundary = false
			return buf, ErrInputBoundary
		}
		if moved {
			continue
		}
		if !s.waiting {
			s.waiting = true
			if s.o.CaughtUp != nil {
				s.o.CaughtUp()
			}
		}
		if err := s.pause(ctx); err != nil {
			return buf, err
		}
	}
}

// readSome does one read of f, sized by what is left of it (plus
// readSlack), or of what is left before stopAt.
func (s *FollowedFile) readSome(buf []byte, limit int) ([]byte, error) {
	if s.off >= s.size {
		if st, err := s.f.Stat(); err == nil {
			s.size = st.Size()
		}
	}
	want := min(int64(limit), max(s.size-s.off, 0)+readSlack)
	if s.stopAt >= 0 {
		want = min(int64(limit), max(s.stopAt-s.off, 0))
	}
	if want <= 0 {
		return buf, nil
	}
	buf = slices.Grow(buf, int(want))
	n, err := s.f.Read(buf[len(buf) : len(buf)+int(want)])
	buf = buf[:len(buf)+n]
	s.off += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		return buf, fmt.Errorf("follow %s: read: %w", s.path, err)
	}
	return buf, nil
}

// check looks at the file once all of it was read: a pending switch to a
// rotated file, a truncation, or a path that names another file now. It
// reports whether there may be something to read at once.
func (s *FollowedFile) check() (bool, error) {
	if s.queue.len() > 0 {
		if !s.drainedOnce {
			s.drainedOnce = true
			return true, nil // drain the old file once more, then switch
		}
		s.switchToNext()
		return true, nil
	}
	cur, err := s.f.Stat()
	if err != nil {
		return false, fmt.Errorf("follow %s: %w", s.path, err)
	}
	if cur.Size() < s.off {
		s.o.Log.Warn().Str("file", s.path).Int64("size", cur.Size()).Int64("read", s.off).
			Msg("follow: the file was truncated; reading it again from its start")
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return false, fmt.Errorf("follow %s: rewind after truncation: %w", s.path, err)
		}
		s.off, s.size, s.boundary = 0, cur.Size(), true
		return true, nil
	}
	named, err := os.Stat(s.path)
	if err != nil {
		// Removed or renamed, not created again yet: its writer may still
		// append to the open file. Newly detached, read once more: a
		// write notified before every event counted is not missed.
		return s.detach("follow: the path names no file now; reading on the open file until one appears there"), nil
	}
	if os.SameFile(named, cur) {
		s.attach()
		return false, nil
	}
	if !named.Mode().IsRegular() {
		s.notRegularNow(named.Mode())
		return false, nil
	}
	s.detach("")
	next, info, err := openRegularInfo(s.path)
	var nr *notRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil // gone again
	case errors.As(err, &nr):
		s.notRegularNow(nr.mode) // replaced again since the look above
		return false, nil
	case err != nil:
		return false, err
	}
	s.queue.add(next, info, s.o.Log, s.path)
	return s.queue.len() > 0, nil
}

// lookAtPath queues the file the path names when it is neither the open
// file nor one queued already, so that a file rotated away again before
// the reader gets to it is still read. It is called on every Read and, with
// notifications, as soon as the path is created again (on the watcher's
// goroutine).
func (s *FollowedFile) lookAtPath() {
	named, err := os.Stat(s.path)
	if err != nil || !named.Mode().IsRegular() || s.queue.known(named) {
		return
	}
	f, info, err := openRegularInfo(s.path)
	if err != nil {
		return // gone again, or no longer a regular file: check says so at the end of f
	}
	s.queue.add(f, info, s.o.Log, s.path)
}

// notRegularNow notes that the path names something that cannot be
// followed (a directory, a named pipe): the open file is read on, and a
// regular file that appears at the path later is picked up. The warning
// comes once per such spell.
func (s *FollowedFile) notRegularNow(mode fs.FileMode) {
	s.detach("")
	if !s.warnedNotRegular {
		s.warnedNotRegular = true
		s.o.Log.Warn().Str("file", s.path).Str("now", notRegularWhat(mode)).
			Msg("follow: the path names something other than a regular file now; reading on the open file until a regular file appears there")
	}
}

// switchToNext continues with the first queued file: what the path named
// after a rotation.
func (s *FollowedFile) switchToNext() {
	s.f.Close()
	s.f = s.queue.pop()
	s.drainedOnce = false
	s.boundary = s.off > 0
	s.off, s.size = 0, 0
	s.o.Log.Info().Str("file", s.path).Msg("follow: the file was rotated or replaced; reading the new one from its start")
	s.attach()
}

// detach notes that f is no longer what the path names: every change in
// the watched directories may then concern it.
// It reports whether f was attached until now.
func (s *FollowedFile) detach(note string) bool {
	if s.detached {
		return false
	}
	if note != "" {
		s.o.Log.Info().Str("file", s.path).Msg(note)
	}
	s.detached = true
	if s.watch != nil {
		s.watch.detached.Store(true)
	}
	return true
}

// attach notes that f is what the path names (again).
func (s *FollowedFile) attach() {
	s.warnedNotRegular = false
	if !s.detached {
		return
	}
	s.detached = false
	if s.watch != nil {
		s.watch.detached.Store(false)
		s.watch.watchTarget(s.path)
	}
}

// pause waits for a notification, a poll or Stop.
func (s *FollowedFile) pause(ctx context.Context) error {
	if s.watch != nil && !s.watch.failed.Load() {
		return pause(ctx, s.timer, s.o.MaxPoll, s.o.Stop, s.watch.wake)
	}
	return pause(ctx, s.timer, s.poll.next(), s.o.Stop, nil)
}

// Close closes the files and stops the notifications.
func (s *FollowedFile) Close() error {
	if s.watch != nil {
		s.watch.close()
	}
	s.queue.close()
	return s.f.Close()
}

// maxQueued bounds the rotated files held open while the reader is behind.
const maxQueued = 64

// fileQueue holds the files the path came to name after the open one, in
// the order they appeared, each opened when it was seen. It is shared with
// the watcher's goroutine.
type fileQueue struct {
	mu      sync.Mutex
	cur     os.FileInfo // the open file
	files   []*os.File
	infos   []os.FileInfo
	skipped int // files not queued because the queue was full
}

// known reports whether info is the open file or a queued one.
func (q *fileQueue) known(info os.FileInfo) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.knownLocked(info)
}

func (q *fileQueue) knownLocked(info os.FileInfo) bool {
	if q.cur != nil && os.SameFile(q.cur, info) {
		return true
	}
	return slices.ContainsFunc(q.infos, func(i os.FileInfo) bool { return os.SameFile(i, info) })
}

// add queues f unless it is known already (then it is closed) or the queue
// is full (then it is closed and counted, with a warning).
func (q *fileQueue) add(f *os.File, info os.FileInfo, log *zerolog.Logger, path string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.knownLocked(info) {
		f.Close()
		return
	}
	if len(q.files) >= maxQueued {
		f.Close()
		q.skipped++
		log.Warn().Str("file", path).Int("queued", len(q.files)).Int("skipped", q.skipped).
			Msg("follow: too many rotated files wait to be read; a file the path named is skipped")
		return
	}
	q.files = append(q.files, f)
	q.infos = append(q.infos, info)
	log.Debug().Str("file", path).Int("queued", len(q.files)).Msg("follow: the path names a new file; queued to be read after the open one")
}

func (q *fileQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.files)
}

// pop removes the first queued file, which becomes the open one.
func (q *fileQueue) pop() *os.File {
	q.mu.Lock()
	defer q.mu.Unlock()
	f := q.files[0]
	q.cur = q.infos[0]
	q.files, q.infos = q.files[1:], q.infos[1:]
	return f
}

func (q *fileQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, f := range q.files {
		f.Close()
	}
	q.files, q.infos = nil, nil
}

// watcher turns file notifications about a followed path into wake-ups.
// It watches the path's directory (so a re-created file is seen) and, when
// the path is a symbolic link into another directory, that directory too.
type watcher struct {
	w        *fsnotify.Watcher
	log      *zerolog.Logger
	wake     chan struct{} // signalled (cap 1) by a relevant event
	detached atomic.Bool   // the open file is no longer what the path names
	failed   atomic.Bool   // notifications failed: poll
	done     chan struct{} // closed when the event loop has ended
	base     string        // the followed path's base name
	created  func()        // called when the path is created (again)

	mu     sync.Mutex
	names  []string // base names whose events matter
	target string   // the symbolic link's target directory, when watched
}

func newWatcher(path string, log *zerolog.Logger, created func()) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := fw.Add(filepath.Dir(path)); err != nil {
		fw.Close()
		return nil, fmt.Errorf("watch %s: %w", filepath.Dir(path), err)
	}
	w := &watcher{w: fw, log: log, wake: make(chan struct{}, 1), done: make(chan struct{}), base: filepath.Base(path), created: created}
	w.watchTarget(path)
	go w.loop()
	return w, nil
}

// watchTarget watches the directory of the file a symbolic link at path
// points to, when it is not path's own directory.
func (w *watcher) watchTarget(path string) {
	names := []string{filepath.Base(path)}
	target := ""
	if real, err := filepath.EvalSymlinks(path); err == nil {
		names = append(names, filepath.Base(real))
		dir, _ := filepath.Abs(filepath.Dir(real))
		if own, _ := filepath.Abs(filepath.Dir(path)); dir != own {
			target = dir
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.names = names
	if target == w.target {
		return
	}
	if w.target != "" {
		w.w.Remove(w.target)
	}
	w.target = ""
	if target != "" {
		if err := w.w.Add(target); err != nil {
			w.log.Warn().Str("dir", target).Err(err).Msg("follow: cannot watch the directory of the link's target; polling it")
			return
		}
		w.target = target
	}
}

// relevant reports whether an event about name may concern the file.
func (w *watcher) relevant(name string) bool {
	if w.detached.Load() {
		return true
	}
	base := filepath.Base(name)
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.names, base)
}

func (w *watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// loop runs until the watcher is closed.
func (w *watcher) loop() {
	defer close(w.done)
	for {
		select {
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) && filepath.Base(ev.Name) == w.base {
				w.created() // open it before it can be rotated away again
			}
			if w.relevant(ev.Name) {
				w.signal()
			}
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) && !w.failed.Swap(true) {
				w.log.Warn().Err(err).Msg("follow: file notifications failed; polling instead")
			}
			w.signal() // events may have been lost: look
		}
	}
}

func (w *watcher) close() {
	w.w.Close()
	<-w.done
}
