package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/chiphost/chiphost/internal/benchkit"
	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// callRun calls p.Parse on the same small input calls times.
func callRun(p driver.Parser, input []byte, calls int) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return benchkit.Timed(func() (sample, error) {
			var items uint64
			for i := 0; i < calls; i++ {
				it, err := p.Parse(ctx, input, nil)
				if err != nil {
					return sample{}, err
				}
				items += uint64(len(it))
			}
			return sample{Bytes: uint64(calls * len(input)), Items: items, Calls: uint64(calls)}, nil
		})
	}
}

func (b *bencher) overheadSection(ctx context.Context) error {
	runs := b.Runs()
	h, err := b.Host(ctx, runtime.Options{})
	if err != nil {
		return err
	}
	plain, err := b.Host(ctx, runtime.Options{NoInterruptChecks: true})
	if err != nil {
		return err
	}
	// Per-call overhead: parse on a 1-line input.
	line := GenLog(1)
	line = line[:bytes.IndexByte(line, '\n')+1]
	rec := []byte("line|" + string(line))
	c, err := b.NewParser(ctx, h, b.cfg.fixture(fxString), nil)
	if err != nil {
		return err
	}
	g, err := b.NewParser(ctx, h, b.cfg.fixture(fxGo), nil)
	if err != nil {
		return err
	}
	n := b.Size(50000, 2000)
	ss, err := b.Interleave(ctx, runs, []runner{
		{Name: "native", Run: callRun(&stringparser.Parser{}, line, n)},
		{Name: "c-wasm", Run: callRun(c, line, n)},
		{Name: "go-wasm", Run: callRun(g, rec, n/5)},
	})
	if err != nil {
		return err
	}
	note := fmt.Sprintf("%d-byte line, Parse called directly", len(line))
	nat := b.Figure(4, "parse on a 1-line input: native Go string_parser", "calls/s", benchkit.Map(ss[0], sample.CallsPerSec), note)
	cw := b.Figure(4, "parse on a 1-line input: C string_parser wasm", "calls/s", benchkit.Map(ss[1], sample.CallsPerSec), "copy in, guest, lift, post-return")
	b.Figure(4, "parse on a 1-line input: Go go_records wasm", "calls/s", benchkit.Map(ss[2], sample.CallsPerSec), "")
	b.Ratio(4, "1-line calls/s: C wasm / native Go", cw, nat, "", "")

	// The cancellation mechanism on a tight loop.
	dir := b.TempDir()
	path, err := buildLoop(ctx, dir)
	if err != nil {
		b.Skip(4, "tight-loop plugin: "+err.Error())
		return nil
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	input := GenLog(b.Size(4<<20, 256<<10))
	li, err := b.NewParser(ctx, h, path, nil)
	if err != nil {
		return fmt.Errorf("loop plugin: %w", err)
	}
	lp, err := b.NewParser(ctx, plain, path, nil)
	if err != nil {
		return fmt.Errorf("loop plugin: %w", err)
	}
	dp, err := newDirectLoop(ctx, bin, input, false)
	if err != nil {
		return err
	}
	b.OnClose(func() { dp.rt.Close(context.Background()) })
	dc, err := newDirectLoop(ctx, bin, input, true)
	if err != nil {
		return err
	}
	b.OnClose(func() { dc.rt.Close(context.Background()) })
	calls := b.Size(3, 1)
	loopRun := func(p driver.Parser) func(context.Context) (sample, error) {
		f := callRun(p, input, calls)
		return func(ctx context.Context) (sample, error) {
			s, err := f(ctx)
			s.Bytes *= loopPasses
			return s, err
		}
	}
	ss, err = b.Interleave(ctx, runs, []runner{
		{Name: "runtime-checked", Run: loopRun(li)},
		{Name: "runtime-unchecked", Run: loopRun(lp)},
		{Name: "wazero-plain", Run: dp.run(calls)},
		{Name: "wazero-closeOnDone", Run: dc.run(calls)},
	})
	if err != nil {
		return err
	}
	note = fmt.Sprintf("FNV-1a over %d KiB ×%d per call, unrolling off (1 check per byte); cancellable ctx", len(input)>>10, loopPasses)
	rc := b.Figure(4, "tight loop through chiphost, interrupt checks (default)", "MB/s", benchkit.Map(ss[0], sample.MBps), note)
	ru := b.Figure(4, "tight loop through chiphost, NoInterruptChecks", "MB/s", benchkit.Map(ss[1], sample.MBps), "")
	wp := b.Figure(4, "tight loop on wazero directly", "MB/s", benchkit.Map(ss[2], sample.MBps), "")
	wc := b.Figure(4, "tight loop on wazero directly, WithCloseOnContextDone(true)", "MB/s", benchkit.Map(ss[3], sample.MBps), "")
	b.Ratio(4, "tight loop: interrupt checks / none (chiphost)", rc, ru, "≥ 0.8", "worst case: a check on every byte")
	b.Ratio(4, "tight loop: WithCloseOnContextDone / plain (wazero)", wc, wp, "", "the mechanism chiphost avoids; probe 0.07–0.15")
	b.Ratio(4, "tight loop: chiphost unchecked / wazero direct", ru, wp, "", "sanity: same code, ≈ 1")
	return nil
}
