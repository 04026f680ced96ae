package component

import (
	"fmt"
	"strings"

	"github.com/chiphost/chiphost/wit"
)

// Decode reads a component (or a bare core module) and returns the plan
// for running it through its main core module. It never panics; errors
// wrap ErrNotWasm, ErrMalformed or ErrUnsupported.
func Decode(bin []byte) (*Plan, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		n := len(bin)
		if n > 8 {
			n = 8
		}
		return nil, fmt.Errorf("component: input starts with % x, not \\0asm: %w", bin[:n], ErrNotWasm)
	}
	version := uint16(bin[4]) | uint16(bin[5])<<8
	layer := uint16(bin[6]) | uint16(bin[7])<<8
	switch {
	case layer == 1 && version == 0x0d:
		d := &decoder{bin: bin, scope: &scope{}}
		if err := d.walk(); err != nil {
			return nil, err
		}
		return d.plan()
	case layer == 0 && version == 1:
		return decodeCore(bin)
	}
	return nil, fmt.Errorf("component: wasm layer %d version 0x%x: want a component (layer 1, version 0x0d) or a core module (layer 0, version 1): %w",
		layer, version, ErrNotWasm)
}

type modEntry struct {
	m      *coreModule // nil when imported or aliased
	offset int
}

type coreInst struct {
	module  int // -1 for a synthetic instance built from exports
	args    []instArg
	exports []inlineExport
}

type instArg struct {
	name string
	inst int
}

type inlineExport struct {
	name string
	sort int
	idx  int
}

// coreRef is an alias of a core instance export (inst >= 0), or a
// definition that is not an alias (inst == -1).
type coreRef struct {
	inst int
	name string
}

type coreFunc struct {
	coreRef
	canon *canonEntry // set for canon lower / resource.*
}

const (
	fOther = iota
	fImport
	fAlias
	fLift
	fExport
)

type compFunc struct {
	kind int
	inst int    // fAlias: instance index
	name string // fAlias: export name; fImport: import name
	lift *canonEntry
	of   int // fExport: aliased func index
}

const (
	iOther = iota
	iImport
	iInstantiate
	iSynthetic
	iExport
)

type compInst struct {
	kind    int
	name    string // iImport
	t       *ctype // iImport: the instance type
	comp    int    // iInstantiate
	args    []inlineExport
	exports []inlineExport // iSynthetic
	of      int            // iExport
}

type nestedComp struct {
	info *nestedInfo // nil when imported or aliased
	of   int         // exported: index aliased, else -1
}

type importEntry struct {
	name string
	kind byte
	t    *ctype
}

type decoder struct {
	bin       []byte
	scope     *scope
	modules   []modEntry
	coreInsts []*coreInst
	coreFuncs []coreFunc
	coreMems  []coreRef
	coreTabs  int
	coreGlobs int
	funcs     []*compFunc
	insts     []*compInst
	comps     []nestedComp
	imports   []*importEntry
	exports   []inlineExport
}

func (d *decoder) walk() error {
	r := newReader(d.bin, 0)
	r.pos = 8
	err := walkSections(r, d.section)
	if err != nil {
		return fmt.Errorf("component: %w", err)
	}
	return nil
}

func (d *decoder) space(srt int) int {
	switch srt {
	case sortFunc:
		return len(d.funcs)
	case sortType:
		return len(d.scope.types)
	case sortComponent:
		return len(d.comps)
	case sortInstance:
		return len(d.insts)
	case sortCoreFunc:
		return len(d.coreFuncs)
	case sortCoreTable:
		return d.coreTabs
	case sortCoreMemory:
		return len(d.coreMems)
	case sortCoreGlobal:
		return d.coreGlobs
	case sortCoreModule:
		return len(d.modules)
	case sortCoreInst:
		return len(d.coreInsts)
	}
	return 0 // values and core types are not tracked: any reference is refused
}

func (d *decoder) sortIdx(r *reader, srt int) (int, error) {
	return r.idx(sortName(srt), d.space(srt))
}

