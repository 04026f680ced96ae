package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// latencyCase is one reader of the latency figures: chiphost parse or a
// client of chiphost serve, on a pipe or a followed file, with a parser.
type latencyCase struct {
	Reader string // "CLI stdout", "server, sessions/stream" or "server, sessions/updated + grab"
	Pipe   bool
	Parser liveParser
}

func (c latencyCase) name() string {
	in := "followed file"
	if c.Pipe {
		in = "pipe"
	}
	return fmt.Sprintf("%s → %s, %s", in, c.Reader, c.Parser.Name)
}

// startCase starts the case's reader on in.
func (b *bencher) startCase(ctx context.Context, c latencyCase, in *liveInput, onRow rowFunc) (*liveReader, error) {
	switch c.Reader {
	case readerCLI:
		return b.startCLI(ctx, in, c.Parser, onRow)
	case readerStream:
		return b.startServerReader(ctx, in, c.Parser, serverOpts{}, onRow)
	default:
		return b.startServerReader(ctx, in, c.Parser, serverOpts{Grab: true}, onRow)
	}
}

// The readers of the latency figures.
const (
	readerCLI    = "CLI stdout"
	readerStream = "server, sessions/stream"
	readerGrab   = "server, sessions/updated + grab"
)

// arrivals records when each numbered line reached the reader.
type arrivals struct {
	at    []time.Time // by line number
	count atomic.Int64
	bad   atomic.Int64  // rows without a number, out of range or seen twice
	first chan struct{} // closed when line 0 arrived
	all   chan struct{} // closed when every line arrived
}

func newArrivals(n int) *arrivals {
	return &arrivals{at: make([]time.Time, n), first: make(chan struct{}), all: make(chan struct{})}
}

// row is the rowFunc (called from one goroutine).
func (a *arrivals) row(seq uint64, at time.Time) {
	if seq >= uint64(len(a.at)) || !a.at[seq].IsZero() {
		a.bad.Add(1)
		return
	}
	a.at[seq] = at
	if seq == 0 {
		close(a.first)
	}
	if a.count.Add(1) == int64(len(a.at)) {
		close(a.all)
	}
}

// await waits for ch, at most limit (a safety net for a reader that never
// delivers: a benchmark's failure, not a measurement).
func await(ctx context.Context, ch <-chan struct{}, limit time.Duration, what string) error {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%s: nothing after %s", what, limit)
	}
}

// latencyRun writes line 0 and waits for it (chiphost is then ready: the
// plugin is loaded and the reader connected), then writes lines 1…n, one
// write each, every interval, recording each write's time, and returns how
// long each line took to reach the reader (same process, monotonic clock).
func (b *bencher) latencyRun(ctx context.Context, c latencyCase, n int, interval time.Duration) ([]time.Duration, error) {
	in, err := newLiveInput(b.TempDir(), c.Pipe)
	if err != nil {
		return nil, err
	}
	defer in.remove()
	arr := newArrivals(n + 1)
	lr, err := b.startCase(ctx, c, in, arr.row)
	if err != nil {
		return nil, err
	}
	lat, err := writePaced(ctx, in, arr, n, interval)
	if ferr := lr.finish(ctx); err == nil {
		err = ferr
	}
	if err == nil && arr.bad.Load() > 0 {
		err = fmt.Errorf("%d rows without a line number, out of range or repeated", arr.bad.Load())
	}
	return lat, err
}

// writePaced is latencyRun's writer.
func writePaced(ctx context.Context, in *liveInput, arr *arrivals, n int, interval time.Duration) ([]time.Duration, error) {
	gen := newSeqLines()
	line := gen.appendLine(nil)
	if _, err := in.W.Write(line); err != nil {
		return nil, err
	}
	if err := await(ctx, arr.first, time.Minute, "line 0"); err != nil {
		return nil, err
	}
	written := make([]time.Time, n+1)
	start := time.Now()
	for i := 1; i <= n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i-1) * interval)))
		line = gen.appendLine(line[:0])
		written[i] = time.Now()
		if _, err := in.W.Write(line); err != nil {
			return nil, err
		}
	}
	if err := await(ctx, arr.all, 30*time.Second, fmt.Sprintf("all %d lines (got %d)", n+1, arr.count.Load())); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, n)
	for i := 1; i <= n; i++ {
		lat[i-1] = arr.at[i].Sub(written[i])
	}
	return lat, nil
}

// latencyFigures measures every case for rounds rounds (interleaved) and
// reports p50, p99 and max per case.
func (b *bencher) latencyFigures(ctx context.Context, parsers []liveParser) error {
	const section = 7
	n, rate := 1000, 100
	if b.Quick() {
		n = 20
	}
	interval := time.Second / time.Duration(rate)
	var cases []latencyCase
	for _, pipe := range []bool{true, false} {
		for _, reader := range []string{readerCLI, readerStream, readerGrab} {
			if reader == readerGrab && pipe {
				continue
			}
			for _, p := range parsers {
				cases = append(cases, latencyCase{Reader: reader, Pipe: pipe, Parser: p})
			}
		}
	}
	rounds := min(b.Runs(), 3)
	p50, p99, pmax := make([][]float64, len(cases)), make([][]float64, len(cases)), make([][]float64, len(cases))
	for round := 0; round < rounds; round++ {
		for i, c := range cases {
			b.Logf("latency %d/%d: %s", round+1, rounds, c.name())
			lat, err := b.latencyRun(ctx, c, n, interval)
			if err != nil {
				return fmt.Errorf("latency, %s: %w", c.name(), err)
			}
			ms := millis(lat)
			p50[i] = append(p50[i], percentile(ms, 50))
			p99[i] = append(p99[i], percentile(ms, 99))
			pmax[i] = append(pmax[i], percentile(ms, 100))
		}
	}
	note := fmt.Sprintf("%d lines at %d lines/s, one write each; write → row decoded by the bench; median of %d runs (min–max of the runs)", n, rate, rounds)
	for i, c := range cases {
		b.Figure(section, "latency p50: "+c.name(), "ms", p50[i], note)
		v := b.Figure(section, "latency p99: "+c.name(), "ms", p99[i], "")
		b.Figure(section, "latency max: "+c.name(), "ms", pmax[i], "")
		why := ""
		if c.Reader == readerGrab {
			why = "sessions/updated are at least 25 ms apart (rpc.Options.UpdateInterval) while lines come every 10 ms"
		}
		b.Ratio(section, "latency p99, ms (absolute; target ≤ 50 ms): "+c.name(), v, 1, "≤ 50", why)
		note = ""
	}
	return nil
}
