package bench

import (
	"context"
	"fmt"

	"github.com/chiphost/chiphost/internal/benchkit"
	"github.com/chiphost/chiphost/internal/gorecords"
	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

func (b *bencher) parseSection(ctx context.Context) error {
	runs := b.Runs()
	h, err := b.Host(ctx, runtime.Options{})
	if err != nil {
		return err
	}
	plain, err := b.Host(ctx, runtime.Options{NoInterruptChecks: true})
	if err != nil {
		return err
	}

	// string_parser: C wasm vs native Go, plus the decomposition of the
	// wasm time (no-op sink, guest only) and the interrupt checks (§4).
	input := GenLog(b.Size(32<<20, 1<<20))
	c, err := b.NewParser(ctx, h, b.cfg.fixture(fxString), nil)
	if err != nil {
		return err
	}
	cPlain, err := b.NewParser(ctx, plain, b.cfg.fixture(fxString), nil)
	if err != nil {
		return err
	}
	if err := benchkit.SameRows(ctx, &stringparser.Parser{}, c, input[:min(len(input), 4<<20)]); err != nil {
		return fmt.Errorf("string_parser rows differ from the native parser: %w", err)
	}
	guest, err := newGuestParser(ctx, b.cfg.fixture(fxCoreStr))
	if err != nil {
		return fmt.Errorf("guest-only string_parser: %w", err)
	}
	b.OnClose(guest.close)
	sinkN := benchkit.ReadSink()
	sinkC := benchkit.ReadSink()
	sinkU := benchkit.ReadSink()
	ss, err := b.Interleave(ctx, runs, []runner{
		{Name: "native", Run: benchkit.ParseRun(&stringparser.Parser{}, input, sinkN)},
		{Name: "c-wasm", Run: benchkit.ParseRun(c, input, sinkC)},
		{Name: "c-wasm-unchecked", Run: benchkit.ParseRun(cPlain, input, sinkU)},
		{Name: "native-nop", Run: benchkit.ParseRun(&stringparser.Parser{}, input, benchkit.NopSink)},
		{Name: "c-wasm-unchecked-nop", Run: benchkit.ParseRun(cPlain, input, benchkit.NopSink)},
		{Name: "guest-only", Run: benchkit.ParseRun(guest, input, benchkit.NopSink)},
	})
	if err != nil {
		return err
	}
	nat := b.Figure(1, "string_parser native Go (internal/stringparser), column-reading sink", "MB/s", benchkit.Map(ss[0], sample.MBps), fmt.Sprintf("%d MB generated log", len(input)>>20))
	b.Figure(1, "string_parser native Go", "items/s", benchkit.Map(ss[0], sample.ItemsPerSec), "")
	cw := b.Figure(1, "string_parser C wasm (interrupt checks on, the default)", "MB/s", benchkit.Map(ss[1], sample.MBps), "")
	b.Figure(1, "string_parser C wasm", "items/s", benchkit.Map(ss[1], sample.ItemsPerSec), fmt.Sprintf("%d calls", ss[1][0].Calls))
	cu := b.Figure(1, "string_parser C wasm, NoInterruptChecks", "MB/s", benchkit.Map(ss[2], sample.MBps), "")
	natNop := b.Figure(1, "string_parser native Go, no-op sink", "MB/s", benchkit.Map(ss[3], sample.MBps), "")
	full := b.Figure(1, "string_parser C wasm, NoInterruptChecks, no-op sink", "MB/s", benchkit.Map(ss[4], sample.MBps), "")
	g := b.Figure(1, "string_parser C core module, guest only (copy in + guest parse + post-return; no lift)", "MB/s", benchkit.Map(ss[5], sample.MBps), "direct wazero, fed by driver.Run like the plugin; reads only each record's consumed")
	b.Ratio(1, "C wasm / native Go: string_parser", cw, nat, "≥ 0.5", "probe: 0.34")
	b.Ratio(1, "C wasm / native Go, no-op sinks", full, natNop, "", "")
	b.Ratio(1, "host share of wasm parse time (1 − guest-only / full, both unchecked, no-op sink)", 1-full/g, 1, "≤ 0.25", "lift + driver + Go-side call; probe: 0.50")
	b.Ratio(1, "guest only / native Go", g, nat, "", "upper bound for wasm/native with a free lift")
	b.Ratio(4, "cancellable parse / plain parse: C string_parser, interrupt checks / NoInterruptChecks", cw, cu, "≥ 0.8", "close-on-done: 0.20–0.23")

	// JavaScript string_parser (an interpreter in wasm) vs native on a small input.
	if js := b.cfg.fixture(fxJS); b.Quick() {
		b.Skip(1, "JS string_parser: skipped in quick mode (its 12 MB module compiles for tens of seconds cold)")
	} else if fileExists(js) {
		jsIn := GenLog(256 << 10)
		j, err := b.NewParser(ctx, h, js, nil)
		if err != nil {
			return err
		}
		sinkJ := benchkit.ReadSink()
		ss, err := b.Interleave(ctx, min(runs, 3), []runner{
			{Name: "native", Run: benchkit.ParseRun(&stringparser.Parser{}, jsIn, sinkN)},
			{Name: "js-wasm", Run: benchkit.ParseRun(j, jsIn, sinkJ)},
		})
		if err != nil {
			return err
		}
		n := b.Figure(1, "string_parser native Go, JS input", "MB/s", benchkit.Map(ss[0], sample.MBps), fmt.Sprintf("%d KB log", len(jsIn)>>10))
		jw := b.Figure(1, "string_parser JS wasm (componentize-js)", "MB/s", benchkit.Map(ss[1], sample.MBps), "")
		b.Figure(1, "string_parser JS wasm", "items/s", benchkit.Map(ss[1], sample.ItemsPerSec), "")
		b.Ratio(1, "JS wasm / native Go: string_parser", jw, n, "", "a JS interpreter compiled to wasm")
	} else {
		b.Skip(1, "JS string_parser: fixture missing")
	}

	// go_records: Go wasm vs native Go, and one item per call.
	recIn := GenRecords(b.Size(2<<20, 256<<10))
	gw, err := b.NewParser(ctx, h, b.cfg.fixture(fxGo), nil)
	if err != nil {
		return err
	}
	g1, err := b.NewParser(ctx, h, b.cfg.fixture(fxGo), map[string]schema.Value{"max-items": {Type: schema.Integer, Int: 1}})
	if err != nil {
		return err
	}
	if err := benchkit.SameRows(ctx, &gorecords.Parser{}, gw, recIn[:min(len(recIn), 2<<20)]); err != nil {
		return fmt.Errorf("go_records rows differ from the native parser: %w", err)
	}
	ss, err = b.Interleave(ctx, runs, []runner{
		{Name: "native", Run: benchkit.ParseRun(&gorecords.Parser{}, recIn, sinkN)},
		{Name: "go-wasm", Run: benchkit.ParseRun(gw, recIn, sinkN)},
		{Name: "go-wasm-max1", Run: benchkit.ParseRun(g1, recIn, sinkN)},
		{Name: "native-max1", Run: benchkit.ParseRun(&gorecords.Parser{MaxItems: 1}, recIn, sinkN)},
	})
	if err != nil {
		return err
	}
	rn := b.Figure(1, "go_records native Go (internal/gorecords)", "MB/s", benchkit.Map(ss[0], sample.MBps), fmt.Sprintf("%d MB line|/cols| records", len(recIn)>>20))
	b.Figure(1, "go_records native Go", "items/s", benchkit.Map(ss[0], sample.ItemsPerSec), "")
	rw := b.Figure(1, "go_records Go wasm (wasip1)", "MB/s", benchkit.Map(ss[1], sample.MBps), "")
	b.Figure(1, "go_records Go wasm", "items/s", benchkit.Map(ss[1], sample.ItemsPerSec), fmt.Sprintf("%d calls", ss[1][0].Calls))
	r1 := b.Figure(1, "go_records Go wasm, max-items=1 (one item per call)", "MB/s", benchkit.Map(ss[2], sample.MBps), "")
	b.Figure(1, "go_records Go wasm, max-items=1", "calls/s", benchkit.Map(ss[2], sample.CallsPerSec), fmt.Sprintf("%d calls", ss[2][0].Calls))
	n1 := b.Figure(1, "go_records native Go, max-items=1", "MB/s", benchkit.Map(ss[3], sample.MBps), "")
	b.Ratio(1, "Go wasm / native Go: go_records", rw, rn, "", "")
	b.Ratio(1, "one item per call / all items per call: go_records wasm, chiphost's feeding", r1, rw, "≥ 0.25", "Chipmunk's feeding: 0.0007")
	b.Ratio(1, "one item per call / all items per call: native go_records", n1, rn, "", "what the feeding alone costs")
	return nil
}
