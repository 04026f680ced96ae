// Package driver feeds bytes from a source to a parser the way Chipmunk's
// producer does, without its weaknesses: it passes bounded chunks that grow
// only when the parser says a message is incomplete, never spins on a parser
// that makes no progress, counts skipped bytes and parse errors, and reports
// the error that ended a run instead of swallowing it.
//
// It works on the small [Parser] and [Source] interfaces, satisfied by
// plugin instances (runtime.Parser, runtime.Source), by the built-in
// [TextParser], [FileSource] and [ReaderSource], and by native Go parsers in
// benchmarks. It must not import wazero or JSON-RPC packages.
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/chiphost/chiphost/runtime"
)

// Parser turns bytes into items (Chipmunk's parse contract). The items and
// everything they reference are valid only until the next call.
//
// Errors the plugin reports itself are *runtime.Error values of kind
// runtime.KindPluginError whose Code is "parse", "incomplete", "eof" or
// "unrecoverable"; any other error ends the run.
type Parser interface {
	Parse(ctx context.Context, data []byte, timestamp *uint64) ([]runtime.Item, error)
}

// Finisher is implemented by parsers that can turn a trailing incomplete
// message into items once no more input will come (the built-in text parser
// emits a last line without a newline). Its Parse emits only messages that
// end within the bytes given, so its rows never depend on where the driver
// cuts the input, and the driver does not re-parse a row that ends at a
// window's edge for it. Plugins cannot implement it: the API has no end of
// input call; they get the repeat call instead (see Run).
type Finisher interface {
	Finish(ctx context.Context, data []byte) ([]runtime.Item, error)
}

// Restarter is implemented by parsers that keep state from one call to the
// next (the text parser skips the rest of a line it had to end at
// MaxChunk). Run calls Restart when another input begins after
// ErrInputBoundary, so nothing of the input that ended carries over.
type Restarter interface {
	Restart()
}

// Source produces input bytes. Read appends at most max bytes to buf and
// returns the extended slice; io.EOF (possibly with data) means no more data
// will ever come. Appending nothing without an error is treated as the end of
// the input, as Chipmunk treats an empty read.
//
// ErrInputBoundary (possibly with data) means that one input has ended and
// another begins with the next read: a followed file was rotated, replaced
// or truncated. Run finishes the bytes in hand as at io.EOF (a Finisher's
// Finish, a plugin's repeat call), so no row joins the end of one input to
// the start of the next, and then reads on.
type Source interface {
	Read(ctx context.Context, buf []byte, max int) ([]byte, error)
}

// ErrInputBoundary is returned by a Source's Read when the bytes delivered
// so far end one input and the next read starts another (see Source).
var ErrInputBoundary = errors.New("input boundary: the source goes on with another input")

// Limits of the parse loop (see Options and docs/design.md).
const (
	// DefaultMaxRowBytes is the most text a row carries (128 KiB): its line,
	// or its columns together, plus its attachment's name and dates. Text
	// beyond it is cut at a UTF-8 boundary and the row is counted in
	// Stats.TruncatedRows. JSON escapes a byte into at most 6, so a row's
	// JSON stays well below the 1 MiB frames of the JSON-RPC server.
	DefaultMaxRowBytes = 128 << 10
	// MaxAttachmentMessages is the longest list of message indexes an
	// attachment keeps; a longer one is cut and the row counted as truncated.
	MaxAttachmentMessages = 4096
	// FullWindowFailures is how many consecutive failures (a parse error, or
	// an incomplete message with no more input to give, each skipping one
	// byte) the parser is fed its normal window, as Chipmunk feeds it; 2000 is
	// where Chipmunk's guard stops such a run. After that the parser is
	// probed with ResyncWindow bytes per call until it produces a row, so a
	// long failing region costs a bounded number of bytes per byte skipped.
	FullWindowFailures = 2000
	// ResyncWindow is the window handed to a parser after FullWindowFailures
	// consecutive failures (4 KiB).
	ResyncWindow = 4 << 10
	// DefaultMaxFailures is how many consecutive failures end a run with
	// ErrTooManyFailures (1 Mi: a megabyte of input in a row without a row).
	DefaultMaxFailures = 1 << 20
	// ReadAhead is how many bytes the driver reads beyond the window when
	// the source has them at once (a file), so that it knows whether more
	// input follows the place where it cut the window (see
	// Stats.CutDependentRows).
	ReadAhead = 64 << 10
)

