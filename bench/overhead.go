package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// callRun calls p.Parse on the same small input calls times.
func callRun(p driver.Parser, input []byte, calls int) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return timed(func() (sample, error) {
			var items uint64
			for i := 0; i < calls; i++ {
				it, err := p.Parse(ctx, input, nil)
				if err != nil {
					return sample{}, err
				}
				items += uint64(len(it))
			}
			return sample{bytes: uint64(calls * len(input)), items: items, calls: uint64(calls)}, nil
		})
	}
}

func (b *bencher) overheadSection(ctx context.Context) error {
	runs := b.cfg.runs()
	h, err := b.host(ctx, runtime.Options{})
	if err != nil {
		return err
	}
	plain, err := b.host(ctx, runtime.Options{NoInterruptChecks: true})
	if err != nil {
		return err
	}
	// Per-call overhead: parse on a 1-line input.
	line := GenLog(1)
	line = line[:bytes.IndexByte(line, '\n')+1]
	rec := []byte("line|" + string(line))
	c, err := b.newParser(ctx, h, b.cfg.fixture(fxString), nil)
	if err != nil {
		return err
	}
	g, err := b.newParser(ctx, h, b.cfg.fixture(fxGo), nil)
	if err != nil {
		return err
	}
	n := b.size(50000, 2000)
	ss, err := b.interleave(ctx, runs, []runner{
		{"native", callRun(&stringparser.Parser{}, line, n)},
		{"c-wasm", callRun(c, line, n)},
		{"go-wasm", callRun(g, rec, n/5)},
	})
	if err != nil {
		return err
	}
	note := fmt.Sprintf("%d-byte line, Parse called directly", len(line))
	nat := b.figure(4, "parse on a 1-line input: native Go string_parser", "calls/s", mapf(ss[0], sample.callsps), note)
	cw := b.figure(4, "parse on a 1-line input: C string_parser wasm", "calls/s", mapf(ss[1], sample.callsps), "copy in, guest, lift, post-return")
	b.figure(4, "parse on a 1-line input: Go go_records wasm", "calls/s", mapf(ss[2], sample.callsps), "")
	b.ratio(4, "1-line calls/s: C wasm / native Go", cw, nat, "", "")

	// The cancellation mechanism on a tight loop.
	dir, _ := b.tempDir()
	path, err := buildLoop(ctx, dir)
	if err != nil {
		b.skip(4, "tight-loop plugin: "+err.Error())
		return nil
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	input := GenLog(b.size(4<<20, 256<<10))
	li, err := b.newParser(ctx, h, path, nil)
	if err != nil {
		return fmt.Errorf("loop plugin: %w", err)
	}
	lp, err := b.newParser(ctx, plain, path, nil)
	if err != nil {
		return fmt.Errorf("loop plugin: %w", err)
	}
	dp, err := newDirectLoop(ctx, bin, input, false)
	if err != nil {
		return err
	}
	b.closers = append(b.closers, func() { dp.rt.Close(context.Background()) })
	dc, err := newDirectLoop(ctx, bin, input, true)
	if err != nil {
		return err
	}
	b.closers = append(b.closers, func() { dc.rt.Close(context.Background()) })
	calls := b.size(3, 1)
	loopRun := func(p driver.Parser) func(context.Context) (sample, error) {
		f := callRun(p, input, calls)
		return func(ctx context.Context) (sample, error) {
			s, err := f(ctx)
			s.bytes *= loopPasses
			return s, err
		}
	}
	ss, err = b.interleave(ctx, runs, []runner{
		{"runtime-checked", loopRun(li)},
		{"runtime-unchecked", loopRun(lp)},
		{"wazero-plain", dp.run(calls)},
		{"wazero-closeOnDone", dc.run(calls)},
	})
	if err != nil {
		return err
	}
	note = fmt.Sprintf("FNV-1a over %d KiB ×%d per call, unrolling off (1 check per byte); cancellable ctx", len(input)>>10, loopPasses)
	rc := b.figure(4, "tight loop through chiphost, interrupt checks (default)", "MB/s", mapf(ss[0], sample.mbps), note)
	ru := b.figure(4, "tight loop through chiphost, NoInterruptChecks", "MB/s", mapf(ss[1], sample.mbps), "")
	wp := b.figure(4, "tight loop on wazero directly", "MB/s", mapf(ss[2], sample.mbps), "")
	wc := b.figure(4, "tight loop on wazero directly, WithCloseOnContextDone(true)", "MB/s", mapf(ss[3], sample.mbps), "")
	b.ratio(4, "tight loop: interrupt checks / none (chiphost)", rc, ru, "≥ 0.8", "worst case: a check on every byte")
	b.ratio(4, "tight loop: WithCloseOnContextDone / plain (wazero)", wc, wp, "", "the mechanism chiphost avoids; probe 0.07–0.15")
	b.ratio(4, "tight loop: chiphost unchecked / wazero direct", ru, wp, "", "sanity: same code, ≈ 1")
	return nil
}
