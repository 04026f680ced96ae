package component

import (
	"fmt"
	"strings"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// coreModule is what chiphost needs to know about one core module: its
// imports, exports and memories, and enough about its code to tell the
// main module from the adapter, shim and fixup.
type coreModule struct {
	bin      []byte
	name     string // module name from the "name" custom section, if any
	imports  []coreImport
	exports  []coreExport
	memories []wasmbin.Limits // imported first, then defined
	tables   int              // imported + defined
	nfuncs   int              // defined functions (function section)
	bodies   [][]byte         // code section entries, without their size prefix
	hasElem  bool
	hasStart bool
}

type coreImport struct {
	module, name string
	kind         byte
}

type coreExport struct {
	name string
	kind byte
	idx  uint32
}

func (m *coreModule) export(name string) (coreExport, bool) {
	for _, e := range m.exports {
		if e.name == name {
			return e, true
		}
	}
	return coreExport{}, false
}

// parseCore walks the sections of a core module (bin includes the preamble).
// base is the offset of bin in the whole input, for messages.
func parseCore(bin []byte, base int) (*coreModule, error) {
	if len(bin) < wasmbin.Header || string(bin[:4]) != wasmbin.Magic {
		return nil, wasmbin.Errorf(base, "missing \\0asm magic")
	}
	if string(bin[4:8]) != wasmbin.CoreVersion {
		return nil, wasmbin.Errorf(base, "core module version % x", bin[4:8])
	}
	m := &coreModule{bin: bin}
	return m, wasmbin.Walk(wasmbin.NewReader(bin[wasmbin.Header:], base+wasmbin.Header), wasmbin.CoreSectionName,
		func(s wasmbin.Section) error {
			if err := m.section(s); err != nil {
				return fmt.Errorf("core section %d (%s): %w", s.ID, wasmbin.CoreSectionName(s.ID), err)
			}
			return nil
		})
}

// section reads a section of a core module that chiphost looks at. The
// others are skipped, and so is whatever follows what these read.
func (m *coreModule) section(s wasmbin.Section) error {
	r := s.Reader()
	switch s.ID {
	case wasmbin.SecCustom:
		return m.custom(r)
	case wasmbin.SecImport:
		return m.importSection(r)
	case wasmbin.SecFunction:
		return m.functionSection(r)
	case wasmbin.SecTable:
		return m.tableSection(r)
	case wasmbin.SecMemory:
		return m.memorySection(r)
	case wasmbin.SecExport:
		return m.exportSection(r)
	case wasmbin.SecStart:
		return m.startSection(r)
	case wasmbin.SecElement:
		m.hasElem = true
	case wasmbin.SecCode:
		return m.codeSection(r)
	}
	return nil
}

// custom reads the module name from a "name" section; other custom sections
// are skipped.
func (m *coreModule) custom(r *wasmbin.Reader) error {
	name, err := r.Name()
	if err != nil {
		return err
	}
	if name == "name" {
		m.parseNames(r) // best effort: a bad name section is ignored
	}
	return nil
}

// parseNames extracts the module name (subsection 0) of a core name section.
func (m *coreModule) parseNames(r *wasmbin.Reader) {
	for !r.Done() {
		sub, err := r.Section(nameSubsection)
		if err != nil {
			return
		}
		if sub.ID == wasmbin.NameSubModule {
			if name, err := sub.Reader().Name(); err == nil {
				m.name = name
			}
			return
		}
	}
}

// nameSubsection names a subsection of the name section, for errors.
func nameSubsection(id byte) string { return fmt.Sprintf("name subsection %d", id) }

func (m *coreModule) importSection(r *wasmbin.Reader) error {
	return r.Vec(4, func(int) error {
		mod, err := r.Name()
		if err != nil {
			return err
		}
		name, err := r.Name()
		if err != nil {
			return err
		}
		d, err := r.ImportDesc()
		if err != nil {
			return fmt.Errorf("import %q %q: %w", mod, name, err)
		}
		switch d.Kind {
		case wasmbin.KindTable:
			m.tables++
		case wasmbin.KindMemory:
			m.memories = append(m.memories, d.Limits)
		}
		m.imports = append(m.imports, coreImport{mod, name, d.Kind})
		return nil
	})
}

func (m *coreModule) functionSection(r *wasmbin.Reader) (err error) {
	m.nfuncs, err = r.Count(1)
	return err
}

func (m *coreModule) tableSection(r *wasmbin.Reader) error {
	n, err := r.Count(1)
	m.tables += n
	return err
}

func (m *coreModule) memorySection(r *wasmbin.Reader) error {
	return r.Vec(1, func(int) error {
		l, err := r.Limits()
		if err != nil {
			return err
		}
		m.memories = append(m.memories, l)
		return nil
	})
}

func (m *coreModule) exportSection(r *wasmbin.Reader) error {
	return r.Vec(3, func(int) error {
		name, err := r.Name()
		if err != nil {
			return err
		}
		kind, err := r.Byte()
		if err != nil {
			return err
		}
		idx, err := r.U32()
		if err != nil {
			return err
		}
		m.exports = append(m.exports, coreExport{name, kind, idx})
		return nil
	})
}

func (m *coreModule) startSection(r *wasmbin.Reader) error {
	_, err := r.U32()
	m.hasStart = err == nil
	return err
}

func (m *coreModule) codeSection(r *wasmbin.Reader) error {
	n, err := r.Count(1)
	if err != nil {
		return err
	}
	m.bodies = make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		body, err := r.Prefixed()
		if err != nil {
			return err
		}
		m.bodies = append(m.bodies, body)
	}
	return nil
}

