package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// pluginRegistry caches the result of discovering the plugin roots.
type pluginRegistry struct {
	host *runtime.Host

	mu      sync.Mutex
	entries []*runtime.Entry
	roots   string // the roots entries were discovered from
	valid   bool
}

// list returns the discovered entries, discovering when the roots changed
// or the cache was invalidated (or force).
func (r *pluginRegistry) list(ctx context.Context, roots []string, force bool) []*runtime.Entry {
	key := strings.Join(roots, "\x00")
	r.mu.Lock()
	defer r.mu.Unlock()
	if force || !r.valid || r.roots != key {
		r.entries = r.host.Discover(ctx, roots)
		r.roots, r.valid = key, true
	}
	return r.entries
}

func (r *pluginRegistry) invalidate() {
	r.mu.Lock()
	r.valid = false
	r.mu.Unlock()
}

// resolvePlugin loads the one plugin a request names (runtime.Host.Resolve:
// an id from plugins/list, i.e. a plugin directory, a plugin name under the
// roots, or a path to a .wasm file) and returns its id. With kind set, only
// a plugin of that kind is accepted.
func (s *Server) resolvePlugin(ctx context.Context, ref string, kind runtime.PluginKind) (string, *runtime.Plugin, error) {
	if ref == "" {
		return "", nil, invalidParams("plugin: missing plugin id")
	}
	e, err := s.opts.Host.Resolve(ctx, ref, s.roots(), kind)
	if err != nil {
		return "", nil, resolveError(ref, err)
	}
	return e.ID, e.Plugin, nil
}

// resolveError maps a resolution failure onto the protocol: a plugin of
// the wrong kind is invalid params, a name or path that matches nothing is
// not found (the reference quoted, bounded); load failures keep their kind,
// and so does running out of file descriptors while looking (a limit, see
// toWire).
func resolveError(ref string, err error) error {
	if outOfDescriptors(err) {
		return err
	}
	var wk *runtime.WrongKindError
	if errors.As(err, &wk) {
		var re *runtime.Error
		errors.As(err, &re)
		return invalidParams("plugin %s is a %s, want a %s", re.Plugin, wk.Got, wk.Want)
	}
	var re *runtime.Error
	if !errors.As(err, &re) || re.Kind != runtime.KindNotFound || re.Op != "" {
		return err
	}
	why := "no such plugin"
	if inner := re.Err.Error(); inner == "no such file" {
		why = inner
	} else {
		why += ": " + clip(inner, 2*maxEcho)
	}
	return notFound("plugin %s: %s", echo(ref), why)
}

func (s *Server) pluginsList(ctx context.Context, p *protocol.PluginsListParams) (*protocol.PluginsListResult, error) {
	return s.listWithProgress(ctx, p, false), nil
}

func (s *Server) pluginsReload(ctx context.Context, p *protocol.PluginsListParams) (*protocol.PluginsListResult, error) {
	return s.listWithProgress(ctx, p, true), nil
}

func (s *Server) listResult(ctx context.Context, force bool) *protocol.PluginsListResult {
	entries := s.plugins.list(ctx, s.roots(), force)
	out := &protocol.PluginsListResult{Plugins: make([]protocol.PluginInfo, 0, len(entries))}
	for _, e := range entries {
		info := protocol.PluginInfo{
			ID: e.ID, Name: e.Name, Kind: e.Kind, Title: e.Title, Description: e.Description,
			Path: e.WasmPath, Readme: e.Readme, State: "valid", Warnings: e.Warnings,
		}
		if e.Plugin != nil {
			info.Version = e.Plugin.Version.String()
			info.APIVersion = e.Plugin.APIVersion.String()
		}
		if !e.Valid() {
			info.State = "invalid"
			err := e.Err
			if err == nil {
				err = fmt.Errorf("plugin %s is invalid", e.Name)
			}
			info.Error = errorData(err, e.Name)
		}
		out.Plugins = append(out.Plugins, info)
	}
	return out
}

func (s *Server) pluginsDescribe(ctx context.Context, p *protocol.PluginsDescribeParams) (*protocol.PluginsDescribeResult, error) {
	id, pl, err := s.resolvePlugin(ctx, p.ID, "")
	if err != nil {
		return nil, err
	}
	items := pl.ConfigSchemas
	if items == nil {
		items = []schema.Item{}
	}
	js, err := json.Marshal(schema.JSONSchema(items))
	if err != nil {
		return nil, fmt.Errorf("encoding config schema of %s: %w", pl.Name, err)
	}
	md := runtime.ReadMetadata(pl.Path)
	return &protocol.PluginsDescribeResult{
		ID: id, Name: pl.Name, Kind: pl.Kind, Title: md.Title, Description: md.Description,
		Version: pl.Version.String(), APIVersion: pl.APIVersion.String(),
		ConfigItems: items, ConfigSchema: js, RenderOptions: pl.RenderOptions,
		Warnings: append(slices.Clip(pl.Warnings), md.Warnings...),
	}, nil
}

// pluginConfig validates a JSON config object against a plugin's schema and
// completes it with defaults.
func pluginConfig(p *runtime.Plugin, raw map[string]json.RawMessage) ([]schema.Setting, error) {
	given, err := schema.ValuesFromJSON(p.ConfigSchemas, raw)
	if err != nil {
		return nil, configError(p.Name, err)
	}
	settings, err := schema.Complete(p.ConfigSchemas, given)
	if err != nil {
		return nil, configError(p.Name, err)
	}
	return settings, nil
}

// configError is -32602 with data.errors; its message is the CLI's.
func configError(plugin string, err error) error {
	err = schema.ForPlugin(plugin, err)
	d := errorData(err, plugin)
	d.Kind = string(runtime.KindConfig)
	return wireError(protocol.CodeInvalidParams, err.Error(), d)
}

// watchPlugins polls the plugin roots and sends plugins/changed when a
// plugin directory or binary changes.
func (s *Server) watchPlugins(last string) {
	t := time.NewTicker(s.opts.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-s.baseCtx.Done():
			return
		case <-t.C:
			roots := s.roots()
			sig := rootsSignature(roots)
			if sig != last {
				last = sig
				s.plugins.invalidate()
				s.notify(protocol.MethodPluginsChanged, protocol.PluginsChangedParams{Roots: roots})
			}
		}
	}
}

// rootsSignature summarises the plugin directories under roots (names,
// sizes and modification times of their files).
func rootsSignature(roots []string) string {
	var b strings.Builder
	for _, d := range runtime.PluginDirs(roots, "") {
		files, _ := os.ReadDir(d.Path)
		for _, f := range files {
			if fi, err := f.Info(); err == nil {
				fmt.Fprintf(&b, "%s/%s %d %d\n", d.Path, f.Name(), fi.Size(), fi.ModTime().UnixNano())
			}
		}
	}
	return b.String()
}