// Options tune the parse loop. The zero value gives the defaults.
type Options struct {
	// InitialChunk is the largest slice handed to the parser at first
	// (default MaxChunk: what Chipmunk hands over from a file). The window
	// then adapts: a call that consumes less than an eighth of its window
	// shrinks the next one (to eight times what was consumed, at least
	// MinChunk), so a plugin that returns one item per call is not fed
	// megabytes per item; a call that consumes most of its window, or
	// answers "incomplete", doubles it, up to MaxChunk.
	InitialChunk int
	// MinChunk is the smallest window (default 16 KiB).
	MinChunk int
	// MaxChunk bounds the slice handed to the parser (default 10 MiB, as
	// Chipmunk's buffer). A plugin message larger than that cannot be
	// parsed whole; a Finisher (the text parser) is asked to end it there,
	// and any other parser gets the repeat call (see Run).
	MaxChunk int
	// MaxRowBytes is the most text a row carries (default
	// DefaultMaxRowBytes); longer rows are cut and counted.
	MaxRowBytes int
	// MaxFailures is how many consecutive failures end the run with
	// ErrTooManyFailures (default DefaultMaxFailures; negative: no limit).
	MaxFailures int
	// ChipmunkGuards reproduces Chipmunk's guard counters exactly: more than
	// 2000 consecutive parse errors or 50 consecutive incompletes end the
	// run, and more than 1024 skipped bytes before the first item abort it.
	// Off by default: these limits kill healthy sessions (see the docs).
	ChipmunkGuards bool
	// BatchItems caps how many rows are handed to the sink at once
	// (default 4096).
	BatchItems int
	// Progress, when set, receives the stats so far after every read and
	// every parse call, on the goroutine that called Run. It must be quick:
	// the parse loop waits for it.
	Progress func(Stats)
	// FullWindows turns streaming reads off. It exists only for the
	// benchmark suite, which compares the two on finished inputs
	// (docs/performance.md, "Live sources"): the driver reads until it holds
	// a whole window (plus ReadAhead) or the input has ended before it
	// parses, and never flushes the sink before the run ends. Rows of a pipe
	// or a followed file then wait for a window to fill, or for ever.
	FullWindows bool
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxChunk <= 0 {
		r.MaxChunk = 10 << 20
	}
	if r.MinChunk <= 0 {
		r.MinChunk = min(16<<10, r.MaxChunk)
	}
	if r.InitialChunk <= 0 {
		r.InitialChunk = r.MaxChunk
	}
	r.MaxChunk = max(r.MaxChunk, r.InitialChunk, r.MinChunk)
	r.InitialChunk = max(r.InitialChunk, r.MinChunk)
	if r.MaxRowBytes <= 0 {
		r.MaxRowBytes = DefaultMaxRowBytes
	}
	if r.MaxFailures == 0 {
		r.MaxFailures = DefaultMaxFailures
	}
	if r.BatchItems <= 0 {
		r.BatchItems = 4096
	}
	return r
}

// Row is one item with its 0-based index in the run's output.
type Row struct {
	Index uint64
	Item  *runtime.Item
}

// Sink receives rows in order. The rows and the items they point to are
// valid only during the call: copy what must be kept.
type Sink interface {
	Rows(ctx context.Context, rows []Row) error
}

// Flusher is implemented by sinks that buffer rows (the CLI's output). Run
// calls Flush when it has parsed everything the source has delivered so far
// and is about to wait for more: the last read returned less than asked, so
// the next one may block (a pipe, a growing file, a live byte source).
// Buffered rows then reach their reader as soon as their bytes arrived,
// while a file read at full speed is flushed only by the sink's own buffer.
type Flusher interface {
	Flush(ctx context.Context) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, rows []Row) error

// Rows calls f.
func (f SinkFunc) Rows(ctx context.Context, rows []Row) error { return f(ctx, rows) }

