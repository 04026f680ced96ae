package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

func parseDuration(s string) (time.Duration, error) {
	if s == "0" || s == "" {
		return -1, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return -1, nil
	}
	return d, nil
}

// resolvePlugin loads PLUGIN: a .wasm path, or the name of a discovered
// plugin of the wanted kind ("" = any).
func resolvePlugin(ctx context.Context, h *runtime.Host, ref string, roots []string, kind runtime.PluginKind) (*runtime.Plugin, error) {
	if strings.HasSuffix(ref, ".wasm") || strings.ContainsRune(ref, os.PathSeparator) {
		if _, err := os.Stat(ref); err == nil {
			return h.Load(ctx, ref)
		}
	}
	var names []string
	for _, e := range h.Discover(ctx, roots) {
		if kind != "" && e.Kind != kind {
			continue
		}
		names = append(names, e.Name)
		if e.Name == ref {
			if e.Err != nil {
				return nil, fmt.Errorf("plugin %s is invalid: %w", ref, e.Err)
			}
			return e.Plugin, nil
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("plugin %q: no such file, and no plugins found in %s", ref, strings.Join(roots, ", "))
	}
	return nil, fmt.Errorf("plugin %q: no such file or discovered plugin (found: %s)", ref, strings.Join(names, ", "))
}

// configFrom turns repeated id=value flags into settings for p, in schema
// order, with defaults for the rest.
func configFrom(p *runtime.Plugin, flags []string) ([]schema.Setting, error) {
	given := map[string]schema.Value{}
	byID := map[string]schema.Item{}
	for _, it := range p.ConfigSchemas {
		byID[it.ID] = it
	}
	for _, f := range flags {
		id, text, ok := strings.Cut(f, "=")
		if !ok {
			return nil, usageError{fmt.Errorf("config %q: want id=value", f)}
		}
		it, ok := byID[id]
		if !ok {
			ids := make([]string, 0, len(p.ConfigSchemas))
			for _, it := range p.ConfigSchemas {
				ids = append(ids, it.ID)
			}
			return nil, usageError{fmt.Errorf("config %q: plugin %s has no such item (items: %s)", id, p.Name, strings.Join(ids, ", "))}
		}
		v, err := schema.ParseText(it, text)
		if err != nil {
			return nil, usageError{fmt.Errorf("config %s: %w", id, err)}
		}
		if prev, ok := given[id]; ok && (v.Type == schema.Files || v.Type == schema.Directories) {
			v.Paths = append(prev.Paths, v.Paths...)
		}
		given[id] = v
	}
	return schema.Complete(p.ConfigSchemas, given)
}
