package runtime

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/chiphost/chiphost/wit"
)

// apiVersion is one supported Chipmunk API version: the interfaces a plugin
// of each kind exports and the interfaces the host provides. Supporting a
// second version means adding its WIT under wit/; nothing here changes.
type apiVersion struct {
	version Version
	exports map[PluginKind]*wit.Interface
	imports map[string]*wit.Interface // by qualified name
}

// exportNames maps the unversioned export interface names to plugin kinds,
// as Chipmunk's host does (plugins_shared/load.rs).
var exportNames = map[string]PluginKind{
	"chipmunk:parser/parser":          Parser,
	"chipmunk:bytesource/byte-source": ByteSource,
	producerExport:                    Producer,
}

// worldNames maps plugin kinds to their unversioned world names.
var worldNames = map[PluginKind]string{
	Parser:     "chipmunk:parser/parse",
	ByteSource: "chipmunk:bytesource/bytesource",
}

func loadAPIs() (map[string]*apiVersion, error) {
	apis := map[string]*apiVersion{}
	for _, v := range wit.Versions() {
		ver, err := parseVersion(v)
		if err != nil {
			return nil, fmt.Errorf("embedded wit %s: %w", v, err)
		}
		res, err := wit.Load(v)
		if err != nil {
			return nil, fmt.Errorf("embedded wit %s: %w", v, err)
		}
		a := &apiVersion{version: ver, exports: map[PluginKind]*wit.Interface{}, imports: map[string]*wit.Interface{}}
		for kind, world := range worldNames {
			w := res.World(world + "@" + v)
			if w == nil {
				return nil, fmt.Errorf("embedded wit %s: world %s missing", v, world)
			}
			if len(w.Exports) != 1 {
				return nil, fmt.Errorf("embedded wit %s: world %s: want one export, found %d", v, world, len(w.Exports))
			}
			a.exports[kind] = w.Exports[0]
			for _, imp := range w.Imports {
				a.imports[imp.QualifiedName()] = imp
			}
		}
		apis[v] = a
	}
	if err := addProducerDraft(apis); err != nil {
		return nil, err
	}
	return apis, nil
}

// parseVersion parses exactly three dot-separated u16 numbers, as Chipmunk does.
func parseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q: want major.minor.patch", s)
	}
	var n [3]uint16
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return Version{}, fmt.Errorf("version %q: %w", s, err)
		}
		n[i] = uint16(v)
	}
	return Version{n[0], n[1], n[2]}, nil
}

func (h *Host) supportedVersions() string {
	var vs []string
	for v := range h.apis {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return strings.Join(vs, ", ")
}

// resolveExport turns a plugin's first export name into its kind and API.
// A bare core module using the standard32 mangling names only major.minor
// ("@0.1"); it matches the newest patch release we support.
func (h *Host) resolveExport(name string) (PluginKind, *apiVersion, error) {
	iface, ver, ok := strings.Cut(name, "@")
	if !ok {
		return "", nil, fmt.Errorf("export %q has no version: the plugin does not match Chipmunk's WIT", name)
	}
	kind, ok := exportNames[iface]
	if !ok {
		return "", nil, fmt.Errorf("unknown plugin interface %q (want chipmunk:parser/parser, chipmunk:bytesource/byte-source or chipmunk:producer/producer)", iface)
	}
	if a, ok := h.apis[ver]; ok {
		return kind, a, nil
	}
	if strings.Count(ver, ".") == 1 {
		var best *apiVersion
		for v, a := range h.apis {
			if strings.HasPrefix(v, ver+".") && (best == nil || a.version.Patch > best.version.Patch) {
				best = a
			}
		}
		if best != nil {
			return kind, best, nil
		}
	}
	return "", nil, fmt.Errorf("API version %s of %s is not supported (supported: %s)", ver, iface, h.supportedVersions())
}