// Stats count what a run did. Every byte read is either consumed by a row
// or skipped: when a run ends without an error, Bytes == Consumed +
// SkippedBytes (Run checks it).
type Stats struct {
	Bytes         uint64 // bytes read from the source
	Consumed      uint64 // bytes consumed by items that became rows
	SkippedBytes  uint64 // bytes that produced no row: consumed without an item, dropped after an error, or left when the parser said eof
	Items         uint64 // rows produced (messages and attachments)
	TruncatedRows uint64 // rows cut to MaxRowBytes (or MaxAttachmentMessages)
	// CutDependentRows counts items that ended exactly where the driver had
	// cut the window while more input was in hand, and that came out
	// different when parsed again from their start with a window reaching
	// past that cut (the re-parsed rows are the ones emitted), or that
	// filled a whole window of MaxChunk and could not be parsed again
	// (emitted as they were). A parser whose rows do not depend on where
	// its input is cut never adds to it.
	CutDependentRows uint64
	ParseErrors      uint64 // recoverable parse errors
	Calls            uint64 // parse calls (produce-next calls in a producer run)
	MaxChunk         int    // largest slice handed to the parser
	Copied           uint64 // bytes handed to the parser over all calls
	// Producer runs (RunProducer) count their answers' entries that are
	// not items; Calls counts produce-next calls, and no bytes are read.
	Skipped, Incomplete, Empty uint64
}

// CutDependentWarning says what a non-zero CutDependentRows means, for a
// warning that names the parser; "" when it is 0.
func (s *Stats) CutDependentWarning() string {
	if s.CutDependentRows == 0 {
		return ""
	}
	return fmt.Sprintf("%d row(s) came out different when parsed again past the point where the input was cut "+
		"(or filled a whole window of the largest size); its rows depend on where the input is cut (chiphost used the re-parsed rows)", s.CutDependentRows)
}

// ErrNoProgress is returned when a parser keeps consuming nothing although it
// was given all the input there is.
var ErrNoProgress = errors.New("parser made no progress: it consumed 0 bytes of all remaining input")

// ErrTooManyFailures is returned (wrapping the parser's last error) when a
// parser failed Options.MaxFailures times in a row.
var ErrTooManyFailures = errors.New("parser failed too many times in a row")

// Run pulls bytes from src, parses them with p and hands rows to sink until
// the input ends, the parser reports eof, or an error occurs. It returns the
// stats so far in every case; the error is nil only when the run ended
// normally, and then every byte read was consumed or skipped.
//
// Two rules make a plugin's rows independent of where the input is cut
// (docs/design.md, "How does a plugin learn that the input has ended?"):
//
//   - The repeat call. When a parser that is not a Finisher answers
//     "incomplete" and no more bytes can be given to it (the input has
//     ended, or the message already fills a window of MaxChunk), it is
//     called once more with exactly the same bytes. That is the only time
//     a parser is handed the bytes it just answered "incomplete" for, so it
//     may take it as "this is all there will be". If it answers
//     "incomplete" again, or consumes nothing, one byte is skipped as
//     before. There is no repeat call while resyncing after
//     FullWindowFailures failures.
//   - The re-parse at a cut. When the driver cut the window while more
//     bytes were in hand and the last item ends exactly at the cut, that
//     item is not emitted: the items before it are, and parsing goes on
//     from its start with a window that reaches past the cut. If the item
//     parsed there consumes a different number of bytes, it is counted in
//     Stats.CutDependentRows. Finishers are exempt (see Finisher). A short
//     read (a pipe, a growing file) is parsed as it is: a window that ends
//     where the bytes in hand end is not a cut the driver made.
func Run(ctx context.Context, src Source, p Parser, sink Sink, opts *Options) (Stats, error) {
	o := opts.withDefaults()
	r := &run{src: src, p: p, sink: sink, o: o, chunk: o.InitialChunk}
	_, r.finisher = p.(Finisher)
	err := r.loop(ctx)
	if err == nil {
		err = r.stats.checkAccounting()
	}
	return r.stats, err
}

// checkAccounting verifies that every byte read was consumed or skipped.
func (s *Stats) checkAccounting() error {
	if s.Consumed+s.SkippedBytes != s.Bytes {
		return fmt.Errorf("driver: bytes unaccounted for: read %d, consumed %d, skipped %d", s.Bytes, s.Consumed, s.SkippedBytes)
	}
	return nil
}

