package component

import "fmt"

// A composed component, as `wac plug` or `wasm-tools compose` make one,
// holds the code of its parts as nested components, instantiates them and
// re-exports what they export. chiphost runs the shape with one part that
// holds code: an outer component with no code of its own that instantiates
// that nested component once, giving it the outer component's imports
// under the same names, and exports (some of) its exports. flatten decodes
// the nested component as if it were the input and renames its exports to
// the outer component's names. Two parts with code (a parser plugged with a
// helper component) would need calls from one component instance into
// another, with their own memories; that is refused with a message that
// says so.

// holdsNestedCode reports whether a nested component holds core modules.
func (d *decoder) holdsNestedCode() bool {
	for _, c := range d.comps {
		if c.info != nil && c.info.hasCore {
			return true
		}
	}
	return false
}

// composedError is the error of a composed component chiphost cannot
// flatten.
func composedError(format string, args ...any) error {
	return unsupported("component: composed component: "+format, args...)
}

// flatten plans a composed component through its one nested component
// with code.
func (d *decoder) flatten() (*Plan, error) {
	code := -1
	for i, c := range d.comps {
		if c.info == nil || !c.info.hasCore {
			continue
		}
		if code >= 0 {
			return nil, composedError("nested components %d and %d both hold code (a component plugged into another): "+
				"calls between the instances of two components are not supported", code, i)
		}
		code = i
	}
	if len(d.modules) > 0 || d.hasLifts() {
		return nil, composedError("code both in the outer component and in nested component %d is not supported", code)
	}
	inst, err := d.soleInstantiation(code)
	if err != nil {
		return nil, err
	}
	if err := d.checkPassThrough(code, d.insts[inst]); err != nil {
		return nil, err
	}
	c := d.comps[code]
	plan, err := decodeComponent(c.bin, d.depth+1)
	if err != nil {
		return nil, fmt.Errorf("nested component %d: %w", code, err)
	}
	if plan.IsCoreModule {
		return nil, composedError("nested component %d is not a component", code)
	}
	for _, im := range plan.Imports {
		if findInline(d.insts[inst].args, im.Name, sortInstance) == nil {
			return nil, fmt.Errorf("component: composed component: nested component %d imports %q, which its instantiation does not give: %w", code, im.Name, ErrMalformed)
		}
	}
	if plan.Exports, err = d.reexports(inst, plan.Exports); err != nil {
		return nil, err
	}
	return plan, nil
}

// hasLifts reports whether the outer component lifts any function itself.
func (d *decoder) hasLifts() bool {
	for _, f := range d.funcs {
		if f.kind == fLift {
			return true
		}
	}
	return false
}

// soleInstantiation returns the one instance that instantiates nested
// component code.
func (d *decoder) soleInstantiation(code int) (int, error) {
	inst := -1
	for i, ci := range d.insts {
		if ci.kind != iInstantiate || d.resolveCompIndex(ci.comp) != code {
			continue
		}
		if inst >= 0 {
			return -1, composedError("nested component %d is instantiated more than once", code)
		}
		inst = i
	}
	if inst < 0 {
		return -1, composedError("nested component %d is never instantiated", code)
	}
	return inst, nil
}

// checkPassThrough checks that every instance argument of the
// instantiation is the outer component's import of the same name, so that
// the nested code's imports are the host's. Type arguments only restate
// types; any other argument would be the outer component's own code.
func (d *decoder) checkPassThrough(code int, ci *compInst) error {
	for _, a := range ci.args {
		switch a.sort {
		case sortType:
			continue
		case sortInstance:
		default:
			return composedError("nested component %d is given %s %q: only imports of the outer component can be passed on", code, sortName(a.sort), a.name)
		}
		src := d.resolveInst(a.idx)
		if src.kind != iImport {
			return composedError("nested component %d imports %q from another instance, not from the host: "+
				"calls between the instances of two components are not supported", code, a.name)
		}
		if src.name != a.name {
			return composedError("nested component %d imports %q as the outer import %q: renamed imports are not supported", code, a.name, src.name)
		}
	}
	return nil
}

// reexports maps the outer component's function and instance exports, each
// an export of instance inst, to the nested plan's exports, under the outer
// names.
func (d *decoder) reexports(inst int, inner []Export) ([]Export, error) {
	var out []Export
	for _, e := range d.exports {
		var name string
		switch e.sort {
		case sortInstance:
			ci := d.resolveInst(e.idx)
			if ci.kind != iAlias || ci.of != inst {
				return nil, composedError("export %q is not an export of the nested component's instance", e.name)
			}
			name = ci.name
		case sortFunc:
			f := d.resolveFunc(e.idx)
			if f == nil || f.kind != fAlias || f.inst != inst {
				return nil, composedError("export %q is not an export of the nested component's instance", e.name)
			}
			name = f.name
		default:
			continue
		}
		x := findExport(inner, name)
		if x == nil {
			return nil, fmt.Errorf("component: composed component: export %q: the nested component exports no %q: %w", e.name, name, ErrMalformed)
		}
		x.Name = e.name
		out = append(out, *x)
	}
	if len(out) == 0 {
		return nil, unsupported("component: no function or instance exports")
	}
	return out, nil
}

// findExport returns a copy of the export called name, or nil.
func findExport(exports []Export, name string) *Export {
	for _, x := range exports {
		if x.Name == name {
			return &x
		}
	}
	return nil
}