func sortName(srt int) string {
	switch srt {
	case sortFunc:
		return "func"
	case sortValue:
		return "value"
	case sortType:
		return "type"
	case sortComponent:
		return "component"
	case sortInstance:
		return "instance"
	case sortCoreFunc:
		return "core func"
	case sortCoreTable:
		return "core table"
	case sortCoreMemory:
		return "core memory"
	case sortCoreGlobal:
		return "core global"
	case sortCoreType:
		return "core type"
	case sortCoreModule:
		return "core module"
	case sortCoreInst:
		return "core instance"
	}
	return fmt.Sprintf("sort 0x%x", srt)
}

func (d *decoder) section(id byte, r *reader) error {
	var err error
	switch id {
	case 0, 3: // custom; core types are not referenced by anything chiphost reads
		return nil
	case 1:
		m, perr := parseCore(r.b, r.base)
		if perr != nil {
			if isUnsupported(perr) {
				return unsupported("core module %d: %v", len(d.modules), perr)
			}
			return fmt.Errorf("core module %d: %w", len(d.modules), perr)
		}
		d.modules = append(d.modules, modEntry{m: m, offset: r.base})
		return nil
	case 2:
		err = d.coreInstances(r)
	case 4:
		info, nerr := analyzeNested(r.b, r.base, d.scope, 1)
		if nerr != nil {
			return nerr
		}
		if info.hasCore {
			return unsupported("nested component %d contains core modules: composed components are not supported", len(d.comps))
		}
		d.comps = append(d.comps, nestedComp{info: info, of: -1})
		return nil
	case 5:
		err = d.instances(r)
	case 6:
		err = d.aliases(r)
	case 7:
		n, cerr := r.count(1)
		if cerr != nil {
			return cerr
		}
		for i := 0; i < n && err == nil; i++ {
			err = d.scope.deftype(r)
		}
	case 8:
		err = d.canons(r)
	case 9:
		return unsupported("component start function: not supported")
	case 10:
		err = d.importSection(r)
	case 11:
		err = d.exportSection(r)
	case 12:
		return unsupported("component value definitions: not supported")
	default:
		return r.errf("unknown section id %d", id)
	}
	if err == nil && !r.eof() {
		err = r.errf("%d trailing bytes", r.remaining())
	}
	return err
}

func (d *decoder) coreInstances(r *reader) error {
	n, err := r.count(2)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		tag, err := r.byte()
		if err != nil {
			return err
		}
		ci := &coreInst{module: -1}
		switch tag {
		case 0x00:
			if ci.module, err = d.sortIdx(r, sortCoreModule); err != nil {
				return err
			}
			na, err := r.count(3)
			if err != nil {
				return err
			}
			for j := 0; j < na; j++ {
				name, err := r.name()
				if err != nil {
					return err
				}
				if b, err := r.byte(); err != nil {
					return err
				} else if b != 0x12 {
					return r.errf("instantiate argument %q: sort 0x%02x is not instance", name, b)
				}
				inst, err := d.sortIdx(r, sortCoreInst)
				if err != nil {
					return err
				}
				ci.args = append(ci.args, instArg{name, inst})
			}
		case 0x01:
			ne, err := r.count(3)
			if err != nil {
				return err
			}
			for j := 0; j < ne; j++ {
				name, err := r.name()
				if err != nil {
					return err
				}
				srt, err := readCoreSort(r)
				if err != nil {
					return err
				}
				idx, err := d.sortIdx(r, srt)
				if err != nil {
					return err
				}
				ci.exports = append(ci.exports, inlineExport{name, srt, idx})
			}
		default:
			return r.errf("unknown core instance tag 0x%02x", tag)
		}
		d.coreInsts = append(d.coreInsts, ci)
	}
	return nil
}

func (d *decoder) instances(r *reader) error {
	n, err := r.count(2)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		tag, err := r.byte()
		if err != nil {
			return err
		}
		ci := &compInst{}
		switch tag {
		case 0x00:
			ci.kind = iInstantiate
			if ci.comp, err = d.sortIdx(r, sortComponent); err != nil {
				return err
			}
			na, err := r.count(3)
			if err != nil {
				return err
			}
			for j := 0; j < na; j++ {
				name, err := r.name()
				if err != nil {
					return err
				}
				srt, err := readSort(r)
				if err != nil {
					return err
				}
				idx, err := d.sortIdx(r, srt)
				if err != nil {
					return err
				}
				ci.args = append(ci.args, inlineExport{name, srt, idx})
			}
		case 0x01:
			ci.kind = iSynthetic
			ne, err := r.count(3)
			if err != nil {
				return err
			}
			for j := 0; j < ne; j++ {
				name, err := externName(r)
				if err != nil {
					return err
				}
				srt, err := readSort(r)
				if err != nil {
					return err
				}
				idx, err := d.sortIdx(r, srt)
				if err != nil {
					return err
				}
				ci.exports = append(ci.exports, inlineExport{name, srt, idx})
			}
		default:
			return r.errf("unknown instance tag 0x%02x", tag)
		}
		d.insts = append(d.insts, ci)
	}
	return nil
}