type run struct {
	src   Source
	p     Parser
	sink  Sink
	o     Options
	stats Stats

	buf      []byte // unconsumed input at buf[off:]
	off      int
	eof      bool // the input has ended (or, with boundary, one input has)
	boundary bool // eof marks an ErrInputBoundary: reading goes on once the bytes in hand are finished
	caughtUp bool // the last read returned less than asked: the next may wait
	chunk    int
	rows     []Row

	consecutiveErrors      int // Chipmunk's guard counters
	consecutiveIncompletes int

	repeating   bool           // the repeat call is under way (see Run)
	incomplete  lastIncomplete // the last window answered incomplete
	repeatCause error          // the incomplete answer that led to it
	check       cutCheck       // an item held back at a cut, to compare with its re-parse
	finisher    bool           // p is a Finisher: no re-parse at cuts

	failures           int  // consecutive calls that skipped a byte
	lastFailIncomplete bool // the last of them was an incomplete message
	chunkBeforeResync  int  // window to return to when the parser recovers
}

func (r *run) pending() []byte { return r.buf[r.off:] }

// nextInput goes on reading after ErrInputBoundary, once the bytes of the
// input that ended are finished.
func (r *run) nextInput() {
	r.eof, r.boundary = false, false
	if rs, ok := r.p.(Restarter); ok {
		rs.Restart()
	}
}

// readMore does one read of up to want bytes (want > 0) and reports how many
// arrived. A streaming source (stdin, a byte-source plugin) returns what it
// has, so rows are produced as soon as their bytes arrive.
func (r *run) readMore(ctx context.Context, want int) (int, error) {
	if r.eof {
		return 0, nil
	}
	if r.off > 0 && r.off >= len(r.buf)/2 {
		n := copy(r.buf, r.buf[r.off:])
		r.buf = r.buf[:n]
		r.off = 0
	}
	if r.caughtUp && !r.o.FullWindows {
		if err := r.flush(ctx); err != nil {
			return 0, err
		}
	}
	before := len(r.buf)
	var err error
	r.buf, err = r.src.Read(ctx, r.buf, want)
	got := len(r.buf) - before
	r.stats.Bytes += uint64(got)
	r.caughtUp = got < want
	r.report()
	if err != nil {
		if errors.Is(err, io.EOF) {
			r.eof = true
			return got, nil
		}
		if errors.Is(err, ErrInputBoundary) {
			r.eof, r.boundary = true, true
			return got, nil
		}
		return got, fmt.Errorf("read source: %w", err)
	}
	if got == 0 {
		r.eof = true
	}
	return got, nil
}

// readWindow reads up to want bytes (want > 0) and reports how many
// arrived: one read, or with Options.FullWindows as many as it takes to get
// them all or to reach the end of the input.
func (r *run) readWindow(ctx context.Context, want int) (int, error) {
	total := 0
	for {
		got, err := r.readMore(ctx, want-total)
		total += got
		if err != nil || !r.o.FullWindows || got == 0 || r.eof || total >= want {
			return total, err
		}
	}
}

// flush hands buffered rows to their reader before a read that may wait.
func (r *run) flush(ctx context.Context) error {
	if f, ok := r.sink.(Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("flush rows: %w", err)
		}
	}
	return nil
}

// report passes the stats to Options.Progress.
func (r *run) report() {
	if r.o.Progress != nil {
		r.o.Progress(r.stats)
	}
}

func (r *run) loop(ctx context.Context) error {
	defer r.report()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.boundary && len(r.pending()) == 0 {
			r.nextInput()
		}
		// After a short read the next one may wait (a pipe, a followed
		// file): parse what is in hand first; the parser asks for more
		// (incomplete) if it needs it.
		if n, want := len(r.pending()), r.chunk+ReadAhead; n < want && (n == 0 || !r.caughtUp || r.o.FullWindows) {
			if _, err := r.readWindow(ctx, want-n); err != nil {
				return err
			}
		}
		data := r.pending()
		if len(data) == 0 {
			if r.boundary {
				continue
			}
			return nil
		}
		window := r.unlikeLastIncomplete(data[:min(len(data), r.chunk)], len(data))
		items, err := r.parse(ctx, window)
		if err != nil {
			done, err := r.onError(ctx, err, len(window), len(data))
			r.report()
			if done || err != nil {
				return err
			}
			continue
		}
		if err := r.onItems(ctx, items, len(window), len(data)); err != nil {
			return err
		}
	}
}

