package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chiphost/chiphost/runtime"
)

// loadRun loads path in a new Host (as a new process would): cold (no
// cache) or warm (over the run's populated cache); open also creates and
// initialises a parser instance.
func (b *bencher) loadRun(path string, cold, open bool) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		opts := &runtime.Options{NoCache: cold}
		if !cold {
			opts.CacheDir = b.cacheDir
		}
		return timed(func() (sample, error) {
			h, err := runtime.NewHost(ctx, opts)
			if err != nil {
				return sample{}, err
			}
			defer h.Close(context.Background())
			p, err := h.Load(ctx, path)
			if err != nil {
				return sample{}, err
			}
			if open {
				pi, err := p.NewParser(ctx, nil)
				if err != nil && runtime.KindOf(err) != runtime.KindPluginError {
					return sample{}, err
				}
				if pi != nil {
					pi.Close()
				}
			}
			return sample{calls: 1}, nil
		})
	}
}

func secs(s sample) float64 { return s.secs * 1000 }

func (b *bencher) loadSection(ctx context.Context) error {
	runs := b.cfg.runs()
	fixtures := []struct{ name, rel string }{{"C string_parser", fxString}, {"Go go_records", fxGo}, {"JS js_string_parser", fxJS}}
	for _, fx := range fixtures {
		path := b.cfg.fixture(fx.rel)
		if fx.rel != fxString && b.cfg.Quick {
			b.skip(3, fx.name+" load: skipped in quick mode (cold compiles take seconds)")
			continue
		}
		st, err := os.Stat(path)
		if err != nil {
			b.skip(3, fx.name+" load: "+err.Error())
			continue
		}
		// Populate the warm cache first.
		if _, err := b.loadRun(path, false, false)(ctx); err != nil {
			return err
		}
		coldRuns := runs
		if fx.rel == fxJS {
			coldRuns = 1 // a cold compile of 12 MB takes most of a minute
		}
		cold, err := b.interleave(ctx, coldRuns, []runner{{"cold", b.loadRun(path, true, false)}})
		if err != nil {
			return err
		}
		warm, err := b.interleave(ctx, runs, []runner{{"warm", b.loadRun(path, false, false)}, {"warm-open", b.loadRun(path, false, true)}})
		if err != nil {
			return err
		}
		note := fmt.Sprintf("%.2f MB component; new Host each run", float64(st.Size())/1e6)
		c := b.figure(3, fx.name+": cold load (no cache: decode, instrument, compile, metadata)", "ms", mapf(cold[0], secs), note)
		w := b.figure(3, fx.name+": warm load (compilation + metadata cache on disk)", "ms", mapf(warm[0], secs), "")
		wo := b.figure(3, fx.name+": warm open (warm load + new initialised parser)", "ms", mapf(warm[1], secs), "")
		target := ""
		if st.Size() >= 1<<20 {
			target = "≤ 0.05"
		}
		b.ratio(3, fx.name+": warm / cold load", w, c, target, "")
		if fx.rel == fxGo {
			b.ratio(3, "Go go_records: warm open, ms (absolute; target ≤ 50 ms)", wo, 1, "≤ 50", "")
		}
	}
	return b.listLatency(ctx)
}

// listLatency measures initialize → first plugins/list reply with 20
// plugins installed (10 copies each of the C and the Go parser), with a
// fresh cache (cold) and a populated one (warm).
func (b *bencher) listLatency(ctx context.Context) error {
	if b.cfg.Exe == "" {
		b.skip(3, "plugins/list latency: no chiphost binary")
		return nil
	}
	dir, _ := b.tempDir()
	root := filepath.Join(dir, "root-20")
	plugins := map[string]string{}
	for i := 0; i < 10; i++ {
		plugins[fmt.Sprintf("c_parser_%02d", i)] = b.cfg.fixture(fxString)
		if b.cfg.Quick {
			plugins[fmt.Sprintf("c2_parser_%02d", i)] = b.cfg.fixture(fxString)
		} else {
			plugins[fmt.Sprintf("go_parser_%02d", i)] = b.cfg.fixture(fxGo)
		}
	}
	if err := makeRoot(root, plugins); err != nil {
		return err
	}
	run := func(cache func() string) func(context.Context) (sample, error) {
		return func(ctx context.Context) (sample, error) {
			c, err := startServer(ctx, b.cfg.Exe, "--no-default-plugins", "--plugins-dir", root, "--cache-dir", cache(), "--log-level", "error", "--temp-dir", dir)
			if err != nil {
				return sample{}, err
			}
			defer c.close()
			t := time.Now()
			list, err := c.initialize(ctx, nil)
			s := sample{secs: time.Since(t).Seconds()}
			if err == nil && len(list.Plugins) != 20 {
				err = fmt.Errorf("%d plugins listed, want 20", len(list.Plugins))
			}
			for _, p := range list.Plugins {
				if err == nil && p.State != "valid" {
					err = fmt.Errorf("plugin %s is %s", p.Name, p.State)
				}
			}
			return s, err
		}
	}
	n := 0
	fresh := func() string {
		n++
		return filepath.Join(dir, fmt.Sprintf("cache-cold-%d", n))
	}
	warmCache := func() string { return b.cacheDir }
	if _, err := run(warmCache)(ctx); err != nil { // populate
		return err
	}
	ss, err := b.interleave(ctx, b.cfg.runs(), []runner{{"cold", run(fresh)}, {"warm", run(warmCache)}})
	if err != nil {
		return err
	}
	c := b.figure(3, "initialize → plugins/list reply, 20 plugins (10 C + 10 Go copies), empty cache", "ms", mapf(ss[0], secs), "server already started; identical copies share one compilation")
	w := b.figure(3, "initialize → plugins/list reply, 20 plugins, warm cache", "ms", mapf(ss[1], secs), "")
	b.ratio(3, "plugins/list latency: warm / cold cache", w, c, "", "")
	return nil
}
