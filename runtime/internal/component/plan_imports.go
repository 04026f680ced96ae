package component

import (
	"fmt"
	"strings"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
	"github.com/chiphost/chiphost/wit"
)

// importsPlan lists the top-level interface and function imports with their
// types.
func (p *planner) importsPlan() ([]Import, error) {
	var out []Import
	for _, im := range p.imports {
		switch im.kind {
		case externInstance:
			x, err := instanceImport(im)
			if err != nil {
				return nil, err
			}
			out = append(out, *x)
		case externFunc:
			if im.t.kind != ctFunc {
				return nil, fmt.Errorf("component: import %q: type is not a function: %w", im.name, ErrMalformed)
			}
			if im.t.bad != "" {
				continue
			}
			f := *im.t.fn
			f.Name = im.name
			out = append(out, Import{Name: im.name, Funcs: []*wit.Func{&f}})
		}
	}
	return out, nil
}

// instanceImport lists the functions and value types an imported interface
// declares. For a chipmunk interface, a type chiphost cannot lift or lower is
// an error; for the others (only the adapter calls them) it is left out.
func instanceImport(im *importEntry) (*Import, error) {
	chipmunk := strings.HasPrefix(im.name, "chipmunk:")
	x := &Import{Name: im.name, Types: map[string]*wit.Type{}}
	for _, e := range im.t.exports {
		switch e.kind {
		case externFunc:
			if e.t.kind != ctFunc {
				return nil, fmt.Errorf("component: import %q: %s: type is not a function: %w", im.name, e.name, ErrMalformed)
			}
			if e.t.bad != "" {
				if chipmunk {
					return nil, unsupported("component: import %q: function %s: %s is not supported", im.name, e.name, e.t.bad)
				}
				continue
			}
			f := *e.t.fn
			f.Name = e.name
			x.Funcs = append(x.Funcs, &f)
		case externType:
			if e.t.kind == ctVal && e.t.val != nil {
				x.Types[e.name] = e.t.val
			} else if chipmunk && e.t.bad != "" {
				return nil, unsupported("component: import %q: type %s: %s is not supported", im.name, e.name, e.t.bad)
			}
		}
	}
	return x, nil
}

// wasiPreview1 is the module of the main module's WASI imports.
const wasiPreview1 = "wasi_snapshot_preview1"

// coreImports classifies the main module's imports.
func (p *planner) coreImports() ([]CoreImport, error) {
	var out []CoreImport
	var bad []RefusedImport
	for _, im := range p.mod.imports {
		ci := CoreImport{Module: im.module, Name: im.name}
		if im.kind != wasmbin.KindFunc {
			bad = append(bad, RefusedImport{Module: im.module, Name: im.name, Why: wasmbin.KindName(im.kind) + " import"})
			continue
		}
		if im.module == wasiPreview1 {
			ci.Kind = WASI
			out = append(out, ci)
			continue
		}
		low, why := p.lowerFor(im.module, im.name)
		if low == nil {
			bad = append(bad, RefusedImport{Module: im.module, Name: im.name, Why: why})
			continue
		}
		ci.Kind, ci.Lower = Lowered, low
		out = append(out, ci)
	}
	if len(bad) > 0 {
		return nil, &ImportsError{Module: p.main, Core: p.mod.bin, Imports: bad}
	}
	return out, nil
}

// lowerFor finds the canon lower feeding main-module import module.name,
// or says why there is none.
func (p *planner) lowerFor(module, name string) (*Lower, string) {
	if strings.HasPrefix(module, "wasi:") {
		return p.wasiLower(module, name)
	}
	inst, it := p.importedInstance(module)
	return p.lowerOf(inst, it, module, name)
}

// WASIVersionPrefix is the WASI release chiphost serves: every 0.2.x
// version is compatible with 0.2.0 (semver: 0.x minor releases only add).
const WASIVersionPrefix = "0.2."

// WASIModule returns the unversioned interface name ("wasi:io/poll") of a
// core import module or component import name that names a WASI 0.2.x
// interface ("wasi:io/poll@0.2.10"), and whether it does.
func WASIModule(module string) (string, bool) {
	name, ver, _ := strings.Cut(module, "@")
	return name, strings.HasPrefix(name, "wasi:") && strings.HasPrefix(ver, WASIVersionPrefix)
}