// parse hands window to the parser and remembers a window it answers
// incomplete for.
func (r *run) parse(ctx context.Context, window []byte) ([]runtime.Item, error) {
	r.stats.MaxChunk = max(r.stats.MaxChunk, len(window))
	r.stats.Calls++
	r.stats.Copied += uint64(len(window))
	items, err := r.p.Parse(ctx, window, nil)
	r.incomplete = lastIncomplete{}
	if runtime.PluginErrorCode(err) == "incomplete" && len(window) > 0 {
		r.incomplete = lastIncomplete{set: true, at: r.offset(), n: len(window), first: window[0]}
	}
	return items, err
}

// lastIncomplete describes the window of a call answered incomplete.
type lastIncomplete struct {
	set   bool
	at    uint64 // input offset
	n     int    // length
	first byte   // its first byte
}

// unlikeLastIncomplete keeps the promise of the repeat call (see Run): the
// only call handed the bytes the parser just answered incomplete for is the
// repeat call. After such an answer the driver gives more bytes from the
// same offset, or skips a byte; the next window, one byte further and as
// long, holds the same bytes when all of them equal the skipped one (a run
// of one byte value, e.g. while resyncing with ResyncWindow). That window is
// shortened: by one byte when more data is pending (the next window is a
// whole one again), by two when it is all the pending data (so the next
// one, all the pending data again, is one byte longer than this).
func (r *run) unlikeLastIncomplete(window []byte, pending int) []byte {
	li := r.incomplete
	if !li.set || li.at+1 != r.offset() || len(window) != li.n || li.n < 3 {
		return window
	}
	for _, b := range window {
		if b != li.first {
			return window
		}
	}
	if len(window) < pending {
		return window[:len(window)-1]
	}
	return window[:len(window)-2]
}

// onItems emits what a parse call returned: all of it, or, when the window
// was cut with more input in hand and the last item ends at the cut, the
// items before that one (see Run).
func (r *run) onItems(ctx context.Context, items []runtime.Item, window, pending int) error {
	total, err := checkConsumed(items, window)
	if err != nil {
		return err
	}
	emitted, held, heldConsumed := total, -1, uint64(0)
	if total == window && window < pending && !r.finisher {
		held = lastConsuming(items)
		heldConsumed = items[held].Consumed
		emitted = total - int(heldConsumed)
	}
	switch {
	case held >= 0 && emitted == 0 && r.chunk < r.o.MaxChunk:
		// The item fills the window: parse it again with a larger one.
		r.chunk = min(r.chunk*2, r.o.MaxChunk)
		r.report()
		return nil
	case held >= 0 && emitted == 0:
		// It fills the largest window: nothing to compare it with.
		r.check = cutCheck{}
		r.stats.CutDependentRows++
		emitted, held = total, -1
	case held >= 0:
		items = items[:held]
	}
	if err := r.emit(ctx, items, emitted); err != nil {
		return err
	}
	if held >= 0 {
		r.check = cutCheck{active: true, at: r.offset(), consumed: heldConsumed}
	}
	r.report()
	if total == 0 {
		if r.repeating {
			// Nothing from the repeat call either: as an incomplete answer.
			return r.fail(r.repeatCause, true)
		}
		// Chipmunk spins here forever. Give the parser more input; if
		// there is none, it cannot make progress.
		more, err := r.grow(ctx, window, pending)
		if err != nil {
			return err
		}
		if !more {
			return ErrNoProgress
		}
		return nil
	}
	r.recovered()
	r.adapt(total, window)
	return nil
}

// cutCheck remembers an item that ended where the driver cut the window, so
// that the item parsed again at its offset can be compared with it.
type cutCheck struct {
	active   bool
	at       uint64 // input offset of the item
	consumed uint64 // what it consumed
}

// settleCheck compares the first item parsed at a held-back item's offset
// (consumed bytes, or 0 when bytes are skipped there) with that item.
func (r *run) settleCheck(consumed uint64) {
	if !r.check.active || r.offset() != r.check.at {
		return
	}
	if consumed != r.check.consumed {
		r.stats.CutDependentRows++
	}
	r.check = cutCheck{}
}

// lastConsuming returns the index of the last item that consumed bytes
// (items consume some bytes in all).
func lastConsuming(items []runtime.Item) int {
	for i := len(items) - 1; i > 0; i-- {
		if items[i].Consumed > 0 {
			return i
		}
	}
	return 0
}

