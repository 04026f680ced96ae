package bench

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// growth is the writer's record of a followed file growing at a steady
// rate: one entry per write.
type growth struct {
	mu    sync.Mutex
	ticks []growthTick
}

// growthTick is one write: when it began, and the file's lines and bytes
// once it was done.
type growthTick struct {
	at    time.Time
	lines uint64
	bytes uint64
}

func (g *growth) add(t growthTick) {
	g.mu.Lock()
	g.ticks = append(g.ticks, t)
	g.mu.Unlock()
}

// written is the file's lines and bytes so far.
func (g *growth) written() (lines, bytes uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.ticks) == 0 {
		return 0, 0
	}
	t := g.ticks[len(g.ticks)-1]
	return t.lines, t.bytes
}

// lag is how far behind the file a reader is that has received its first
// lines lines, at now: the time since the first line it lacks was written
// (0 when it lacks none), and the bytes written since the end of its last
// line (within a write, lines are taken to be of equal length).
func (g *growth) lag(lines uint64, now time.Time) (time.Duration, uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := sort.Search(len(g.ticks), func(i int) bool { return g.ticks[i].lines > lines })
	if k == len(g.ticks) {
		return 0, 0
	}
	var prev growthTick
	if k > 0 {
		prev = g.ticks[k-1]
	}
	cur, last := g.ticks[k], g.ticks[len(g.ticks)-1]
	frac := float64(lines-prev.lines) / float64(cur.lines-prev.lines)
	at := prev.bytes + uint64(frac*float64(cur.bytes-prev.bytes))
	return max(0, now.Sub(cur.at)), last.bytes - at
}

// writeSteady appends numbered lines to w every 10 ms so that the file
// grows at rate bytes per second for d, and logs each write in g.
func writeSteady(ctx context.Context, w *os.File, gen *seqLines, rate float64, d time.Duration, g *growth) error {
	_, total := g.written()
	base := total
	var buf []byte
	start := time.Now()
	for k := 1; ; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(time.Until(start.Add(time.Duration(k) * 10 * time.Millisecond)))
		elapsed := min(time.Since(start), d)
		target := base + uint64(rate*elapsed.Seconds())
		buf = buf[:0]
		for total+uint64(len(buf)) < target {
			buf = gen.appendLine(buf)
		}
		at := time.Now()
		if _, err := w.Write(buf); err != nil {
			return err
		}
		total += uint64(len(buf))
		g.add(growthTick{at: at, lines: gen.next, bytes: total})
		if elapsed >= d {
			return nil
		}
	}
}

// inOrder counts the rows a reader received while checking that they come
// in the order of their line numbers, none missing, and notes when the
// last one came.
type inOrder struct {
	next  atomic.Uint64 // rows received in order
	last  atomic.Int64  // when the last of them came, in ns after base
	base  time.Time
	bad   atomic.Int64
	first chan struct{}
}

func newInOrder() *inOrder { return &inOrder{base: time.Now(), first: make(chan struct{})} }

func (c *inOrder) row(seq uint64, at time.Time) {
	n := c.next.Load()
	if seq != n {
		c.bad.Add(1)
		return
	}
	c.last.Store(int64(at.Sub(c.base)))
	c.next.Store(n + 1)
	if n == 0 {
		close(c.first)
	}
}

// lastAt is when the last row in order came.
func (c *inOrder) lastAt() time.Time { return c.base.Add(time.Duration(c.last.Load())) }

// followSamples is what the sampler saw during a fast follow.
type followSamples struct {
	at              []time.Duration // since the writer started, every 100 ms
	lag, sessionLag []float64       // seconds, every 100 ms
	lagBytes        []float64       // MB, every 100 ms
	rss             []float64       // MiB, every second (and once at the end)
}

// sampleFollow samples the reader's lag every 100 ms and the RSS of pid
// every second until stop is closed.
func sampleFollow(g *growth, rows *inOrder, sessionRows *atomic.Uint64, pid int, stop <-chan struct{}) *followSamples {
	s := &followSamples{}
	start := time.Now()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		now := time.Now()
		lag, bytes := g.lag(rows.next.Load(), now)
		s.at = append(s.at, now.Sub(start))
		s.lag = append(s.lag, lag.Seconds())
		s.lagBytes = append(s.lagBytes, float64(bytes)/1e6)
		if sessionRows != nil {
			sl, _ := g.lag(sessionRows.Load(), now)
			s.sessionLag = append(s.sessionLag, sl.Seconds())
		}
		if i%10 == 0 {
			s.rss = append(s.rss, procMiB(pid, "VmRSS"))
		}
		select {
		case <-stop:
			s.rss = append(s.rss, procMiB(pid, "VmRSS"))
			return s
		case <-t.C:
		}
	}
}

// rssAt is the RSS sampled about d after the writer started.
func (s *followSamples) rssAt(d time.Duration) float64 {
	return s.rss[min(int(d/time.Second), len(s.rss)-1)]
}

