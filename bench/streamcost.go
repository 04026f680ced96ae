package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/chiphost/chiphost/internal/benchkit"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// textSink formats rows as chiphost parse's text output (columns joined by
// tabs, one line per row) into a buffered writer to io.Discard, and is a
// driver.Flusher like the CLI's sink, so that streaming reads pay for their
// early flushes as they do in the CLI.
type textSink struct {
	w   *bufio.Writer
	buf []byte
}

func newTextSink() *textSink { return &textSink{w: bufio.NewWriterSize(io.Discard, 256<<10)} }

func (s *textSink) Rows(_ context.Context, rows []driver.Row) error {
	for _, r := range rows {
		s.buf = s.buf[:0]
		if m := r.Item.Message; m != nil {
			if m.Columns != nil {
				s.buf = append(s.buf, strings.Join(m.Columns, "\t")...)
			} else {
				s.buf = append(s.buf, m.Line...)
			}
		}
		s.buf = append(s.buf, '\n')
		if _, err := s.w.Write(s.buf); err != nil {
			return err
		}
	}
	return nil
}

// Flush implements driver.Flusher.
func (s *textSink) Flush(context.Context) error { return s.w.Flush() }

// alternate runs a and b for runs rounds after a warm-up round (none in
// quick mode), a first in even rounds and b first in odd ones, so that
// neither always runs in the other's wake (its garbage, its cache).
func (b *bencher) alternate(ctx context.Context, runs int, x, y runner) ([][]sample, error) {
	out := make([][]sample, 2)
	warm := 1
	if b.Quick() {
		warm = 0
	}
	for round := -warm; round < runs; round++ {
		order := []int{0, 1}
		if round%2 != 0 {
			order = []int{1, 0}
		}
		for _, i := range order {
			r := []runner{x, y}[i]
			s, err := r.Run(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Name, err)
			}
			if round >= 0 {
				out[i] = append(out[i], s)
			}
		}
	}
	return out, nil
}

// cpuSamples collects the CPU seconds of a contender's runs; Interleave's
// warm-up round adds one more sample than it keeps, dropped by kept.
type cpuSamples []float64

func (c cpuSamples) kept(runs int) []float64 { return c[max(0, len(c)-runs):] }

// driverRun parses a finished input in-process with driver.Run, streaming
// reads on or off (Options.FullWindows), and records the CPU time of the
// whole process (the parse loop, the GC, and for a pipe the writer).
func driverRun(open func() (driver.Source, func(), error), size int, newParser func() driver.Parser, full bool, cpu *cpuSamples) runner {
	name := "streaming reads"
	if full {
		name = "full windows"
	}
	return runner{Name: name, Run: func(ctx context.Context) (sample, error) {
		src, done, err := open()
		if err != nil {
			return sample{}, err
		}
		defer done()
		goruntime.GC() // no garbage of the previous run collected during this one
		c0, t := selfCPU(), time.Now()
		sink := newTextSink()
		st, err := driver.Run(ctx, src, newParser(), sink, &driver.Options{FullWindows: full})
		if err == nil {
			err = sink.w.Flush()
		}
		s := sample{Secs: time.Since(t).Seconds(), Bytes: st.Bytes, Items: st.Items, Calls: st.Calls}
		*cpu = append(*cpu, (selfCPU() - c0).Seconds())
		if err == nil && st.Bytes != uint64(size) {
			err = fmt.Errorf("read %d bytes of %d", st.Bytes, size)
		}
		return s, err
	}}
}

// openFile opens path for driverRun.
func openFile(path string) func() (driver.Source, func(), error) {
	return func() (driver.Source, func(), error) {
		f, err := driver.OpenFile(path)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
}

// openPipe returns a pipe that a goroutine fills with input, as `cat FILE |`
// would, for driverRun.
func openPipe(input []byte) func() (driver.Source, func(), error) {
	return func() (driver.Source, func(), error) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, nil, err
		}
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			for rest := input; len(rest) > 0; {
				n, err := w.Write(rest[:min(len(rest), 1<<20)])
				if err != nil {
					break
				}
				rest = rest[n:]
			}
			w.Close()
		}()
		return &driver.ReaderSource{R: r}, func() { r.Close(); <-wrote }, nil
	}
}