// wasiLower finds what feeds a main-module import of a WASI 0.2 function.
// The core import may name another 0.2.x version than the component import
// (componentize-js names its core imports 0.2.10 and imports 0.2.12): the
// component import of the same interface at any 0.2.x version serves it.
// "[resource-drop]r" is described as a lowered function taking own<r>.
func (p *planner) wasiLower(module, name string) (*Lower, string) {
	iface, ok := WASIModule(module)
	if !ok {
		return nil, "WASI version other than 0.2.x"
	}
	inst := -1
	var it *ctype
	for i, ci := range p.insts {
		if n, ok := WASIModule(ci.name); ci.kind == iImport && ok && n == iface {
			inst, it = i, ci.t
		}
	}
	if inst < 0 {
		return nil, "no component import of that interface at version 0.2.x"
	}
	if res, ok := strings.CutPrefix(name, "[resource-drop]"); ok {
		return p.resourceDrop(p.insts[inst].name, it, name, res)
	}
	return p.lowerOf(inst, it, p.insts[inst].name, name)
}

// resourceDrop describes the canon resource.drop of resource res, exported
// by the imported instance of type it, as a function taking own<res>.
func (p *planner) resourceDrop(module string, it *ctype, name, res string) (*Lower, string) {
	e := it.export(res)
	if e == nil || e.kind != externType || e.t.kind != ctResource || e.t.res == nil {
		return nil, "the interface declares no such resource"
	}
	found := false
	for _, cf := range p.coreFuncs {
		if c := cf.canon; c != nil && c.op == canonResourceDrop && c.fn < len(p.scope.types) && p.scope.types[c.fn] == e.t {
			found = true
		}
	}
	if !found {
		return nil, "no canon resource.drop of that resource"
	}
	fn := &wit.Func{Name: name, Params: []wit.Param{{Name: "self", Type: &wit.Type{Kind: wit.Own, Elem: e.t.res}}}}
	return &Lower{Interface: module, Func: name, Type: fn}, ""
}

// lowerOf describes the canon lower of function name of imported instance
// inst (of type it), or says why there is none.
func (p *planner) lowerOf(inst int, it *ctype, module, name string) (*Lower, string) {
	if inst < 0 {
		switch {
		case module == "$root":
			return nil, "world-level function imports are not supported"
		case strings.HasPrefix(module, "[export]"):
			return nil, "exported resources are not supported"
		}
		return nil, "no component import of that name"
	}
	e := it.export(name)
	if e == nil || e.kind != externFunc {
		if strings.HasPrefix(name, "[resource-") {
			return nil, "resources are not supported"
		}
		return nil, "the interface declares no such function"
	}
	if e.t.bad != "" {
		return nil, e.t.bad + " is not supported"
	}
	c := p.canonLowerOf(p.insts[inst], name)
	if c == nil {
		return nil, "no canon lower of that function"
	}
	fn := *e.t.fn
	fn.Name = name
	low := &Lower{Interface: module, Func: name, Type: &fn, Encoding: c.enc}
	var err error
	if low.Memory, err = p.option(c.mem, sortCoreMemory, "memory"); err == nil {
		low.Realloc, err = p.option(c.realloc, sortCoreFunc, "realloc")
	}
	if err != nil {
		return nil, err.Error()
	}
	return low, ""
}

// importedInstance returns the index and type of the last instance import
// named module, or -1.
func (p *planner) importedInstance(module string) (int, *ctype) {
	inst := -1
	var it *ctype
	for i, ci := range p.insts {
		if ci.kind == iImport && ci.name == module {
			inst, it = i, ci.t
		}
	}
	return inst, it
}

// canonLowerOf returns the first canon lower of function name of instance
// src, or nil.
func (p *planner) canonLowerOf(src *compInst, name string) *canonEntry {
	for _, cf := range p.coreFuncs {
		c := cf.canon
		if c == nil || c.op != canonLower {
			continue
		}
		f := p.resolveFunc(c.fn)
		if f == nil || f.kind != fAlias || f.name != name {
			continue
		}
		if p.resolveInst(f.inst) == src {
			return c
		}
	}
	return nil
}
