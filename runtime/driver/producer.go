package driver

import (
	"context"
	"time"

	"github.com/chiphost/chiphost/runtime"
)

// A producer that answers with neither items nor skipped entries (nothing
// new yet) is called again
// after a pause that doubles from idleMin up to idleMax and ends at the
// first answer with items: a live producer waiting for data does not keep a
// core busy, and its rows arrive at most idleMax late.
const (
	idleMin = time.Millisecond
	idleMax = 50 * time.Millisecond
)

// idleWait waits d or until ctx ends. It is a variable of the run (not a
// global) so tests can record the pauses instead of sleeping.
type idleWait func(ctx context.Context, d time.Duration) error

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Producer returns items it finds itself, a batch per call, until it says
// done (a producer plugin: runtime.ProducerInstance). After an answer with
// Done it is never called again.
type Producer interface {
	ProduceNext(ctx context.Context) (runtime.Produced, error)
}

// RunProducer calls p until it says done, an error occurs or ctx is
// cancelled, and hands its items to sink as rows, numbered and cut to
// Options.MaxRowBytes exactly as a parser's. Only MaxRowBytes, BatchItems and
// Progress of opts apply. Each call has the plugin's call deadline; between
// calls the context is checked. An answer without items (only skipped,
// incomplete or empty entries) flushes a buffering sink first, as a parse
// run does before a read that may wait: a live producer's rows reach their
// reader while it waits for more. The error is nil only when p said done;
// the stats count calls (Calls), rows (Items, TruncatedRows) and the other
// entries (Skipped, Incomplete, Empty); there are no bytes to account for.
// After an answer with neither items nor skipped entries (nothing new yet:
// only empty or incomplete entries, or none) the next call waits a little
// longer each time (1 ms doubling to 50 ms), so a producer with nothing to
// say does not spin.
func RunProducer(ctx context.Context, p Producer, sink Sink, opts *Options) (Stats, error) {
	return runProducer(ctx, p, sink, opts, sleepCtx)
}

func runProducer(ctx context.Context, p Producer, sink Sink, opts *Options, wait idleWait) (Stats, error) {
	o := opts.withDefaults()
	var st Stats
	var idle time.Duration
	var rows []Row
	report := func() {
		if o.Progress != nil {
			o.Progress(st)
		}
	}
	defer report()
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		got, err := p.ProduceNext(ctx)
		st.Calls++
		if err != nil {
			return st, err
		}
		st.Skipped += uint64(got.Skipped)
		st.Incomplete += uint64(got.Incomplete)
		st.Empty += uint64(got.Empty)
		if len(got.Items) == 0 && !got.Done {
			if f, ok := sink.(Flusher); ok {
				if err := f.Flush(ctx); err != nil {
					return st, err
				}
			}
			if got.Skipped > 0 { // it moved on: call again at once
				idle = 0
				continue
			}
			idle = min(max(2*idle, idleMin), idleMax)
			report()
			if err := wait(ctx, idle); err != nil {
				return st, err
			}
			continue
		}
		idle = 0
		rows = rows[:0]
		for i := range got.Items {
			it := &got.Items[i]
			if cut, ok := cutRow(it, o.MaxRowBytes); ok {
				it = cut
				st.TruncatedRows++
			}
			rows = append(rows, Row{Index: st.Items, Item: it})
			st.Items++
			if len(rows) == o.BatchItems {
				if err := sink.Rows(ctx, rows); err != nil {
					return st, err
				}
				rows = rows[:0]
			}
		}
		if len(rows) > 0 {
			if err := sink.Rows(ctx, rows); err != nil {
				return st, err
			}
		}
		report()
		if got.Done {
			return st, nil
		}
	}
}
