package benchkit

import (
	"context"
	"fmt"
	"os"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

// ProducerPlugin says which producer plugin to measure (`chiphost bench
// --producer`): its input is whatever its settings name.
type ProducerPlugin struct {
	Path string
	// Settings turns the plugin's config flags into settings (default: the
	// plugin's defaults).
	Settings func(*runtime.Plugin) ([]schema.Setting, error)
}

// MeasureProducer measures one producer plugin: load times, then runs from
// init to done (a producer cannot be rewound, so each run is a new
// instance): rows/s, produce-next calls/s, and MB/s of the files its
// config names, when it names any.
func MeasureProducer(ctx context.Context, opts Options, pl ProducerPlugin) (*Report, error) {
	if opts.SectionTitles == nil {
		opts.SectionTitles = map[int]string{PluginSection: "producer"}
	}
	b, err := New(opts)
	if err != nil {
		return nil, err
	}
	err = b.measureProducer(ctx, pl)
	return b.Close(), err
}

func (b *Bench) measureProducer(ctx context.Context, pl ProducerPlugin) error {
	const sec = PluginSection
	runs := b.Runs()
	if _, err := b.LoadRun(pl.Path, false, false)(ctx); err != nil {
		return err
	}
	loads, err := b.Interleave(ctx, runs, []Runner{
		{"cold", b.LoadRun(pl.Path, true, false)},
		{"warm", b.LoadRun(pl.Path, false, false)},
	})
	if err != nil {
		return err
	}
	c := b.Figure(sec, "cold load (decode, instrument, compile, metadata)", "ms", Map(loads[0], Sample.Millis), "new Host each run")
	w := b.Figure(sec, "warm load (compilation + metadata cache)", "ms", Map(loads[1], Sample.Millis), "")
	b.Ratio(sec, "warm / cold load", w, c, "", "")

	h, err := b.Host(ctx, runtime.Options{})
	if err != nil {
		return err
	}
	p, err := h.Load(ctx, pl.Path)
	if err != nil {
		return err
	}
	if p.Kind != runtime.Producer {
		return fmt.Errorf("%s is a %s plugin, not a producer", pl.Path, p.Kind)
	}
	settings, err := schema.Complete(p.ConfigSchemas, nil)
	if pl.Settings != nil {
		settings, err = pl.Settings(p)
	}
	if err != nil {
		return err
	}
	bytes := configuredFileBytes(settings)
	ss, err := b.Interleave(ctx, runs, []Runner{{"producer", ProduceRun(p, settings, bytes, ReadSink())}})
	if err != nil {
		return err
	}
	note := fmt.Sprintf("init to done, %d rows, %d produce-next calls", ss[0][0].Items, ss[0][0].Calls)
	b.Figure(sec, p.Name+": rows", "items/s", Map(ss[0], Sample.ItemsPerSec), note)
	b.Figure(sec, p.Name+": produce-next calls", "calls/s", Map(ss[0], Sample.CallsPerSec), "")
	if bytes > 0 {
		b.Figure(sec, p.Name+": throughput of the files its config names", "MB/s", Map(ss[0], Sample.MBps), fmt.Sprintf("%.1f MB", float64(bytes)/1e6))
	}
	return nil
}

// ProduceRun creates a producer instance with settings and runs it to done
// through driver.RunProducer; bytes is what the sample reports as read.
func ProduceRun(p *runtime.Plugin, settings []schema.Setting, bytes uint64, sink driver.Sink) func(context.Context) (Sample, error) {
	return func(ctx context.Context) (Sample, error) {
		return Timed(func() (Sample, error) {
			pr, err := p.NewProducer(ctx, &runtime.InitOptions{Config: settings})
			if err != nil {
				return Sample{}, err
			}
			defer pr.Close()
			st, err := driver.RunProducer(ctx, pr, sink, nil)
			return Sample{Bytes: bytes, Items: st.Items, Calls: st.Calls}, err
		})
	}
}

// configuredFileBytes sums the sizes of the regular files the settings name.
func configuredFileBytes(settings []schema.Setting) uint64 {
	var n uint64
	for _, s := range settings {
		if s.Value.Type != schema.Files {
			continue
		}
		for _, path := range s.Value.Paths {
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				n += uint64(fi.Size())
			}
		}
	}
	return n
}