// caughtUp is how long after from the lag was back under 50 ms.
func (s *followSamples) caughtUp(from time.Duration) time.Duration {
	for i, at := range s.at {
		if at > from && s.lag[i] < 0.05 {
			return at - from
		}
	}
	return -1
}

// argmax is the index of the largest of xs (not empty).
func argmax(xs []float64) int {
	k := 0
	for i, x := range xs {
		if x > xs[k] {
			k = i
		}
	}
	return k
}

// followSpec is one fast follow: chiphost follows a file that a writer
// makes grow at Rate bytes/s for D, through the CLI or the server; with a
// Stall, chiphost is stopped (SIGSTOP) for that long at StallAt.
type followSpec struct {
	Server         bool
	Parser         liveParser
	Rate           float64
	D              time.Duration
	StallAt, Stall time.Duration
}

func (f followSpec) name() string {
	reader := readerCLI
	if f.Server {
		reader = readerStream
	}
	name := fmt.Sprintf("follow, %g MB/s for %g s → %s, %s", f.Rate/1e6, f.D.Seconds(), reader, f.Parser.Name)
	if f.Stall > 0 {
		name += fmt.Sprintf(", chiphost stopped for %g s at %g s", f.Stall.Seconds(), f.StallAt.Seconds())
	}
	return name
}

// followRun is what one fast follow measured.
type followRun struct {
	samples   *followSamples
	writing   time.Duration // the writer's time
	drain     time.Duration // from the end of the writer's last write to the last row
	cpu, self time.Duration // CPU time of chiphost and of the bench (writer + reader)
	wall      time.Duration
	bytes     uint64
	rows      uint64
}

func (b *bencher) followOnce(ctx context.Context, f followSpec) (*followRun, error) {
	in, err := newLiveInput(b.TempDir(), false)
	if err != nil {
		return nil, err
	}
	defer in.remove()
	rows := newInOrder()
	var sessionRows *atomic.Uint64
	var lr *liveReader
	if f.Server {
		sessionRows = new(atomic.Uint64)
		o := serverOpts{OnUpdate: func(u *protocol.SessionsUpdatedParams) { sessionRows.Store(u.Rows) }}
		lr, err = b.startServerReader(ctx, in, f.Parser, o, rows.row)
	} else {
		lr, err = b.startCLI(ctx, in, f.Parser, rows.row)
	}
	if err != nil {
		return nil, err
	}
	run, err := b.follow(ctx, f, in, lr, rows, sessionRows)
	if ferr := lr.finish(ctx); err == nil {
		err = ferr
	}
	if err == nil && rows.bad.Load() > 0 {
		err = fmt.Errorf("%d rows out of order, repeated or without a line number", rows.bad.Load())
	}
	return run, err
}

// follow runs the writer, the sampler and the stall, then waits for the
// last row.
func (b *bencher) follow(ctx context.Context, f followSpec, in *liveInput, lr *liveReader, rows *inOrder, sessionRows *atomic.Uint64) (*followRun, error) {
	gen := newSeqLines()
	line := gen.appendLine(nil)
	if _, err := in.W.Write(line); err != nil {
		return nil, err
	}
	g := &growth{}
	g.add(growthTick{at: time.Now(), lines: 1, bytes: uint64(len(line))})
	if err := await(ctx, rows.first, time.Minute, "line 0"); err != nil {
		return nil, err
	}
	cpu0, self0, t0 := procCPU(lr.Pid), selfCPU(), time.Now()
	stop := make(chan struct{})
	sampled := make(chan *followSamples, 1)
	go func() { sampled <- sampleFollow(g, rows, sessionRows, lr.Pid, stop) }()
	stalled := make(chan error, 1)
	if f.Stall > 0 {
		go func() {
			time.Sleep(time.Until(t0.Add(f.StallAt)))
			stalled <- stall(lr.Pid, f.Stall)
		}()
	} else {
		stalled <- nil
	}
	err := writeSteady(ctx, in.W, gen, f.Rate, f.D, g)
	wrote := time.Now()
	if serr := <-stalled; err == nil {
		err = serr
	}
	lines, bytes := g.written()
	for err == nil && rows.next.Load() < lines {
		if time.Since(wrote) > 2*time.Minute {
			err = fmt.Errorf("the reader had %d rows of %d two minutes after the writer stopped", rows.next.Load(), lines)
			break
		}
		time.Sleep(10 * time.Millisecond) // polling a counter: a benchmark, not a test
	}
	run := &followRun{writing: wrote.Sub(t0), drain: max(0, rows.lastAt().Sub(wrote)), wall: time.Since(t0), bytes: bytes, rows: rows.next.Load()}
	run.cpu, run.self = procCPU(lr.Pid)-cpu0, selfCPU()-self0
	close(stop)
	run.samples = <-sampled
	return run, err
}