// isStub reports whether body (a code section entry) only forwards its
// parameters through call_indirect: local.get*, i32.const, call_indirect,
// end. This is the shape of every function in wit-component's shim module.
func isStub(body []byte) bool {
	r := wasmbin.NewReader(body, 0)
	if skipLocalDecls(r) != nil {
		return false
	}
	calls := 0
	for !r.Done() {
		op, _ := r.Byte()
		var err error
		switch op {
		case wasmbin.OpLocalGet:
			_, err = r.U32()
		case wasmbin.OpI32Const:
			_, err = r.S32()
		case wasmbin.OpCallIndirect: // type, table
			if _, err = r.U32(); err == nil {
				_, err = r.U32()
			}
			calls++
		case wasmbin.OpEnd:
			return r.Done() && calls == 1
		default:
			return false
		}
		if err != nil {
			return false
		}
	}
	return false
}

// skipLocalDecls reads the local declarations of a function body.
func skipLocalDecls(r *wasmbin.Reader) error {
	return r.Vec(2, func(int) error {
		if _, err := r.U32(); err != nil {
			return err
		}
		return r.SkipValType()
	})
}

// isShim: no imports, no memory, at least one table, an exported table
// named "$imports", and every function a call_indirect stub.
func (m *coreModule) isShim() bool {
	if len(m.imports) != 0 || len(m.memories) != 0 || m.tables == 0 || m.hasStart {
		return false
	}
	if e, ok := m.export("$imports"); !ok || e.kind != wasmbin.KindTable {
		return false
	}
	if len(m.bodies) != m.nfuncs {
		return false
	}
	for _, b := range m.bodies {
		if !isStub(b) {
			return false
		}
	}
	return true
}

// isFixup: imports a table, fills it with an elem segment, defines no
// functions and no memory; its start function (if any) is an import.
func (m *coreModule) isFixup() bool {
	if !m.hasElem || m.nfuncs != 0 || len(m.bodies) != 0 || len(m.memories) != 0 {
		return false
	}
	for _, im := range m.imports {
		if im.kind == wasmbin.KindTable {
			return true
		}
	}
	return false
}

// hasCode reports whether the module defines functions.
func (m *coreModule) hasCode() bool { return m.nfuncs > 0 || len(m.bodies) > 0 }

func (m *coreModule) describe() string {
	var parts []string
	if m.name != "" {
		parts = append(parts, fmt.Sprintf("%q", m.name))
	}
	parts = append(parts, fmt.Sprintf("%d bytes, %d functions", len(m.bin), m.nfuncs))
	return strings.Join(parts, ", ")
}
