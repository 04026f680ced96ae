package component

import (
	"fmt"
	"strings"
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
	plan := &Plan{Core: bin, IsCoreModule: true, Modules: []ModuleInfo{{Index: 0, Size: len(bin), Role: Main, Name: m.name}}}
	if len(m.memories) > 1 {
		return nil, unsupported("component: core module: %d memories: multiple memories are not supported", len(m.memories))
	}
	for _, mt := range m.memories {
		if mt.mem64 {
			return nil, unsupported("component: core module: 64-bit memory is not supported")
		}
	}
	exported := map[string]byte{}
	for _, e := range m.exports {
		exported[e.name] = e.kind
	}
	has := func(name string, kind byte) bool {
		k, ok := exported[name]
		return ok && k == kind
	}
	memory := ""
	for _, n := range []string{"cm32p2_memory", "memory"} {
		if has(n, kindMemory) {
			memory = n
			break
		}
	}
	if memory == "" {
		return nil, unsupported("component: core module: exports no memory (want \"memory\" or \"cm32p2_memory\")")
	}
	realloc := ""
	for _, n := range []string{"cm32p2_realloc", "cabi_realloc"} {
		if has(n, kindFunc) {
			realloc = n
			break
		}
	}
	for _, n := range []string{"_initialize", "cm32p2_initialize"} {
		if has(n, kindFunc) {
			plan.Initialize = n
			break
		}
	}
	byIface := map[string]*Export{}
	var order []string
	for _, e := range m.exports {
		if e.kind != kindFunc {
			continue
		}
		var iface, fn, post string
		switch {
		case strings.HasPrefix(e.name, "cm32p2|"):
			rest := strings.TrimPrefix(e.name, "cm32p2|")
			i := strings.LastIndexByte(rest, '|')
			if i < 0 || strings.HasSuffix(rest, "_post") {
				continue
			}
			iface, fn = rest[:i], rest[i+1:]
			post = e.name + "_post"
			if iface == "" {
				continue // world-level function
			}
			if at := strings.LastIndexByte(iface, '@'); at >= 0 && strings.Count(iface[at:], ".") == 1 {
				iface += ".0"
			}
		case strings.Contains(e.name, "#") && !strings.HasPrefix(e.name, "cabi_post_"):
			i := strings.LastIndexByte(e.name, '#')
			iface, fn = e.name[:i], e.name[i+1:]
			post = "cabi_post_" + e.name
		default:
			continue
		}
		x := byIface[iface]
		if x == nil {
			x = &Export{Name: iface}
			byIface[iface] = x
			order = append(order, iface)
		}
		l := &Lift{Name: fn, Core: e.name, Memory: memory, Realloc: realloc, Encoding: UTF8}
		if has(post, kindFunc) {
			l.PostReturn = post
		}
		x.Funcs = append(x.Funcs, l)
	}
	if len(order) == 0 {
		return nil, unsupported("component: core module: exports no canonical-ABI functions (\"iface#func\" or \"cm32p2|iface|func\")")
	}
	for _, iface := range order {
		plan.Exports = append(plan.Exports, *byIface[iface])
	}
	var bad []string
	for _, im := range m.imports {
		ci := CoreImport{Module: im.module, Name: im.name}
		q := fmt.Sprintf("%q %q", im.module, im.name)
		switch {
		case im.kind != kindFunc:
			bad = append(bad, fmt.Sprintf("%s (%s import)", q, coreKindName(im.kind)))
			continue
		case im.module == "wasi_snapshot_preview1":
			ci.Kind = WASI
		case bareImports[im.module] != "":
			ci.Kind = Lowered
			ci.Lower = &Lower{Interface: bareImports[im.module], Func: im.name, Memory: memory, Realloc: realloc}
		default:
			bad = append(bad, q)
			continue
		}
		plan.CoreImports = append(plan.CoreImports, ci)
	}
	if len(bad) > 0 {
		return nil, unsupported("component: core module: unsupported imports: %s", strings.Join(bad, ", "))
	}
	return plan, nil
}
