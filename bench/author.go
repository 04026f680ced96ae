package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

// author measures one plugin on one input (plugin-author mode): load times,
// throughput, items/s, calls and, with a baseline, the ratio to it.
func (b *bencher) author(ctx context.Context) error {
	const sec = 9
	runs := b.cfg.runs()
	input, err := os.ReadFile(b.cfg.Input)
	if err != nil {
		return err
	}
	dir, err := b.tempDir()
	if err != nil {
		return err
	}
	b.cacheDir = filepath.Join(dir, "cache")
	path := b.cfg.Parser
	if _, err := b.loadRun(path, false, false)(ctx); err != nil {
		return err
	}
	loads, err := b.interleave(ctx, runs, []runner{
		{"cold", b.loadRun(path, true, false)},
		{"warm", b.loadRun(path, false, false)},
	})
	if err != nil {
		return err
	}
	c := b.figure(sec, "cold load (decode, instrument, compile, metadata)", "ms", mapf(loads[0], secs), "new Host each run")
	w := b.figure(sec, "warm load (compilation + metadata cache)", "ms", mapf(loads[1], secs), "")
	b.ratio(sec, "warm / cold load", w, c, "", "")

	h, err := b.host(ctx, runtime.Options{})
	if err != nil {
		return err
	}
	p, err := h.Load(ctx, path)
	if err != nil {
		return err
	}
	if p.Kind != runtime.Parser {
		return fmt.Errorf("%s is a %s plugin, not a parser", path, p.Kind)
	}
	var settings []schema.Setting
	if b.cfg.Settings != nil {
		if settings, err = b.cfg.Settings(p); err != nil {
			return err
		}
	} else if settings, err = schema.Complete(p.ConfigSchemas, nil); err != nil {
		return err
	}
	pi, err := p.NewParser(ctx, &runtime.InitOptions{Config: settings})
	if err != nil {
		return err
	}
	b.closers = append(b.closers, pi.Close)
	rs := []runner{{"plugin", parseRun(pi, input, must(readSink()))}}
	baseName, base := b.baseline(settings)
	if base != nil {
		rs = append(rs, runner{baseName, parseRun(base, input, must(readSink()))})
	}
	ss, err := b.interleave(ctx, runs, rs)
	if err != nil {
		return err
	}
	note := fmt.Sprintf("%s, %.1f MB, %d items, %d calls", filepath.Base(b.cfg.Input), float64(len(input))/1e6, ss[0][0].items, ss[0][0].calls)
	v := b.figure(sec, p.Name+": parse throughput (in-process, column-reading sink)", "MB/s", mapf(ss[0], sample.mbps), note)
	b.figure(sec, p.Name+": items", "items/s", mapf(ss[0], sample.itemsps), "")
	b.figure(sec, p.Name+": parse calls", "calls/s", mapf(ss[0], sample.callsps), "")
	if base != nil {
		n := b.figure(sec, baseName+" (native Go baseline)", "MB/s", mapf(ss[1], sample.mbps), "")
		same := "rows identical"
		if err := sameRows(ctx, base, pi, input[:min(len(input), 4<<20)]); err != nil {
			same = "rows differ: " + err.Error()
		}
		if baseName == "text" {
			same = "different parser: a reference speed only"
		}
		b.ratio(sec, p.Name+" / "+baseName, v, n, "", same)
	}
	return nil
}

// baseline picks the native parser to compare with.
func (b *bencher) baseline(settings []schema.Setting) (string, driver.Parser) {
	by := map[string]schema.Value{}
	for _, s := range settings {
		by[s.ID] = s.Value
	}
	mode := b.cfg.Baseline
	if mode == "" || mode == "auto" {
		lossy, ok1 := by["lossy"]
		prefix, ok2 := by["prefix"]
		if ok1 && ok2 && lossy.Type == schema.Boolean && prefix.Type == schema.Text {
			mode = "string_parser"
		} else {
			mode = "none"
		}
	}
	switch mode {
	case "string_parser":
		sp := &stringparser.Parser{}
		if v, ok := by["lossy"]; ok {
			sp.Strict = !v.Bool
		}
		if v, ok := by["prefix"]; ok {
			sp.Prefix = v.Text
		}
		return "string_parser", sp
	case "text":
		return "text", &driver.TextParser{}
	}
	return "", nil
}