// checkConsumed returns what the items consumed in all, or an abi error
// when they claim more than the window.
func checkConsumed(items []runtime.Item, window int) (int, error) {
	total, err := runtime.CheckConsumed(items, window)
	if err != nil {
		// Plugins are checked by runtime.ParserInstance, which names them.
		return 0, &runtime.Error{Kind: runtime.KindABI, Op: "parse", Err: err}
	}
	return total, nil
}

// adapt sizes the next window from how much of this one the parser used.
func (r *run) adapt(consumed, window int) {
	switch {
	case consumed*8 < window:
		r.chunk = max(r.o.MinChunk, min(r.chunk, consumed*8))
	case consumed*2 >= window && window == r.chunk:
		r.chunk = min(r.chunk*2, r.o.MaxChunk)
	}
}

// emit hands the rows to the sink (cut to MaxRowBytes) and advances past
// the total bytes the items consumed. A call that consumed nothing emits
// nothing: Chipmunk would emit such items again on every call, forever.
func (r *run) emit(ctx context.Context, items []runtime.Item, total int) error {
	if total == 0 {
		return nil
	}
	for i := range items {
		if items[i].Consumed > 0 {
			r.settleCheck(items[i].Consumed)
			break
		}
	}
	r.rows = r.rows[:0]
	for i := range items {
		it := &items[i]
		if it.Message == nil && it.Attachment == nil {
			r.stats.SkippedBytes += it.Consumed
			continue
		}
		r.stats.Consumed += it.Consumed
		if cut, ok := cutRow(it, r.o.MaxRowBytes); ok {
			it = cut
			r.stats.TruncatedRows++
		}
		r.rows = append(r.rows, Row{Index: r.stats.Items, Item: it})
		r.stats.Items++
		if len(r.rows) == r.o.BatchItems {
			if err := r.sink.Rows(ctx, r.rows); err != nil {
				return err
			}
			r.rows = r.rows[:0]
		}
	}
	if len(r.rows) > 0 {
		if err := r.sink.Rows(ctx, r.rows); err != nil {
			return err
		}
	}
	r.off += total
	return nil
}