// followFigures follows a file growing at 20 MB/s for 60 s with the CLI
// and the server, with each parser, then once more with the string_parser
// and chiphost stopped for half a second (a backlog of 10 MB to catch up).
func (b *bencher) followFigures(ctx context.Context, parsers []liveParser) error {
	const section = 7
	rate, d := 20e6, 60*time.Second
	stallAt, stallFor, stallD := 10*time.Second, 500*time.Millisecond, 20*time.Second
	if b.Quick() {
		rate, d = 5e6, 500*time.Millisecond
		stallAt, stallFor, stallD = 200*time.Millisecond, 100*time.Millisecond, 500*time.Millisecond
	}
	var specs []followSpec
	for _, server := range []bool{false, true} {
		for _, p := range parsers {
			specs = append(specs, followSpec{Server: server, Parser: p, Rate: rate, D: d})
		}
	}
	if canStall {
		for _, p := range parsers {
			if p.Wasm == "" {
				continue // the plugin's buffers are the ones a backlog grows
			}
			for _, server := range []bool{false, true} {
				specs = append(specs, followSpec{Server: server, Parser: p, Rate: rate, D: stallD, StallAt: stallAt, Stall: stallFor})
			}
		}
	} else {
		b.Skip(section, "follow with chiphost stopped: no SIGSTOP on this platform")
	}
	for _, f := range specs {
		b.Logf("%s", f.name())
		r, err := b.followOnce(ctx, f)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name(), err)
		}
		b.Logf("%s: RSS (MiB) every second: %.0f", f.name(), r.samples.rss)
		b.followReport(section, f, r)
	}
	return nil
}

// followReport records one fast follow's figures.
func (b *bencher) followReport(section int, f followSpec, r *followRun) {
	s, name := r.samples, f.name()
	one := func(v float64) []float64 { return []float64{v} }
	b.Figure(section, name+": rows lag the file, p50", "s", one(percentile(s.lag, 50)),
		fmt.Sprintf("%d samples every 100 ms; time since the first line not received was written; one run", len(s.lag)))
	b.Figure(section, name+": rows lag the file, p99", "s", one(percentile(s.lag, 99)), "")
	lagMax := b.Figure(section, name+": rows lag the file, max", "s", one(percentile(s.lag, 100)), fmt.Sprintf("at %.1f s", s.at[argmax(s.lag)].Seconds()))
	b.Figure(section, name+": rows lag the file, max", "MB", one(percentile(s.lagBytes, 100)), "bytes written after the last row received")
	if f.Server {
		b.Figure(section, name+": stored rows (sessions/updated) lag the file, p99", "s", one(percentile(s.sessionLag, 99)), "the session's own lag, without the client's decoding; sessions/updated come at most every 50 ms, so this lag is up to 50 ms stale")
		b.Figure(section, name+": stored rows lag the file, max", "s", one(percentile(s.sessionLag, 100)), "")
	}
	if f.Stall > 0 {
		b.Figure(section, name+": caught up (lag < 50 ms again) after it resumed", "s", one(s.caughtUp(f.StallAt+f.Stall).Seconds()), "")
	}
	b.Figure(section, name+": last row after the writer stopped", "s", one(r.drain.Seconds()), "")
	b.Figure(section, name+": written", "MB/s", one(float64(r.bytes)/1e6/r.writing.Seconds()), fmt.Sprintf("%d rows, all received in order", r.rows))
	b.Figure(section, name+": chiphost CPU", "cores", one(r.cpu.Seconds()/r.wall.Seconds()), "CPU time / wall time; 2 cores shared with the bench's writer and reader")
	b.Figure(section, name+": bench CPU (writer + reader)", "cores", one(r.self.Seconds()/r.wall.Seconds()), "")
	start, end, peak := s.rss[0], s.rss[len(s.rss)-1], percentile(s.rss, 100)
	b.Figure(section, name+": chiphost RSS at start", "MiB", one(start), fmt.Sprintf("VmRSS every second, %d samples", len(s.rss)))
	if f.Stall > 0 {
		b.Figure(section, name+": chiphost RSS before the stop", "MiB", one(s.rssAt(f.StallAt)), "")
	} else {
		b.Figure(section, name+": chiphost RSS at 10 s", "MiB", one(s.rssAt(10*time.Second)), "")
	}
	b.Figure(section, name+": chiphost RSS at end", "MiB", one(end), "")
	b.Figure(section, name+": chiphost RSS max", "MiB", one(peak), "")
	if f.Stall > 0 {
		return
	}
	b.Ratio(section, name+": rows lag max, s (absolute; target < 1 s)", lagMax, 1, "≤ 1", "")
	b.Ratio(section, name+": RSS at end / at 10 s", end, s.rssAt(10*time.Second), "", "steps follow a backlog (bigger windows, see the stop), not the bytes followed")
}
