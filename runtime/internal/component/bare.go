package component

import (
	"fmt"
	"strings"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// Names of the chipmunk interfaces a bare core module may import.
var bareImports = map[string]string{
	"chipmunk:shared/logging@0.1.0":      "chipmunk:shared/logging@0.1.0",
	"chipmunk:shared/sandbox@0.1.0":      "chipmunk:shared/sandbox@0.1.0",
	"cm32p2|chipmunk:shared/logging@0.1": "chipmunk:shared/logging@0.1.0",
	"cm32p2|chipmunk:shared/sandbox@0.1": "chipmunk:shared/sandbox@0.1.0",
}

// decodeCore builds a Plan for a bare core module that uses the canonical
// ABI export names (chiphost extension; Chipmunk itself loads components
// only). Both manglings are accepted:
//
//	legacy:     "iface#func", "cabi_post_iface#func", cabi_realloc, _initialize, memory
//	standard32: "cm32p2|iface|func", "cm32p2|iface|func_post", cm32p2_realloc,
//	            cm32p2_initialize, cm32p2_memory
//
// A standard32 interface version is given as major.minor ("@0.1"); Export
// names expand it to "@0.1.0".
func decodeCore(bin []byte) (*Plan, error) {
	m, err := parseCore(bin, 0)
	if err != nil {
		if isUnsupported(err) {
			return nil, unsupported("component: core module: %v", err)
		}
		return nil, fmt.Errorf("component: core module: %w", err)
	}
	if err := checkBareMemories(m); err != nil {
		return nil, err
	}
	b := &bare{exported: map[string]byte{}}
	for _, e := range m.exports {
		b.exported[e.name] = e.kind
	}
	b.memory = b.first(wasmbin.KindMemory, "cm32p2_memory", "memory")
	if b.memory == "" {
		return nil, unsupported("component: core module: exports no memory (want \"memory\" or \"cm32p2_memory\")")
	}
	b.realloc = b.first(wasmbin.KindFunc, "cm32p2_realloc", "cabi_realloc")
	plan := &Plan{Core: bin, IsCoreModule: true, Modules: []ModuleInfo{{Index: 0, Size: len(bin), Role: Main, Name: m.name}},
		Initialize: b.first(wasmbin.KindFunc, initializeNames...)}
	if plan.Exports = b.exports(m.exports); len(plan.Exports) == 0 {
		return nil, unsupported("component: core module: exports no canonical-ABI functions (\"iface#func\" or \"cm32p2|iface|func\")")
	}
	if plan.CoreImports, err = b.imports(m.imports); err != nil {
		return nil, err
	}
	return plan, nil
}

func checkBareMemories(m *coreModule) error {
	if len(m.memories) > 1 {
		return unsupported("component: core module: %d memories: multiple memories are not supported", len(m.memories))
	}
	for _, mt := range m.memories {
		if mt.Is64 {
			return unsupported("component: core module: 64-bit memory is not supported")
		}
	}
	return nil
}

// bare holds what the plan of a bare core module is built from.
type bare struct {
	exported map[string]byte // export name → kind
	memory   string          // the memory export
	realloc  string          // the realloc export, or ""
}

// has reports whether the module exports name as kind.
func (b *bare) has(name string, kind byte) bool {
	k, ok := b.exported[name]
	return ok && k == kind
}

// first returns the first of names the module exports as kind, or "".
func (b *bare) first(kind byte, names ...string) string {
	for _, n := range names {
		if b.has(n, kind) {
			return n
		}
	}
	return ""
}

// exports groups the canonical-ABI function exports by interface, in the
// order of their first function.
func (b *bare) exports(exports []coreExport) []Export {
	byIface := map[string]*Export{}
	var order []string
	for _, e := range exports {
		if e.kind != wasmbin.KindFunc {
			continue
		}
		iface, fn, post, ok := splitExportName(e.name)
		if !ok {
			continue
		}
		x := byIface[iface]
		if x == nil {
			x = &Export{Name: iface}
			byIface[iface] = x
			order = append(order, iface)
		}
		l := &Lift{Name: fn, Core: e.name, Memory: b.memory, Realloc: b.realloc, Encoding: UTF8}
		if b.has(post, wasmbin.KindFunc) {
			l.PostReturn = post
		}
		x.Funcs = append(x.Funcs, l)
	}
	out := make([]Export, 0, len(order))
	for _, iface := range order {
		out = append(out, *byIface[iface])
	}
	return out
}

// splitExportName splits a canonical-ABI export name into the interface, the
// function and the name of its post-return function. ok is false for every
// other export, post-return functions and world-level functions included.
func splitExportName(name string) (iface, fn, post string, ok bool) {
	switch {
	case strings.HasPrefix(name, "cm32p2|"):
		rest := strings.TrimPrefix(name, "cm32p2|")
		i := strings.LastIndexByte(rest, '|')
		if i < 0 || strings.HasSuffix(rest, "_post") {
			return "", "", "", false
		}
		iface, fn = rest[:i], rest[i+1:]
		if iface == "" {
			return "", "", "", false // world-level function
		}
		if at := strings.LastIndexByte(iface, '@'); at >= 0 && strings.Count(iface[at:], ".") == 1 {
			iface += ".0"
		}
		return iface, fn, name + "_post", true
	case strings.Contains(name, "#") && !strings.HasPrefix(name, "cabi_post_"):
		i := strings.LastIndexByte(name, '#')
		return name[:i], name[i+1:], "cabi_post_" + name, true
	}
	return "", "", "", false
}

// imports classifies the imports: WASI preview 1, or a chipmunk or WASI
// 0.2.x interface lowered with the module's memory and realloc (the runtime
// checks that the function exists; wazero checks its core signature).
func (b *bare) imports(imports []coreImport) ([]CoreImport, error) {
	var out []CoreImport
	var bad []string
	for _, im := range imports {
		ci := CoreImport{Module: im.module, Name: im.name}
		q := fmt.Sprintf("%q %q", im.module, im.name)
		switch {
		case im.kind != wasmbin.KindFunc:
			bad = append(bad, fmt.Sprintf("%s (%s import)", q, wasmbin.KindName(im.kind)))
			continue
		case im.module == wasiPreview1:
			ci.Kind = WASI
		case bareImports[im.module] != "":
			ci.Kind = Lowered
			ci.Lower = &Lower{Interface: bareImports[im.module], Func: im.name, Memory: b.memory, Realloc: b.realloc}
		case isWASI02(im.module):
			ci.Kind = Lowered
			ci.Lower = &Lower{Interface: im.module, Func: im.name, Memory: b.memory, Realloc: b.realloc}
		default:
			bad = append(bad, q)
			continue
		}
		out = append(out, ci)
	}
	if len(bad) > 0 {
		return nil, unsupported("component: core module: unsupported imports: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

func isWASI02(module string) bool {
	_, ok := WASIModule(module)
	return ok
}