func (d *decoder) aliases(r *reader) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		srt, err := readSort(r)
		if err != nil {
			return err
		}
		tgt, err := r.byte()
		if err != nil {
			return err
		}
		var inst int
		var name string
		switch tgt {
		case 0x00: // export of a component instance
			if srt&sortCore != 0 && srt != sortCoreModule {
				return r.errf("alias export of %s from a component instance", sortName(srt))
			}
			if inst, err = d.sortIdx(r, sortInstance); err != nil {
				return err
			}
			if name, err = r.name(); err != nil {
				return err
			}
		case 0x01: // core export of a core instance
			if srt&sortCore == 0 {
				return r.errf("alias core export of %s", sortName(srt))
			}
			if inst, err = d.sortIdx(r, sortCoreInst); err != nil {
				return err
			}
			if name, err = r.name(); err != nil {
				return err
			}
		case 0x02: // outer
			ct, err := r.u32()
			if err != nil {
				return err
			}
			idx, err := r.u32()
			if err != nil {
				return err
			}
			if ct != 0 {
				return r.errf("outer alias count %d at the top level", ct)
			}
			if uint64(idx) >= uint64(d.space(srt)) {
				return r.errf("outer alias %s index %d out of range", sortName(srt), idx)
			}
			switch srt {
			case sortType:
				d.scope.types = append(d.scope.types, d.scope.types[idx])
			case sortComponent:
				d.comps = append(d.comps, nestedComp{of: int(idx)})
			case sortCoreModule:
				d.modules = append(d.modules, modEntry{})
			default:
				return r.errf("outer alias of %s", sortName(srt))
			}
			continue
		default:
			return r.errf("unknown alias target 0x%02x", tgt)
		}
		switch srt {
		case sortCoreFunc:
			d.coreFuncs = append(d.coreFuncs, coreFunc{coreRef: coreRef{inst, name}})
		case sortCoreMemory:
			d.coreMems = append(d.coreMems, coreRef{inst, name})
		case sortCoreTable:
			d.coreTabs++
		case sortCoreGlobal:
			d.coreGlobs++
		case sortCoreModule:
			d.modules = append(d.modules, modEntry{})
		case sortCoreInst:
			d.coreInsts = append(d.coreInsts, &coreInst{module: -1})
		case sortCoreType:
		case sortFunc:
			d.funcs = append(d.funcs, &compFunc{kind: fAlias, inst: inst, name: name})
		case sortType:
			t := unknownType
			if ci := d.insts[inst]; ci.kind == iImport && ci.t != nil {
				if e := ci.t.export(name); e != nil && e.kind == 0x03 {
					t = e.t
				}
			}
			d.scope.types = append(d.scope.types, t)
		case sortInstance:
			d.insts = append(d.insts, &compInst{kind: iOther})
		case sortComponent:
			d.comps = append(d.comps, nestedComp{of: -1})
		case sortValue:
			return unsupported("component values: not supported")
		}
	}
	return nil
}

func (d *decoder) canons(r *reader) error {
	n, err := r.count(2)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		start := r.pos
		c, err := readCanon(r)
		if err != nil {
			if isUnsupported(err) {
				return unsupported("canon entry %d: %v", i, err)
			}
			return err
		}
		r.pos = start // validate indices with positions for messages
		if err := d.checkCanon(r, c); err != nil {
			return err
		}
		if _, err := readCanon(r); err != nil {
			return err
		}
		switch c.op {
		case 0x00:
			d.funcs = append(d.funcs, &compFunc{kind: fLift, lift: c})
		default:
			d.coreFuncs = append(d.coreFuncs, coreFunc{coreRef: coreRef{inst: -1}, canon: c})
		}
	}
	return nil
}

