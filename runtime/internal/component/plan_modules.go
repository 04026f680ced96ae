package component

import "strings"

// adapterName prefixes the name wit-component gives the WASI adapter module.
const adapterName = "wit-component:adapter:wasi_snapshot_preview1"

// roles classifies every top-level core module.
func (p *planner) roles() ([]ModuleInfo, error) {
	suppliers := p.wasiSuppliers()
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
		case suppliers[i] && adapter < 0 && (me.m.name == "" || strings.HasPrefix(me.m.name, adapterName)):
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

// wasiSuppliers returns the modules whose instance exports reach the main
// module's wasi_snapshot_preview1 argument, directly or through the fixup
// that patches the shim's table: the candidates for the adapter.
func (p *planner) wasiSuppliers() map[int]bool {
	suppliers := map[int]bool{} // module indices
	wasiArg := -1
	for _, a := range p.coreInsts[p.mainInst].args {
		if a.name == wasiPreview1 {
			wasiArg = a.inst
		}
	}
	if wasiArg < 0 {
		return suppliers
	}
	p.collectSuppliers(wasiArg, suppliers)
	for _, ci := range p.coreInsts {
		if ci.module < 0 || ci.module == p.main {
			continue
		}
		if m := p.modules[ci.module].m; m != nil && m.isFixup() {
			for _, a := range ci.args {
				p.collectSuppliers(a.inst, suppliers)
			}
		}
	}
	return suppliers
}

// collectSuppliers adds the module of core instance inst, or for an instance
// made of exports the modules its functions come from.
func (p *planner) collectSuppliers(inst int, suppliers map[int]bool) {
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
