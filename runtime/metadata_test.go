package runtime_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// TestUnusableDefaults loads a real plugin whose schemas declare float
// defaults NaN and +inf and a dropdown default that is not an option (the
// odd_schema fixture): it loads, with one warning per item naming the plugin
// and the item, both freshly and from the metadata cache; the float items
// have no default (a value must be given) and the dropdown's default is its
// first option, which is what the plugin's init receives.
func TestUnusableDefaults(t *testing.T) {
	wantWarnings := []string{
		`plugin odd_schema: config "ratio": the float default NaN is not a finite number: it is left out, and a value must be given`,
		`plugin odd_schema: config "scale": the float default +Inf is not a finite number: it is left out, and a value must be given`,
		`plugin odd_schema: config "level": the dropdown default "medium" is not one of its options: the first option, "low", is the default instead, as in Chipmunk`,
	}
	cache := t.TempDir()
	for _, load := range []string{"fresh", "from the metadata cache"} {
		t.Run(load, func(t *testing.T) {
			var mu sync.Mutex
			var logs []string
			h := newTestHost(t, &Options{CacheDir: cache, OnLog: func(r LogRecord) {
				mu.Lock()
				logs = append(logs, r.Message)
				mu.Unlock()
			}})
			p, err := h.Load(context.Background(), fixture(t, "hostile/odd_schema.wasm"))
			if err != nil {
				t.Fatal(err)
			}
			cached, _ := filepath.Glob(filepath.Join(cache, "metadata", "*", p.Hash+".json"))
			if len(cached) != 1 {
				t.Fatalf("metadata of odd_schema not cached: %v", cached)
			}
			if !slices.Equal(p.Warnings, wantWarnings) {
				t.Errorf("warnings:\n%q\nwant\n%q", p.Warnings, wantWarnings)
			}
			defaults := make([]any, len(p.ConfigSchemas))
			for i, it := range p.ConfigSchemas {
				defaults[i] = it.InputType.Default
			}
			if !slices.Equal(defaults, []any{nil, nil, "low", "odd"}) {
				t.Errorf("defaults %v, want [nil nil low odd]", defaults)
			}
			if _, err := schema.Complete(p.ConfigSchemas, nil); err == nil {
				t.Error("Complete without values for ratio and scale succeeded")
			}
			settings, err := schema.Complete(p.ConfigSchemas, map[string]schema.Value{
				"ratio": {Type: schema.Float, Float: 2.5}, "scale": {Type: schema.Float, Float: 1}})
			if err != nil {
				t.Fatal(err)
			}
			pi, err := p.NewParser(context.Background(), &InitOptions{Config: settings})
			if err != nil {
				t.Fatal(err)
			}
			pi.Close()
			mu.Lock()
			defer mu.Unlock()
			want := []string{`ratio = Float(2.5)`, `scale = Float(1.0)`, `level = Dropdown("low")`, `name = Text("odd")`}
			if !slices.Equal(logs, want) {
				t.Errorf("init received %q, want %q", logs, want)
			}
		})
	}
}