func (d *decoder) checkCanon(r *reader, c *canonEntry) error {
	check := func(what string, idx, size int) error {
		if idx >= size {
			return r.errf("canon %s: %s index %d out of range (%d defined)", canonName(c.op), what, idx, size)
		}
		return nil
	}
	var err error
	switch c.op {
	case 0x00:
		err = check("core func", c.fn, len(d.coreFuncs))
		if err == nil {
			err = check("type", c.typ, len(d.scope.types))
		}
	case 0x01:
		err = check("func", c.fn, len(d.funcs))
	default:
		err = check("type", c.fn, len(d.scope.types))
	}
	if err == nil && c.mem >= 0 {
		err = check("core memory", c.mem, len(d.coreMems))
	}
	if err == nil && c.realloc >= 0 {
		err = check("core func", c.realloc, len(d.coreFuncs))
	}
	if err == nil && c.post >= 0 {
		err = check("core func", c.post, len(d.coreFuncs))
	}
	return err
}

func (d *decoder) importSection(r *reader) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		name, err := externName(r)
		if err != nil {
			return err
		}
		kind, t, err := d.scope.externdesc(r)
		if err != nil {
			return fmt.Errorf("import %q: %w", name, err)
		}
		d.imports = append(d.imports, &importEntry{name: name, kind: kind, t: t})
		switch kind {
		case 0x00:
			d.modules = append(d.modules, modEntry{})
		case 0x01:
			d.funcs = append(d.funcs, &compFunc{kind: fImport, name: name})
		case 0x02:
			return unsupported("import %q: value imports are not supported", name)
		case 0x03:
			d.scope.types = append(d.scope.types, t)
		case 0x04:
			d.comps = append(d.comps, nestedComp{of: -1})
		case 0x05:
			if t.kind != ctInstance {
				return r.errf("import %q: type is not an instance type", name)
			}
			d.insts = append(d.insts, &compInst{kind: iImport, name: name, t: t})
		}
	}
	return nil
}

func (d *decoder) exportSection(r *reader) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		name, err := externName(r)
		if err != nil {
			return err
		}
		srt, err := readSort(r)
		if err != nil {
			return err
		}
		idx, err := d.sortIdx(r, srt)
		if err != nil {
			return fmt.Errorf("export %q: %w", name, err)
		}
		if err := d.scope.optExterndesc(r); err != nil {
			return fmt.Errorf("export %q: %w", name, err)
		}
		d.exports = append(d.exports, inlineExport{name, srt, idx})
		switch srt {
		case sortFunc:
			d.funcs = append(d.funcs, &compFunc{kind: fExport, of: idx})
		case sortInstance:
			d.insts = append(d.insts, &compInst{kind: iExport, of: idx})
		case sortType:
			t := d.scope.types[idx]
			if t.kind == ctVal && t.val != nil {
				c := *t.val
				c.Name = name
				t = &ctype{kind: ctVal, val: &c}
			}
			d.scope.types = append(d.scope.types, t)
		case sortComponent:
			d.comps = append(d.comps, nestedComp{of: idx})
		case sortCoreModule:
			d.modules = append(d.modules, modEntry{})
		default:
			return r.errf("export %q of %s", name, sortName(srt))
		}
	}
	return nil
}

// resolveCore follows a core item reference through synthetic instances
// to the instantiated core instance that exports it.
func (d *decoder) resolveCore(ref coreRef, srt int) (coreRef, bool) {
	for step := 0; step < 64 && ref.inst >= 0; step++ {
		ci := d.coreInsts[ref.inst]
		if ci.module >= 0 {
			return ref, true
		}
		found := false
		for _, e := range ci.exports {
			if e.name == ref.name && e.sort == srt {
				switch srt {
				case sortCoreFunc:
					ref = d.coreFuncs[e.idx].coreRef
				case sortCoreMemory:
					ref = d.coreMems[e.idx]
				default:
					return coreRef{}, false
				}
				found = true
				break
			}
		}
		if !found {
			return coreRef{}, false
		}
	}
	return coreRef{}, false
}

