package component

import "fmt"

// exportsPlan maps the top-level function and instance exports to lifts of
// the main module.
func (p *planner) exportsPlan() ([]Export, error) {
	var out []Export
	for _, e := range p.exports {
		var x *Export
		var err error
		switch e.sort {
		case sortFunc:
			x, err = p.funcExport(e)
		case sortInstance:
			x, err = p.instanceExport(e)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	if len(out) == 0 {
		return nil, unsupported("component: no function or instance exports")
	}
	return out, nil
}

// funcExport maps a function export.
func (p *planner) funcExport(e inlineExport) (*Export, error) {
	l, err := p.liftOf(e.idx, e.name, e.name)
	if err != nil {
		return nil, err
	}
	return &Export{Name: e.name, Funcs: []*Lift{l}}, nil
}

// instanceExport maps an instance export: an instance made of exported lifts,
// or an instance of the nested shim component.
func (p *planner) instanceExport(e inlineExport) (*Export, error) {
	x := &Export{Name: e.name}
	ci := p.resolveInst(e.idx)
	var err error
	switch ci.kind {
	case iSynthetic:
		x.Funcs, err = p.syntheticLifts(e.name, ci)
	case iInstantiate:
		x.Funcs, err = p.nestedLifts(e.name, ci)
	default:
		return nil, unsupported("component: export %q: re-exporting an imported or aliased instance is not supported", e.name)
	}
	if err != nil {
		return nil, err
	}
	return x, nil
}

// syntheticLifts returns the lifts of the functions of an instance made of
// exports.
func (p *planner) syntheticLifts(export string, ci *compInst) ([]*Lift, error) {
	var lifts []*Lift
	for _, ie := range ci.exports {
		if ie.sort != sortFunc {
			continue
		}
		l, err := p.liftOf(ie.idx, export, ie.name)
		if err != nil {
			return nil, err
		}
		lifts = append(lifts, l)
	}
	return lifts, nil
}

// nestedLifts returns the lifts of the functions that an instance of a nested
// component exports: each is an import of the nested component, supplied by
// an instantiation argument.
func (p *planner) nestedLifts(export string, ci *compInst) ([]*Lift, error) {
	info := p.resolveComp(ci.comp)
	if info == nil {
		return nil, unsupported("component: export %q: instance of an imported component is not supported", export)
	}
	var lifts []*Lift
	for _, ne := range info.exports {
		if ne.sort != sortFunc {
			continue
		}
		imp := info.funcs[ne.idx]
		if imp == "" {
			return nil, unsupported("component: export %q: function %s is not an import of the nested shim component", export, ne.name)
		}
		fidx := suppliedFunc(ci.args, imp)
		if fidx < 0 {
			return nil, fmt.Errorf("component: export %q: nested component import %q is not supplied: %w", export, imp, ErrMalformed)
		}
		l, err := p.liftOf(fidx, export, ne.name)
		if err != nil {
			return nil, err
		}
		lifts = append(lifts, l)
	}
	return lifts, nil
}

// suppliedFunc returns the func that the last instantiation argument named
// imp supplies, or -1.
func suppliedFunc(args []inlineExport, imp string) int {
	fidx := -1
	for _, a := range args {
		if a.name == imp && a.sort == sortFunc {
			fidx = a.idx
		}
	}
	return fidx
}
