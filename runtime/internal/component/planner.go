package component

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// planner holds the state of building a Plan once the walk is done.
type planner struct {
	*decoder
	mainInst int         // the core instance every lift points into
	main     int         // its module index
	mod      *coreModule // its module
}

// plan builds the Plan: it finds the main module, then maps the component's
// exports and imports onto it and classifies the other modules.
func (d *decoder) plan() (*Plan, error) {
	p := &planner{decoder: d, mainInst: -1, main: -1}
	if err := p.findMain(); err != nil {
		return nil, err
	}
	if err := p.checkMemories(); err != nil {
		return nil, err
	}
	plan := &Plan{Core: p.mod.bin, Main: p.main, Initialize: p.initialize()}
	var err error
	if plan.Exports, err = p.exportsPlan(); err != nil {
		return nil, err
	}
	if plan.Imports, err = p.importsPlan(); err != nil {
		return nil, err
	}
	if plan.Modules, err = p.roles(); err != nil {
		return nil, err
	}
	if plan.CoreImports, err = p.coreImports(); err != nil {
		return nil, err
	}
	return plan, nil
}

// findMain finds the main module: every lift's core function must come from
// the same instantiated core instance, of an embedded module instantiated
// once.
func (p *planner) findMain() error {
	nlift := 0
	for fi, f := range p.funcs {
		if f.kind != fLift {
			continue
		}
		nlift++
		if err := p.noteLift(fi, f); err != nil {
			return err
		}
	}
	if nlift == 0 {
		return unsupported("component: no canon lift: the component exports no functions")
	}
	p.main = p.coreInsts[p.mainInst].module
	p.mod = p.modules[p.main].m
	if p.mod == nil {
		return unsupported("component: main core module %d is imported or aliased, not embedded", p.main)
	}
	for i, ci := range p.coreInsts {
		if i != p.mainInst && ci.module == p.main {
			return unsupported("component: core module %d is instantiated more than once", p.main)
		}
	}
	return nil
}

// noteLift checks that lift fi points into the main instance, the first
// lift deciding which instance that is.
func (p *planner) noteLift(fi int, f *compFunc) error {
	ref, ok := p.resolveCore(p.coreFuncs[f.lift.fn].coreRef, sortCoreFunc)
	if !ok {
		return unsupported("component: func %d: canon lift of core func %d, which is not an export of an instantiated core module", fi, f.lift.fn)
	}
	if p.mainInst < 0 {
		p.mainInst = ref.inst
	} else if ref.inst != p.mainInst {
		return unsupported("component: canon lifts point at core instances %d (module %d) and %d (module %d): more than one module with lifted code is not supported",
			p.mainInst, p.coreInsts[p.mainInst].module, ref.inst, p.coreInsts[ref.inst].module)
	}
	return nil
}

func (p *planner) checkMemories() error {
	if len(p.mod.memories) > 1 {
		return unsupported("component: core module %d: %d memories: multiple memories are not supported", p.main, len(p.mod.memories))
	}
	for _, m := range p.mod.memories {
		if m.Is64 {
			return unsupported("component: core module %d: 64-bit memory is not supported", p.main)
		}
		if m.Shared {
			return unsupported("component: core module %d: shared memory is not supported", p.main)
		}
	}
	return nil
}

// initializeNames are the main-module exports to call before anything else.
var initializeNames = []string{"_initialize", "cm32p2_initialize"}

// initialize returns the first of initializeNames the main module exports as
// a function, or "".
func (p *planner) initialize() string {
	for _, name := range initializeNames {
		if e, ok := p.mod.export(name); ok && e.kind == wasmbin.KindFunc {
			return name
		}
	}
	return ""
}

// mainExport names the main-module export a core func or memory option
// resolves to; it fails unless the option points into the main instance.
func (p *planner) mainExport(idx int, srt int, what string) (string, error) {
	var ref coreRef
	if srt == sortCoreMemory {
		ref = p.coreMems[idx]
	} else {
		ref = p.coreFuncs[idx].coreRef
	}
	ref, ok := p.resolveCore(ref, srt)
	if !ok || ref.inst != p.mainInst {
		return "", unsupported("%s option does not point into the main module instance", what)
	}
	return ref.name, nil
}

// option names the main-module export an option resolves to, or returns ""
// for an absent option (-1).
func (p *planner) option(idx int, srt int, what string) (string, error) {
	if idx < 0 {
		return "", nil
	}
	return p.mainExport(idx, srt, what)
}

// lift describes the canon lift fn, exported under the WIT name name.
func (p *planner) lift(fn *compFunc, name string) (*Lift, error) {
	c := fn.lift
	t := p.scope.types[c.typ]
	if t.kind != ctFunc {
		return nil, fmt.Errorf("component: export %s: canon lift type %d is not a function type: %w", name, c.typ, ErrMalformed)
	}
	if t.bad != "" {
		return nil, unsupported("component: export %s: %s is not supported", name, t.bad)
	}
	f := *t.fn
	f.Name = name
	ref, _ := p.resolveCore(p.coreFuncs[c.fn].coreRef, sortCoreFunc)
	l := &Lift{Name: name, Type: &f, Core: ref.name, Encoding: c.enc}
	var err error
	if l.Memory, err = p.option(c.mem, sortCoreMemory, "memory"); err == nil {
		if l.Realloc, err = p.option(c.realloc, sortCoreFunc, "realloc"); err == nil {
			l.PostReturn, err = p.option(c.post, sortCoreFunc, "post-return")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("component: export %s: %w", name, err)
	}
	return l, nil
}

// liftOf describes the lift of component func fidx, which export exports as
// name.
func (p *planner) liftOf(fidx int, export, name string) (*Lift, error) {
	f := p.resolveFunc(fidx)
	if f == nil || f.kind != fLift {
		return nil, unsupported("component: export %q: function %s is not a canon lift of the main module", export, name)
	}
	return p.lift(f, name)
}
