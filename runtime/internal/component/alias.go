package component

import "github.com/chiphost/chiphost/runtime/internal/wasmbin"

// Alias targets.
const (
	aliasExport     = 0x00 // an export of a component instance
	aliasCoreExport = 0x01 // an export of a core instance
	aliasOuter      = 0x02 // an item of an enclosing component
)

// aliases decodes the alias section.
func (d *decoder) aliases(r *wasmbin.Reader) error {
	return r.Vec(3, func(int) error { return d.alias(r) })
}

func (d *decoder) alias(r *wasmbin.Reader) error {
	srt, err := readSort(r)
	if err != nil {
		return err
	}
	at := r.Offset()
	tgt, err := r.Byte()
	if err != nil {
		return err
	}
	switch tgt {
	case aliasExport:
		if srt&sortCore != 0 && srt != sortCoreModule {
			return wasmbin.Errorf(at, "alias export of %s from a component instance", sortName(srt))
		}
		return d.aliasExportOf(r, srt, sortInstance)
	case aliasCoreExport:
		if srt&sortCore == 0 {
			return wasmbin.Errorf(at, "alias core export of %s", sortName(srt))
		}
		return d.aliasExportOf(r, srt, sortCoreInst)
	case aliasOuter:
		return d.outerAlias(r, srt)
	}
	return wasmbin.Errorf(at, "unknown alias target 0x%02x", tgt)
}

// aliasExportOf reads the instance (of sort instSort) and the export name of
// an export alias, and adds the aliased item to the index space of srt.
func (d *decoder) aliasExportOf(r *wasmbin.Reader, srt, instSort int) error {
	inst, err := d.sortIdx(r, instSort)
	if err != nil {
		return err
	}
	name, err := r.Name()
	if err != nil {
		return err
	}
	return d.addAliased(srt, inst, name)
}

// addAliased adds the export name of instance inst to the index space of srt.
func (d *decoder) addAliased(srt, inst int, name string) error {
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
	case sortFunc:
		d.funcs = append(d.funcs, &compFunc{kind: fAlias, inst: inst, name: name})
	case sortType:
		d.scope.types = append(d.scope.types, d.instanceExportType(inst, name))
	case sortInstance:
		d.insts = append(d.insts, &compInst{kind: iAlias, of: inst, name: name})
	case sortComponent:
		d.comps = append(d.comps, nestedComp{of: -1})
	case sortValue:
		return unsupported("component values: not supported")
	}
	return nil
}

// instanceExportType returns the type that imported instance inst exports as
// name, or unknownType.
func (d *decoder) instanceExportType(inst int, name string) *ctype {
	if ci := d.insts[inst]; ci.kind == iImport && ci.t != nil {
		if e := ci.t.export(name); e != nil && e.kind == externType {
			return e.t
		}
	}
	return unknownType
}

// outerAlias reads an outer alias at the top level, where only the component
// itself (count 0) encloses it.
func (d *decoder) outerAlias(r *wasmbin.Reader, srt int) error {
	at := r.Offset()
	ct, err := r.U32()
	if err != nil {
		return err
	}
	idx, err := r.U32()
	if err != nil {
		return err
	}
	if ct != 0 {
		return wasmbin.Errorf(at, "outer alias count %d at the top level", ct)
	}
	if uint64(idx) >= uint64(d.space(srt)) {
		return wasmbin.Errorf(at, "outer alias %s index %d out of range", sortName(srt), idx)
	}
	switch srt {
	case sortType:
		d.scope.types = append(d.scope.types, d.scope.types[idx])
	case sortComponent:
		d.comps = append(d.comps, nestedComp{of: int(idx)})
	case sortCoreModule:
		d.modules = append(d.modules, modEntry{})
	default:
		return wasmbin.Errorf(at, "outer alias of %s", sortName(srt))
	}
	return nil
}