// grow prepares a larger next window after the parser could not make
// progress with this one: more of the buffer, or more input. It reports
// whether the parser will be given more than it has seen: false when it has
// seen all the input, or a window of MaxChunk.
func (r *run) grow(ctx context.Context, window, pending int) (bool, error) {
	if window < pending {
		if r.chunk < r.o.MaxChunk {
			r.chunk = min(r.chunk*2, r.o.MaxChunk)
			return true, nil
		}
		return false, nil // a message larger than MaxChunk
	}
	if r.eof {
		return false, nil
	}
	if window >= r.chunk {
		if r.chunk >= r.o.MaxChunk {
			return false, nil
		}
		r.chunk = min(r.chunk*2, r.o.MaxChunk)
	}
	n, err := r.readWindow(ctx, r.chunk+ReadAhead-pending)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// drop skips n pending bytes.
func (r *run) drop(n int) {
	r.settleCheck(0)
	r.off += n
	r.stats.SkippedBytes += uint64(n)
}

// fail skips one byte after a call that could not parse at this offset (a
// parse error, or a message still incomplete with no more input to give), as
// Chipmunk does, so a parser that recovers further on gives Chipmunk's rows.
// The first FullWindowFailures in a row keep the window; later ones get
// ResyncWindow bytes, so a parser that fails on every byte of a long region
// is not handed its whole window per byte (quadratic). MaxFailures in a row
// end the run.
func (r *run) fail(cause error, incomplete bool) error {
	r.drop(1)
	r.failures++
	r.lastFailIncomplete = incomplete
	if r.o.MaxFailures > 0 && r.failures >= r.o.MaxFailures {
		return fmt.Errorf("%w: %d consecutive parse errors or incomplete messages at input offsets %d…%d, one byte skipped after each, without a row (limit %d): last error: %w",
			ErrTooManyFailures, r.failures, r.offset()-uint64(r.failures), r.offset()-1, r.o.MaxFailures, cause)
	}
	if r.failures == FullWindowFailures {
		r.chunkBeforeResync = r.chunk
	}
	if r.failures >= FullWindowFailures {
		r.chunk = ResyncWindow
	}
	return nil
}

// resyncing reports whether the parser is being probed with small windows
// after a long run of failures.
func (r *run) resyncing() bool { return r.failures >= FullWindowFailures }

// mayGrow reports whether an incomplete answer may grow the window. While
// resyncing, a parser that answers incomplete again after an incomplete
// failure is not grown to its whole window at every byte; one that answers
// incomplete after a parse error (a message may start here) is. Only
// parsers that cannot Finish have incomplete failures.
func (r *run) mayGrow() bool { return !r.resyncing() || !r.lastFailIncomplete }

// recovered ends a run of failures after a call that consumed bytes.
func (r *run) recovered() {
	if r.resyncing() {
		r.chunk = max(r.chunk, r.chunkBeforeResync)
	}
	r.failures = 0
	r.consecutiveErrors, r.consecutiveIncompletes = 0, 0
}

// offset is the input offset of the next unconsumed byte.
func (r *run) offset() uint64 { return r.stats.Consumed + r.stats.SkippedBytes }

func (r *run) onError(ctx context.Context, err error, window, pending int) (bool, error) {
	switch runtime.PluginErrorCode(err) {
	case "eof":
		// The parser declares the end of its input: what was read and not
		// consumed is skipped, and the source is not read further.
		r.drop(len(r.pending()))
		return true, nil
	case "incomplete":
		return r.onIncomplete(ctx, err, window, pending)
	case "parse":
		r.stats.ParseErrors++
		r.consecutiveErrors++
		if r.o.ChipmunkGuards {
			if r.stats.Items == 0 && r.stats.SkippedBytes > 1024 {
				return true, fmt.Errorf("aborting: initial parse failed after 1024 skipped bytes (Chipmunk guard): %w", err)
			}
			if r.consecutiveErrors > 2000 {
				return true, fmt.Errorf("parser returned more than 2000 parse errors in a row (Chipmunk guard): %w", err)
			}
		}
		return false, r.fail(err, false)
	}
	return true, err
}

// onIncomplete gives the parser more input when there is more to give. When
// there is not, a Finisher ends the message (at the end of the input, or at
// MaxChunk, and the run goes on); any other parser gets the repeat call (see
// Run), and skips a byte if that does not help.
func (r *run) onIncomplete(ctx context.Context, err error, window, pending int) (bool, error) {
	if r.repeating {
		// The repeat call's answer: the pair counts as one incomplete.
		return false, r.fail(err, true)
	}
	r.consecutiveIncompletes++
	if r.o.ChipmunkGuards && r.consecutiveIncompletes+r.consecutiveErrors > 50 {
		return true, fmt.Errorf("parser returned more than 50 incomplete errors in a row (Chipmunk guard): %w", err)
	}
	if r.mayGrow() {
		more, gerr := r.grow(ctx, window, pending)
		if gerr != nil {
			return true, gerr
		}
		if more {
			return false, nil
		}
	}
	f, ok := r.p.(Finisher)
	if !ok {
		if r.resyncing() {
			return false, r.fail(err, true)
		}
		return r.repeat(ctx, err, window, len(r.pending()))
	}
	atEnd := r.eof && window == pending
	items, ferr := f.Finish(ctx, r.pending()[:window])
	if ferr != nil {
		return true, ferr
	}
	n, eerr := checkConsumed(items, window)
	if eerr == nil {
		eerr = r.emit(ctx, items, n)
	}
	if eerr != nil {
		return true, eerr
	}
	if atEnd {
		r.drop(len(r.pending()))
		return !r.boundary, nil
	}
	if n == 0 {
		return true, ErrNoProgress
	}
	r.recovered()
	return false, nil
}

// repeat is the repeat call: the parser answered incomplete for the first
// window bytes and cannot be given more, so it is handed the same bytes
// once more (see Run).
func (r *run) repeat(ctx context.Context, cause error, window, pending int) (bool, error) {
	r.repeating, r.repeatCause = true, cause
	defer func() { r.repeating, r.repeatCause = false, nil }()
	items, err := r.parse(ctx, r.pending()[:window])
	if err != nil {
		return r.onError(ctx, err, window, pending)
	}
	return false, r.onItems(ctx, items, window, pending)
}
