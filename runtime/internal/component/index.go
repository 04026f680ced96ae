package component

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// The entries of the top-level index spaces, as the decoder records them.

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

// compFunc kinds.
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

// compInst kinds.
const (
	iOther = iota
	iImport
	iInstantiate
	iSynthetic
	iExport
	iAlias // an export of another instance: of and name
)

type compInst struct {
	kind    int
	name    string // iImport
	t       *ctype // iImport: the instance type
	comp    int    // iInstantiate
	args    []inlineExport
	exports []inlineExport // iSynthetic
	of      int            // iExport: the instance exported; iAlias: the instance aliased from
}

type nestedComp struct {
	info *nestedInfo // nil when imported or aliased
	of   int         // exported: index aliased, else -1
	bin  []byte      // the nested component's bytes, preamble included (set with info)
	base int         // offset of bin in the input
}

type importEntry struct {
	name string
	kind byte
	t    *ctype
}

// Sorts, as in sortidx: component sorts 0x01..0x05, core sorts as
// sortCore|core:sort.
const (
	sortFunc       = 0x01
	sortValue      = 0x02
	sortType       = 0x03
	sortComponent  = 0x04
	sortInstance   = 0x05
	sortCore       = 0x100
	sortCoreFunc   = sortCore // core:sort 0x00
	sortCoreTable  = sortCore | 0x01
	sortCoreMemory = sortCore | 0x02
	sortCoreGlobal = sortCore | 0x03
	sortCoreType   = sortCore | 0x10
	sortCoreModule = sortCore | 0x11
	sortCoreInst   = sortCore | 0x12
)

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

// readSort reads a sort: a component sort, or 0x00 and a core sort.
func readSort(r *wasmbin.Reader) (int, error) {
	at := r.Offset()
	b, err := r.Byte()
	if err != nil {
		return 0, err
	}
	if b == 0x00 {
		return readCoreSort(r)
	}
	if b > sortInstance {
		return 0, wasmbin.Errorf(at, "unknown sort 0x%02x", b)
	}
	return int(b), nil
}

// readCoreSort reads a core sort.
func readCoreSort(r *wasmbin.Reader) (int, error) {
	at := r.Offset()
	cs, err := r.Byte()
	if err != nil {
		return 0, err
	}
	switch srt := sortCore | int(cs); srt {
	case sortCoreFunc, sortCoreTable, sortCoreMemory, sortCoreGlobal, sortCoreType, sortCoreModule, sortCoreInst:
		return srt, nil
	}
	return 0, wasmbin.Errorf(at, "unknown core sort 0x%02x", cs)
}

// space returns the size of the index space of a sort.
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

// sortIdx reads an index into the index space of srt and checks its range.
func (d *decoder) sortIdx(r *wasmbin.Reader, srt int) (int, error) {
	at := r.Offset()
	v, err := r.U32()
	if err != nil {
		return 0, err
	}
	if size := d.space(srt); uint64(v) >= uint64(size) {
		return 0, wasmbin.Errorf(at, "%s index %d out of range (%d defined)", sortName(srt), v, size)
	}
	return int(v), nil
}

// maxChain bounds the re-export chains the resolvers follow.
const maxChain = 64

// resolveCore follows a core item reference through synthetic instances
// to the instantiated core instance that exports it.
func (d *decoder) resolveCore(ref coreRef, srt int) (coreRef, bool) {
	for step := 0; step < maxChain && ref.inst >= 0; step++ {
		ci := d.coreInsts[ref.inst]
		if ci.module >= 0 {
			return ref, true
		}
		e := findInline(ci.exports, ref.name, srt)
		switch {
		case e == nil:
			return coreRef{}, false
		case srt == sortCoreFunc:
			ref = d.coreFuncs[e.idx].coreRef
		case srt == sortCoreMemory:
			ref = d.coreMems[e.idx]
		default:
			return coreRef{}, false
		}
	}
	return coreRef{}, false
}

// findInline returns the first export of that name and sort, or nil.
func findInline(exports []inlineExport, name string, srt int) *inlineExport {
	for i := range exports {
		if exports[i].name == name && exports[i].sort == srt {
			return &exports[i]
		}
	}
	return nil
}

// resolveFunc follows export re-indexing to the defining component func.
func (d *decoder) resolveFunc(i int) *compFunc {
	for step := 0; step < maxChain; step++ {
		f := d.funcs[i]
		if f.kind != fExport {
			return f
		}
		i = f.of
	}
	return nil
}

// resolveInst follows export re-indexing to the defining instance.
func (d *decoder) resolveInst(i int) *compInst {
	for step := 0; step < maxChain; step++ {
		ci := d.insts[i]
		if ci.kind != iExport {
			return ci
		}
		i = ci.of
	}
	return &compInst{kind: iOther}
}

// resolveComp follows export re-indexing and outer aliases to a nested
// component's contents, or returns nil.
func (d *decoder) resolveComp(i int) *nestedInfo {
	if i = d.resolveCompIndex(i); i < 0 {
		return nil
	}
	return d.comps[i].info
}

// resolveCompIndex follows export re-indexing and outer aliases to the
// index of the nested component that defines component i, or -1.
func (d *decoder) resolveCompIndex(i int) int {
	for step := 0; step < maxChain; step++ {
		c := d.comps[i]
		if c.info != nil {
			return i
		}
		if c.of < 0 {
			return -1
		}
		i = c.of
	}
	return -1
}
