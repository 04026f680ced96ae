package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

// Host returns a Host over the run's shared (warm) compilation cache
// unless opts says otherwise, closed at the end of the run.
func (b *Bench) Host(ctx context.Context, opts runtime.Options) (*runtime.Host, error) {
	if opts.CacheDir == "" && !opts.NoCache {
		opts.CacheDir = b.CacheDir
	}
	h, err := runtime.NewHost(ctx, &opts)
	if err != nil {
		return nil, err
	}
	b.OnClose(func() { h.Close(context.Background()) })
	return h, nil
}

// NewParser loads path into h and opens a parser with cfg (other items at
// their defaults). The instance is closed at the end of the run.
func (b *Bench) NewParser(ctx context.Context, h *runtime.Host, path string, cfg map[string]schema.Value) (*runtime.ParserInstance, error) {
	p, err := h.Load(ctx, path)
	if err != nil {
		return nil, err
	}
	settings, err := schema.Complete(p.ConfigSchemas, cfg)
	if err != nil {
		return nil, err
	}
	pi, err := p.NewParser(ctx, &runtime.InitOptions{Config: settings})
	if err != nil {
		return nil, err
	}
	b.OnClose(pi.Close)
	return pi, nil
}

// ReadSink reads every column of every row, as a consumer would.
func ReadSink() driver.Sink {
	sum := 0
	return driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		for _, r := range rows {
			if m := r.Item.Message; m != nil {
				sum += len(m.Line)
				for _, c := range m.Columns {
					sum += len(c)
				}
			}
		}
		return nil
	})
}

// NopSink drops the rows unread.
var NopSink = driver.SinkFunc(func(context.Context, []driver.Row) error { return nil })

// ParseRun parses input with p through driver.Run (chiphost's feeding).
func ParseRun(p driver.Parser, input []byte, sink driver.Sink) func(context.Context) (Sample, error) {
	return func(ctx context.Context) (Sample, error) {
		return Timed(func() (Sample, error) {
			st, err := driver.Run(ctx, &driver.ReaderSource{R: bytes.NewReader(input)}, p, sink, nil)
			return Sample{Bytes: uint64(len(input)), Items: st.Items, Calls: st.Calls}, err
		})
	}
}

// SameRows checks that two parsers produce the same rows for input.
func SameRows(ctx context.Context, want, got driver.Parser, input []byte) error {
	w, err := collectRows(ctx, want, input)
	if err != nil {
		return err
	}
	g, err := collectRows(ctx, got, input)
	if err != nil {
		return err
	}
	if len(w) != len(g) {
		return fmt.Errorf("%d rows, want %d", len(g), len(w))
	}
	for i := range w {
		if w[i] != g[i] {
			return fmt.Errorf("row %d: %q, want %q", i, g[i], w[i])
		}
	}
	return nil
}

// collectRows parses input with p and returns each row as a string.
func collectRows(ctx context.Context, p driver.Parser, input []byte) ([]string, error) {
	var rows []string
	_, err := driver.Run(ctx, &driver.ReaderSource{R: bytes.NewReader(input)}, p, driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
		for _, r := range rs {
			m := r.Item.Message
			if m == nil {
				rows = append(rows, "<none>")
				continue
			}
			s := strings.Clone(m.Line) // the lift's strings live until the next call
			if m.Columns != nil {
				s = fmt.Sprintf("%q", m.Columns)
			}
			rows = append(rows, s)
		}
		return nil
	}), nil)
	return rows, err
}

// LoadRun loads path in a new Host (as a new process would): cold (no
// cache) or warm (over the run's populated cache); open also creates and
// initialises a parser instance.
func (b *Bench) LoadRun(path string, cold, open bool) func(context.Context) (Sample, error) {
	return func(ctx context.Context) (Sample, error) {
		opts := &runtime.Options{NoCache: cold}
		if !cold {
			opts.CacheDir = b.CacheDir
		}
		return Timed(func() (Sample, error) {
			h, err := runtime.NewHost(ctx, opts)
			if err != nil {
				return Sample{}, err
			}
			defer h.Close(context.Background())
			p, err := h.Load(ctx, path)
			if err != nil {
				return Sample{}, err
			}
			if open {
				pi, err := p.NewParser(ctx, nil)
				if err != nil && runtime.KindOf(err) != runtime.KindPluginError {
					return Sample{}, err
				}
				if pi != nil {
					pi.Close()
				}
			}
			return Sample{Calls: 1}, nil
		})
	}
}
