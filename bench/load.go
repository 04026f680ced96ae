package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chiphost/chiphost/internal/benchkit"
)

func (b *bencher) loadSection(ctx context.Context) error {
	runs := b.Runs()
	fixtures := []struct{ name, rel string }{{"C string_parser", fxString}, {"Go go_records", fxGo}, {"JS js_string_parser", fxJS}}
	for _, fx := range fixtures {
		path := b.cfg.fixture(fx.rel)
		if fx.rel != fxString && b.Quick() {
			b.Skip(3, fx.name+" load: skipped in quick mode (cold compiles take seconds)")
			continue
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Skip(3, fx.name+" load: "+err.Error())
			continue
		}
		// Populate the warm cache first.
		if _, err := b.LoadRun(path, false, false)(ctx); err != nil {
			return err
		}
		coldRuns := runs
		if fx.rel == fxJS {
			coldRuns = 1 // a cold compile of 12 MB takes most of a minute
		}
		cold, err := b.Interleave(ctx, coldRuns, []runner{{Name: "cold", Run: b.LoadRun(path, true, false)}})
		if err != nil {
			return err
		}
		warm, err := b.Interleave(ctx, runs, []runner{{Name: "warm", Run: b.LoadRun(path, false, false)}, {Name: "warm-open", Run: b.LoadRun(path, false, true)}})
		if err != nil {
			return err
		}
		note := fmt.Sprintf("%.2f MB component; new Host each run", float64(st.Size())/1e6)
		c := b.Figure(3, fx.name+": cold load (no cache: decode, instrument, compile, metadata)", "ms", benchkit.Map(cold[0], sample.Millis), note)
		w := b.Figure(3, fx.name+": warm load (compilation + metadata cache on disk)", "ms", benchkit.Map(warm[0], sample.Millis), "")
		wo := b.Figure(3, fx.name+": warm open (warm load + new initialised parser)", "ms", benchkit.Map(warm[1], sample.Millis), "")
		target := ""
		if st.Size() >= 1<<20 {
			target = "≤ 0.05"
		}
		b.Ratio(3, fx.name+": warm / cold load", w, c, target, "")
		if fx.rel == fxGo {
			b.Ratio(3, "Go go_records: warm open, ms (absolute; target ≤ 50 ms)", wo, 1, "≤ 50", "")
		}
	}
	return b.listLatency(ctx)
}

// listLatency measures initialize → first plugins/list reply with 20
// plugins installed (10 copies each of the C and the Go parser), with a
// fresh cache (cold) and a populated one (warm).
func (b *bencher) listLatency(ctx context.Context) error {
	if b.cfg.Exe == "" {
		b.Skip(3, "plugins/list latency: no chiphost binary")
		return nil
	}
	dir := b.TempDir()
	root := filepath.Join(dir, "root-20")
	plugins := map[string]string{}
	for i := 0; i < 10; i++ {
		plugins[fmt.Sprintf("c_parser_%02d", i)] = b.cfg.fixture(fxString)
		if b.Quick() {
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
			list, err := c.initialize(ctx)
			s := sample{Secs: time.Since(t).Seconds()}
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
	warmCache := func() string { return b.CacheDir }
	if _, err := run(warmCache)(ctx); err != nil { // populate
		return err
	}
	ss, err := b.Interleave(ctx, b.Runs(), []runner{{Name: "cold", Run: run(fresh)}, {Name: "warm", Run: run(warmCache)}})
	if err != nil {
		return err
	}
	c := b.Figure(3, "initialize → plugins/list reply, 20 plugins (10 C + 10 Go copies), empty cache", "ms", benchkit.Map(ss[0], sample.Millis), "server already started; identical copies share one compilation")
	w := b.Figure(3, "initialize → plugins/list reply, 20 plugins, warm cache", "ms", benchkit.Map(ss[1], sample.Millis), "")
	b.Ratio(3, "plugins/list latency: warm / cold cache", w, c, "", "")
	return nil
}
