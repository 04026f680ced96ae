package component

import "github.com/chiphost/chiphost/runtime/internal/wasmbin"

// nestedInfo is what chiphost reads from a nested component: for each of
// its functions the import it comes from, and its exports.
type nestedInfo struct {
	funcs   []string // import name per func index ("" if not an import)
	exports []inlineExport
	hasCore bool
}

// nested reads one nested component.
type nested struct {
	info  *nestedInfo
	sc    *scope
	depth int
}

// analyzeNested reads a nested component just far enough to map its
// exported functions back to its imports, and to see whether it (or any
// component nested in it) holds core modules.
func analyzeNested(bin []byte, base int, parent *scope, depth int) (*nestedInfo, error) {
	if depth > maxDepth {
		return nil, unsupported("components nested deeper than %d are not supported", maxDepth)
	}
	if len(bin) < wasmbin.Header || string(bin[:wasmbin.Header]) != wasmbin.Magic+wasmbin.ComponentVersion {
		return nil, wasmbin.Errorf(base, "nested component has a bad preamble")
	}
	n := &nested{info: &nestedInfo{}, sc: &scope{parent: parent, depth: depth}, depth: depth}
	err := walkComponent(wasmbin.NewReader(bin[wasmbin.Header:], base+wasmbin.Header), n.section)
	return n.info, err
}

// section reads one section of the nested component.
func (n *nested) section(s wasmbin.Section) error {
	r := s.Reader()
	switch s.ID {
	case wasmbin.CompSecCoreModule:
		n.info.hasCore = true
	case wasmbin.CompSecComponent:
		child, err := analyzeNested(s.Payload, s.Offset, n.sc, n.depth+1)
		if err != nil {
			return err
		}
		n.info.hasCore = n.info.hasCore || child.hasCore
	case wasmbin.CompSecAlias:
		return r.Vec(3, func(int) error { return n.alias(r) })
	case wasmbin.CompSecType:
		return r.Vec(1, func(int) error { return n.sc.deftype(r) })
	case wasmbin.CompSecCanon:
		return r.Vec(2, func(int) error { return n.canon(r) })
	case wasmbin.CompSecImport:
		return r.Vec(3, func(int) error { return n.imp(r) })
	case wasmbin.CompSecExport:
		return r.Vec(3, func(int) error { return n.export(r) })
	}
	return nil
}

// alias notes the functions and types an alias defines; their origin does not
// matter.
func (n *nested) alias(r *wasmbin.Reader) error {
	srt, err := readSort(r)
	if err != nil {
		return err
	}
	if err := skipAliasTarget(r); err != nil {
		return err
	}
	switch srt {
	case sortFunc:
		n.info.funcs = append(n.info.funcs, "")
	case sortType:
		n.sc.types = append(n.sc.types, unknownType)
	}
	return nil
}

// canon notes the functions a canon lift defines.
func (n *nested) canon(r *wasmbin.Reader) error {
	c, err := readCanon(r)
	if err != nil {
		return err
	}
	if c.op == canonLift {
		n.info.funcs = append(n.info.funcs, "")
	}
	return nil
}

// imp notes the functions and types an import defines.
func (n *nested) imp(r *wasmbin.Reader) error {
	name, err := externName(r)
	if err != nil {
		return err
	}
	kind, t, err := n.sc.externdesc(r)
	if err != nil {
		return err
	}
	switch kind {
	case externFunc:
		n.info.funcs = append(n.info.funcs, name)
	case externType:
		n.sc.types = append(n.sc.types, t)
	}
	return nil
}

// export records an export, which also defines an item of its sort.
func (n *nested) export(r *wasmbin.Reader) error {
	name, err := externName(r)
	if err != nil {
		return err
	}
	srt, err := readSort(r)
	if err != nil {
		return err
	}
	at := r.Offset()
	idx, err := r.U32()
	if err != nil {
		return err
	}
	if err := n.sc.optExterndesc(r); err != nil {
		return err
	}
	n.info.exports = append(n.info.exports, inlineExport{name: name, sort: srt, idx: int(idx)})
	switch srt {
	case sortFunc:
		if int(idx) >= len(n.info.funcs) {
			return wasmbin.Errorf(at, "func index %d out of range (%d defined)", idx, len(n.info.funcs))
		}
		n.info.funcs = append(n.info.funcs, n.info.funcs[idx])
	case sortType:
		if int(idx) >= len(n.sc.types) {
			return wasmbin.Errorf(at, "type index %d out of range (%d defined)", idx, len(n.sc.types))
		}
		n.sc.types = append(n.sc.types, n.sc.types[idx])
	}
	return nil
}

// skipAliasTarget skips the target of an alias.
func skipAliasTarget(r *wasmbin.Reader) error {
	at := r.Offset()
	t, err := r.Byte()
	if err != nil {
		return err
	}
	switch t {
	case aliasExport, aliasCoreExport:
		if _, err := r.U32(); err != nil {
			return err
		}
		_, err := r.Name()
		return err
	case aliasOuter:
		_, _, err := readOuter(r)
		return err
	}
	return wasmbin.Errorf(at, "unknown alias target 0x%02x", t)
}
