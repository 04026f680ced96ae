package benchkit

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

// PluginSection is the report section of plugin-author measurements.
const PluginSection = 9

// Plugin says which plugin to measure on which input (`chiphost bench`).
type Plugin struct {
	// Parser is the parser plugin (.wasm) and Input the log it parses.
	Parser, Input string
	// Settings turns the plugin's config flags into settings (default: the
	// plugin's defaults).
	Settings func(*runtime.Plugin) ([]schema.Setting, error)
	// Baseline is "auto" (string_parser when the plugin has its config
	// items lossy and prefix), "string_parser", "text" or "none".
	Baseline string
}

// MeasurePlugin measures one parser plugin on one input: load times,
// throughput, items/s, calls and, with a native baseline, the ratio to it.
func MeasurePlugin(ctx context.Context, opts Options, pl Plugin) (*Report, error) {
	if opts.SectionTitles == nil {
		opts.SectionTitles = map[int]string{PluginSection: "plugin"}
	}
	b, err := New(opts)
	if err != nil {
		return nil, err
	}
	err = b.measurePlugin(ctx, pl)
	return b.Close(), err
}

func (b *Bench) measurePlugin(ctx context.Context, pl Plugin) error {
	const sec = PluginSection
	runs := b.Runs()
	input, err := os.ReadFile(pl.Input)
	if err != nil {
		return err
	}
	path := pl.Parser
	if _, err := b.LoadRun(path, false, false)(ctx); err != nil {
		return err
	}
	loads, err := b.Interleave(ctx, runs, []Runner{
		{"cold", b.LoadRun(path, true, false)},
		{"warm", b.LoadRun(path, false, false)},
	})
	if err != nil {
		return err
	}
	c := b.Figure(sec, "cold load (decode, instrument, compile, metadata)", "ms", Map(loads[0], Sample.Millis), "new Host each run")
	w := b.Figure(sec, "warm load (compilation + metadata cache)", "ms", Map(loads[1], Sample.Millis), "")
	b.Ratio(sec, "warm / cold load", w, c, "", "")

	p, pi, settings, err := b.openPlugin(ctx, pl)
	if err != nil {
		return err
	}
	rs := []Runner{{"plugin", ParseRun(pi, input, ReadSink())}}
	baseName, base := baseline(pl.Baseline, settings)
	if base != nil {
		rs = append(rs, Runner{baseName, ParseRun(base, input, ReadSink())})
	}
	ss, err := b.Interleave(ctx, runs, rs)
	if err != nil {
		return err
	}
	note := fmt.Sprintf("%s, %.1f MB, %d items, %d calls", filepath.Base(pl.Input), float64(len(input))/1e6, ss[0][0].Items, ss[0][0].Calls)
	v := b.Figure(sec, p.Name+": parse throughput (in-process, column-reading sink)", "MB/s", Map(ss[0], Sample.MBps), note)
	b.Figure(sec, p.Name+": items", "items/s", Map(ss[0], Sample.ItemsPerSec), "")
	b.Figure(sec, p.Name+": parse calls", "calls/s", Map(ss[0], Sample.CallsPerSec), "")
	if base != nil {
		n := b.Figure(sec, baseName+" (native Go baseline)", "MB/s", Map(ss[1], Sample.MBps), "")
		same := "rows identical"
		if err := SameRows(ctx, base, pi, input[:min(len(input), 4<<20)]); err != nil {
			same = "rows differ: " + err.Error()
		}
		if baseName == "text" {
			same = "different parser: a reference speed only"
		}
		b.Ratio(sec, p.Name+" / "+baseName, v, n, "", same)
	}
	return nil
}

// openPlugin loads the plugin and opens a parser with its settings.
func (b *Bench) openPlugin(ctx context.Context, pl Plugin) (*runtime.Plugin, *runtime.ParserInstance, []schema.Setting, error) {
	h, err := b.Host(ctx, runtime.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := h.Load(ctx, pl.Parser)
	if err != nil {
		return nil, nil, nil, err
	}
	if p.Kind != runtime.Parser {
		return nil, nil, nil, fmt.Errorf("%s is a %s plugin, not a parser", pl.Parser, p.Kind)
	}
	var settings []schema.Setting
	if pl.Settings != nil {
		settings, err = pl.Settings(p)
	} else {
		settings, err = schema.Complete(p.ConfigSchemas, nil)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	pi, err := p.NewParser(ctx, &runtime.InitOptions{Config: settings})
	if err != nil {
		return nil, nil, nil, err
	}
	b.OnClose(pi.Close)
	return p, pi, settings, nil
}

// baseline picks the native parser to compare with.
func baseline(mode string, settings []schema.Setting) (string, driver.Parser) {
	by := map[string]schema.Value{}
	for _, s := range settings {
		by[s.ID] = s.Value
	}
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
