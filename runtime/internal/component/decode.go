package component

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// Decode reads a component (or a bare core module) and returns the plan
// for running it through its main core module. It never panics; errors
// wrap ErrNotWasm, ErrMalformed or ErrUnsupported.
func Decode(bin []byte) (*Plan, error) {
	p, err := decode(bin)
	return p, markMalformed(err)
}

func decode(bin []byte) (*Plan, error) {
	if len(bin) < wasmbin.Header || string(bin[:4]) != wasmbin.Magic {
		return nil, fmt.Errorf("component: input starts with % x, not \\0asm: %w", bin[:min(len(bin), wasmbin.Header)], ErrNotWasm)
	}
	switch string(bin[4:8]) {
	case wasmbin.ComponentVersion:
		return decodeComponent(bin, 0)
	case wasmbin.CoreVersion:
		return decodeCore(bin)
	}
	version := uint16(bin[4]) | uint16(bin[5])<<8
	layer := uint16(bin[6]) | uint16(bin[7])<<8
	return nil, fmt.Errorf("component: wasm layer %d version 0x%x: want a component (layer 1, version 0x0d) or a core module (layer 0, version 1): %w",
		layer, version, ErrNotWasm)
}

// decodeComponent decodes a component found depth levels deep (0 for the
// input itself; more for the nested code of a composed component).
func decodeComponent(bin []byte, depth int) (*Plan, error) {
	d := &decoder{scope: &scope{depth: depth}, depth: depth}
	if err := d.walk(bin); err != nil {
		return nil, fmt.Errorf("component: %w", err)
	}
	if d.holdsNestedCode() {
		return d.flatten()
	}
	return d.plan()
}

// decoder holds the index spaces of the top-level component as its sections
// define them, as far as planning needs them.
type decoder struct {
	scope     *scope // the type index space
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
	depth     int // nesting depth of this component (0: the input)
}

// walk decodes every section of the component bin.
func (d *decoder) walk(bin []byte) error {
	return walkComponent(wasmbin.NewReader(bin[wasmbin.Header:], wasmbin.Header), d.section)
}

// walkComponent calls each for every section of a component body, adding the
// section to the errors of each, except to ErrUnsupported ones, which read
// better without it.
func walkComponent(r *wasmbin.Reader, each func(wasmbin.Section) error) error {
	return wasmbin.Walk(r, wasmbin.ComponentSectionName, func(s wasmbin.Section) error {
		err := each(s)
		if err != nil && !isUnsupported(err) {
			return fmt.Errorf("section %d (%s): %w", s.ID, wasmbin.ComponentSectionName(s.ID), err)
		}
		return err
	})
}

// section decodes one top-level section.
func (d *decoder) section(s wasmbin.Section) error {
	switch s.ID {
	case wasmbin.CompSecCustom, wasmbin.CompSecCoreType: // core types are not referenced by anything chiphost reads
		return nil
	case wasmbin.CompSecCoreModule:
		return d.coreModule(s)
	case wasmbin.CompSecComponent:
		return d.nestedComponent(s)
	case wasmbin.CompSecStart:
		return unsupported("component start function: not supported")
	case wasmbin.CompSecValue:
		return unsupported("component value definitions: not supported")
	}
	r := s.Reader()
	if err := d.vectorSection(s.ID, r); err != nil {
		return err
	}
	return r.CheckDone()
}

// vectorSection decodes a section that is a vector of entries.
func (d *decoder) vectorSection(id byte, r *wasmbin.Reader) error {
	switch id {
	case wasmbin.CompSecCoreInstance:
		return d.coreInstances(r)
	case wasmbin.CompSecInstance:
		return d.instances(r)
	case wasmbin.CompSecAlias:
		return d.aliases(r)
	case wasmbin.CompSecType:
		return d.types(r)
	case wasmbin.CompSecCanon:
		return d.canons(r)
	case wasmbin.CompSecImport:
		return d.importSection(r)
	case wasmbin.CompSecExport:
		return d.exportSection(r)
	}
	return r.Errorf("unknown section id %d", id)
}

// coreModule decodes an embedded core module.
func (d *decoder) coreModule(s wasmbin.Section) error {
	m, err := parseCore(s.Payload, s.Offset)
	if err != nil {
		if isUnsupported(err) {
			return unsupported("core module %d: %v", len(d.modules), err)
		}
		return fmt.Errorf("core module %d: %w", len(d.modules), err)
	}
	d.modules = append(d.modules, modEntry{m: m, offset: s.Offset})
	return nil
}

// nestedComponent reads a nested component. One that holds core modules is
// the code of a composed component (see flatten).
func (d *decoder) nestedComponent(s wasmbin.Section) error {
	info, err := analyzeNested(s.Payload, s.Offset, d.scope, d.depth+1)
	if err != nil {
		return err
	}
	d.comps = append(d.comps, nestedComp{info: info, of: -1, bin: s.Payload, base: s.Offset})
	return nil
}

// types decodes the type section.
func (d *decoder) types(r *wasmbin.Reader) error {
	return r.Vec(1, func(int) error { return d.scope.deftype(r) })
}