// streamCostFigures compares streaming reads with Options.FullWindows on a
// finished file and on a pipe holding a finished input, in-process, with
// the text parser and the C string_parser, and times chiphost parse on the
// file (with a baseline binary when one is given).
func (b *bencher) streamCostFigures(ctx context.Context, parsers []liveParser) error {
	const section = 7
	size := b.Size(100_000_000, 4<<20)
	input := GenLog(size)
	size = len(input)
	path := filepath.Join(b.TempDir(), "finished.log")
	if err := os.WriteFile(path, input, 0o644); err != nil {
		return err
	}
	defer os.Remove(path)
	h, err := b.Host(ctx, runtime.Options{})
	if err != nil {
		return err
	}
	runs := b.Runs() * 2 // a 5 % target needs more runs than a ratio of 2
	if b.Quick() {
		runs = 1
	}
	note := fmt.Sprintf("%d MB generated log, in-process driver.Run, CLI-like text sink; median of %d runs, alternating", size/1_000_000, runs)
	for _, p := range parsers {
		newParser := func() driver.Parser { return &driver.TextParser{} }
		if p.Wasm != "" {
			pi, err := b.NewParser(ctx, h, p.Wasm, nil)
			if err != nil {
				return err
			}
			newParser = func() driver.Parser { return pi }
		}
		for _, in := range []struct {
			name   string
			open   func() (driver.Source, func(), error)
			target string
		}{{"finished file", openFile(path), "≥ 0.95"}, {"pipe (finished input)", openPipe(input), ""}} {
			var cpuS, cpuF cpuSamples
			ss, err := b.alternate(ctx, runs, driverRun(in.open, size, newParser, false, &cpuS), driverRun(in.open, size, newParser, true, &cpuF))
			if err != nil {
				return fmt.Errorf("%s, %s: %w", p.Name, in.name, err)
			}
			what := fmt.Sprintf("%s, %s", p.Name, in.name)
			s := b.Figure(section, what+", streaming reads", "MB/s", benchkit.Map(ss[0], sample.MBps), strings.TrimPrefix(note+fmt.Sprintf("; %d parse calls", ss[0][0].Calls), "; "))
			f := b.Figure(section, what+", full windows (streaming reads off)", "MB/s", benchkit.Map(ss[1], sample.MBps), fmt.Sprintf("%d parse calls", ss[1][0].Calls))
			cs := b.Figure(section, what+", streaming reads: CPU", "s", cpuS.kept(runs), "whole bench process (user + system)")
			cf := b.Figure(section, what+", full windows: CPU", "s", cpuF.kept(runs), "")
			b.Ratio(section, "streaming / full windows, wall-clock throughput: "+what, s, f, in.target, "")
			if cs > 0 {
				b.Ratio(section, "streaming / full windows, throughput per CPU second: "+what, cf, cs, in.target, "")
			}
			note = ""
		}
	}
	return b.cliCostFigures(ctx, parsers, path, size, runs)
}

// cliRun times `exe parse --parser P FILE > /dev/null` and records the
// child's CPU time.
func (b *bencher) cliRun(exe, parser, path string, size int, cpu *cpuSamples) runner {
	return runner{Name: filepath.Base(exe), Run: func(ctx context.Context) (sample, error) {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return sample{}, err
		}
		defer null.Close()
		cmd := exec.CommandContext(ctx, exe, "parse", "--parser", parser, "--no-default-plugins", "--cache-dir", b.CacheDir, path)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = null, &stderr
		t := time.Now()
		err = cmd.Run()
		s := sample{Secs: time.Since(t).Seconds(), Bytes: uint64(size)}
		if err != nil {
			return s, fmt.Errorf("%s parse: %v: %s", exe, err, lastLines(stderr.Bytes(), 3))
		}
		*cpu = append(*cpu, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds())
		return s, nil
	}}
}

// cliCostFigures times chiphost parse on the finished file, and the
// baseline binary (Config.BaselineExe) interleaved with it when given.
func (b *bencher) cliCostFigures(ctx context.Context, parsers []liveParser, path string, size, runs int) error {
	const section = 7
	for _, p := range parsers {
		parser := "text"
		if p.Wasm != "" {
			parser = p.Wasm
		}
		var cpu, cpuBase cpuSamples
		rs := []runner{b.cliRun(b.cfg.Exe, parser, path, size, &cpu)}
		if b.cfg.BaselineExe != "" {
			rs = append(rs, b.cliRun(b.cfg.BaselineExe, parser, path, size, &cpuBase))
		}
		var ss [][]sample
		var err error
		if len(rs) == 2 {
			ss, err = b.alternate(ctx, runs, rs[0], rs[1])
		} else {
			ss, err = b.Interleave(ctx, runs, rs)
		}
		if err != nil {
			return fmt.Errorf("chiphost parse, %s: %w", p.Name, err)
		}
		what := fmt.Sprintf("chiphost parse FILE > /dev/null, %s", p.Name)
		v := b.Figure(section, what, "MB/s", benchkit.Map(ss[0], sample.MBps), fmt.Sprintf("%d MB finished file, child process; median of %d runs, alternating with the baseline when given", size/1_000_000, runs))
		c := b.Figure(section, what+": CPU", "s", cpu.kept(runs), "child's user + system time")
		if b.cfg.BaselineExe == "" {
			continue
		}
		vb := b.Figure(section, what+", baseline binary", "MB/s", benchkit.Map(ss[1], sample.MBps), b.cfg.BaselineExe)
		cb := b.Figure(section, what+", baseline binary: CPU", "s", cpuBase.kept(runs), "")
		b.Ratio(section, "chiphost parse / baseline binary, wall-clock throughput: "+p.Name, v, vb, "≥ 0.95", "")
		b.Ratio(section, "chiphost parse / baseline binary, throughput per CPU second: "+p.Name, cb, c, "≥ 0.95", "")
	}
	if b.cfg.BaselineExe == "" {
		b.Skip(section, "chiphost parse against a baseline: no --baseline-chiphost given")
	}
	return nil
}