// resolveFunc follows export re-indexing to the defining component func.
func (d *decoder) resolveFunc(i int) *compFunc {
	for step := 0; step < 64; step++ {
		f := d.funcs[i]
		if f.kind != fExport {
			return f
		}
		i = f.of
	}
	return nil
}

func (d *decoder) resolveInst(i int) *compInst {
	for step := 0; step < 64; step++ {
		ci := d.insts[i]
		if ci.kind != iExport {
			return ci
		}
		i = ci.of
	}
	return &compInst{kind: iOther}
}

func (d *decoder) resolveComp(i int) *nestedInfo {
	for step := 0; step < 64; step++ {
		c := d.comps[i]
		if c.info != nil || c.of < 0 {
			return c.info
		}
		i = c.of
	}
	return nil
}

// planner holds the state of building a Plan once the walk is done.
type planner struct {
	*decoder
	mainInst int
	main     int
	mod      *coreModule
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

func (d *decoder) plan() (*Plan, error) {
	p := &planner{decoder: d, mainInst: -1, main: -1}
	// 1. The main module: every lift's core function must come from the
	// same instantiated core instance.
	nlift := 0
	for fi, f := range d.funcs {
		if f.kind != fLift {
			continue
		}
		nlift++
		ref, ok := d.resolveCore(d.coreFuncs[f.lift.fn].coreRef, sortCoreFunc)
		if !ok {
			return nil, unsupported("component: func %d: canon lift of core func %d, which is not an export of an instantiated core module", fi, f.lift.fn)
		}
		if p.mainInst < 0 {
			p.mainInst = ref.inst
		} else if ref.inst != p.mainInst {
			return nil, unsupported("component: canon lifts point at core instances %d (module %d) and %d (module %d): more than one module with lifted code is not supported",
				p.mainInst, d.coreInsts[p.mainInst].module, ref.inst, d.coreInsts[ref.inst].module)
		}
	}
	if nlift == 0 {
		return nil, unsupported("component: no canon lift: the component exports no functions")
	}
	p.main = d.coreInsts[p.mainInst].module
	p.mod = d.modules[p.main].m
	if p.mod == nil {
		return nil, unsupported("component: main core module %d is imported or aliased, not embedded", p.main)
	}
	for i, ci := range d.coreInsts {
		if i != p.mainInst && ci.module == p.main {
			return nil, unsupported("component: core module %d is instantiated more than once", p.main)
		}
	}
	plan := &Plan{Core: p.mod.bin, Main: p.main}
	if err := p.checkMemories(); err != nil {
		return nil, err
	}
	for _, name := range []string{"_initialize", "cm32p2_initialize"} {
		if e, ok := p.mod.export(name); ok && e.kind == kindFunc {
			plan.Initialize = name
			break
		}
	}
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

func (p *planner) checkMemories() error {
	if len(p.mod.memories) > 1 {
		return unsupported("component: core module %d: %d memories: multiple memories are not supported", p.main, len(p.mod.memories))
	}
	for _, m := range p.mod.memories {
		if m.mem64 {
			return unsupported("component: core module %d: 64-bit memory is not supported", p.main)
		}
		if m.shared {
			return unsupported("component: core module %d: shared memory is not supported", p.main)
		}
	}
	return nil
}

func (p *planner) lift(fn *compFunc, name string) (*Lift, error) {
	c := fn.lift
	l := &Lift{Name: name, Encoding: c.enc}
	t := p.scope.types[c.typ]
	if t.kind != ctFunc {
		return nil, fmt.Errorf("component: export %s: canon lift type %d is not a function type: %w", name, c.typ, ErrMalformed)
	}
	if t.bad != "" {
		return nil, unsupported("component: export %s: %s is not supported", name, t.bad)
	}
	if c.enc != UTF8 {
		return nil, unsupported("component: export %s: string-encoding=%s is not supported", name, c.enc)
	}
	f := *t.fn
	f.Name = name
	l.Type = &f
	ref, _ := p.resolveCore(p.coreFuncs[c.fn].coreRef, sortCoreFunc)
	l.Core = ref.name
	var err error
	if c.mem >= 0 {
		if l.Memory, err = p.mainExport(c.mem, sortCoreMemory, "memory"); err != nil {
			return nil, fmt.Errorf("component: export %s: %w", name, err)
		}
	}
	if c.realloc >= 0 {
		if l.Realloc, err = p.mainExport(c.realloc, sortCoreFunc, "realloc"); err != nil {
			return nil, fmt.Errorf("component: export %s: %w", name, err)
		}
	}
	if c.post >= 0 {
		if l.PostReturn, err = p.mainExport(c.post, sortCoreFunc, "post-return"); err != nil {
			return nil, fmt.Errorf("component: export %s: %w", name, err)
		}
	}
	return l, nil
}

func (p *planner) liftOf(fidx int, export, name string) (*Lift, error) {
	f := p.resolveFunc(fidx)
	if f == nil || f.kind != fLift {
		return nil, unsupported("component: export %q: function %s is not a canon lift of the main module", export, name)
	}
	return p.lift(f, name)
}

func (p *planner) exportsPlan() ([]Export, error) {
	var out []Export
	for _, e := range p.exports {
		switch e.sort {
		case sortFunc:
			l, err := p.liftOf(e.idx, e.name, e.name)
			if err != nil {
				return nil, err
			}
			out = append(out, Export{Name: e.name, Funcs: []*Lift{l}})
		case sortInstance:
			x := Export{Name: e.name}
			ci := p.resolveInst(e.idx)
			switch ci.kind {
			case iSynthetic:
				for _, ie := range ci.exports {
					if ie.sort != sortFunc {
						continue
					}
					l, err := p.liftOf(ie.idx, e.name, ie.name)
					if err != nil {
						return nil, err
					}
					x.Funcs = append(x.Funcs, l)
				}
			case iInstantiate:
				info := p.resolveComp(ci.comp)
				if info == nil {
					return nil, unsupported("component: export %q: instance of an imported component is not supported", e.name)
				}
				for _, ne := range info.exports {
					if ne.sort != sortFunc {
						continue
					}
					imp := info.funcs[ne.idx]
					if imp == "" {
						return nil, unsupported("component: export %q: function %s is not an import of the nested shim component", e.name, ne.name)
					}
					fidx := -1
					for _, a := range ci.args {
						if a.name == imp && a.sort == sortFunc {
							fidx = a.idx
						}
					}
					if fidx < 0 {
						return nil, fmt.Errorf("component: export %q: nested component import %q is not supplied: %w", e.name, imp, ErrMalformed)
					}
					l, err := p.liftOf(fidx, e.name, ne.name)
					if err != nil {
						return nil, err
					}
					x.Funcs = append(x.Funcs, l)
				}
			default:
				return nil, unsupported("component: export %q: re-exporting an imported or aliased instance is not supported", e.name)
			}
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil, unsupported("component: no function or instance exports")
	}
	return out, nil
}

func (p *planner) importsPlan() ([]Import, error) {
	var out []Import
	for _, im := range p.imports {
		chipmunk := strings.HasPrefix(im.name, "chipmunk:")
		switch im.kind {
		case 0x05:
			x := Import{Name: im.name, Types: map[string]*wit.Type{}}
			for _, e := range im.t.exports {
				switch e.kind {
				case 0x01:
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
				case 0x03:
					if e.t.kind == ctVal && e.t.val != nil {
						x.Types[e.name] = e.t.val
					} else if chipmunk && e.t.bad != "" {
						return nil, unsupported("component: import %q: type %s: %s is not supported", im.name, e.name, e.t.bad)
					}
				}
			}
			out = append(out, x)
		case 0x01:
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

// roles classifies every top-level core module.
func (p *planner) roles() ([]ModuleInfo, error) {
	// The adapter: a module whose instance exports reach the main module's
	// wasi_snapshot_preview1 argument, directly or through the fixup that
	// patches the shim's table.
	var wasiArg = -1
	for _, a := range p.coreInsts[p.mainInst].args {
		if a.name == "wasi_snapshot_preview1" {
			wasiArg = a.inst
		}
	}
	suppliers := map[int]bool{} // module indices
	collect := func(inst int) {
		ci := p.coreInsts[inst]
		if ci.module >= 0 {
			suppliers[ci.module] = true
			return
		}
		for _, e := range ci.exports {
			if e.sort != sortCoreFunc {
				continue
			}
			if ref := p.coreFuncs[e.idx].coreRef; ref.inst >= 0 {
				if m := p.coreInsts[ref.inst].module; m >= 0 {
					suppliers[m] = true
				}
			}
		}
	}
	if wasiArg >= 0 {
		collect(wasiArg)
		for _, ci := range p.coreInsts {
			if ci.module < 0 || ci.module == p.main {
				continue
			}
			if m := p.modules[ci.module].m; m != nil && m.isFixup() {
				for _, a := range ci.args {
					collect(a.inst)
				}
			}
		}
	}
	var out []ModuleInfo
	adapter := -1
	for i, me := range p.modules {
		if me.m == nil {
			continue
		}
		info := ModuleInfo{Index: i, Size: len(me.m.bin), Name: me.m.name}
		switch {
		case i == p.main:
			info.Role = Main
		case me.m.isShim():
			info.Role = Shim
		case me.m.isFixup():
			info.Role = Fixup
		case suppliers[i] && adapter < 0 && (me.m.name == "" || strings.HasPrefix(me.m.name, "wit-component:adapter:wasi_snapshot_preview1")):
			info.Role = Adapter
			adapter = i
		default:
			why := "a second module with code"
			if !me.m.hasCode() {
				why = "a module that is neither a shim nor a fixup"
			}
			return nil, unsupported("component: core module %d (%s) is %s: composed components are not supported", i, me.m.describe(), why)
		}
		out = append(out, info)
	}
	return out, nil
}

// coreImports classifies the main module's imports.
func (p *planner) coreImports() ([]CoreImport, error) {
	var out []CoreImport
	var bad []string
	for _, im := range p.mod.imports {
		ci := CoreImport{Module: im.module, Name: im.name}
		q := fmt.Sprintf("%q %q", im.module, im.name)
		if im.kind != kindFunc {
			bad = append(bad, fmt.Sprintf("%s (%s import)", q, coreKindName(im.kind)))
			continue
		}
		if im.module == "wasi_snapshot_preview1" {
			ci.Kind = WASI
			out = append(out, ci)
			continue
		}
		low, why := p.lowerFor(im.module, im.name)
		if low == nil {
			bad = append(bad, q+" ("+why+")")
			continue
		}
		ci.Kind, ci.Lower = Lowered, low
		out = append(out, ci)
	}
	if len(bad) > 0 {
		return nil, unsupported("component: core module %d: unsupported imports: %s", p.main, strings.Join(bad, ", "))
	}
	return out, nil
}

// lowerFor finds the canon lower feeding main-module import module.name,
// or says why there is none.
func (p *planner) lowerFor(module, name string) (*Lower, string) {
	inst := -1
	var it *ctype
	for i, ci := range p.insts {
		if ci.kind == iImport && ci.name == module {
			inst, it = i, ci.t
		}
	}
	if strings.HasPrefix(module, "wasi:") {
		return nil, "direct WASI preview 2 import"
	}
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
	if e == nil || e.kind != 0x01 {
		if strings.HasPrefix(name, "[resource-") {
			return nil, "resources are not supported"
		}
		return nil, "the interface declares no such function"
	}
	if e.t.bad != "" {
		return nil, e.t.bad + " is not supported"
	}
	for _, cf := range p.coreFuncs {
		c := cf.canon
		if c == nil || c.op != 0x01 {
			continue
		}
		f := p.resolveFunc(c.fn)
		if f == nil || f.kind != fAlias || f.name != name {
			continue
		}
		if src := p.resolveInst(f.inst); src != p.insts[inst] {
			continue
		}
		if c.enc != UTF8 {
			return nil, "string-encoding=" + c.enc.String() + " is not supported"
		}
		fn := *e.t.fn
		fn.Name = name
		low := &Lower{Interface: module, Func: name, Type: &fn, Encoding: c.enc}
		var err error
		if c.mem >= 0 {
			if low.Memory, err = p.mainExport(c.mem, sortCoreMemory, "memory"); err != nil {
				return nil, err.Error()
			}
		}
		if c.realloc >= 0 {
			if low.Realloc, err = p.mainExport(c.realloc, sortCoreFunc, "realloc"); err != nil {
				return nil, err.Error()
			}
		}
		return low, ""
	}
	return nil, "no canon lower of that function"
}
