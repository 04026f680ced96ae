package component

import (
	"fmt"
	"strings"
)

// Core module external kinds, as in the core binary format.
const (
	kindFunc   = 0x00
	kindTable  = 0x01
	kindMemory = 0x02
	kindGlobal = 0x03
	kindTag    = 0x04
)

var coreKindNames = [...]string{"func", "table", "memory", "global", "tag"}

func coreKindName(k byte) string {
	if int(k) < len(coreKindNames) {
		return coreKindNames[k]
	}
	return fmt.Sprintf("kind 0x%02x", k)
}

// coreModule is what chiphost needs to know about one core module: its
// imports, exports and memories, and enough about its code to tell the
// main module from the adapter, shim and fixup.
type coreModule struct {
	bin      []byte
	name     string // module name from the "name" custom section, if any
	imports  []coreImport
	exports  []coreExport
	memories []memType // imported first, then defined
	tables   int       // imported + defined
	nfuncs   int       // defined functions (function section)
	bodies   [][]byte  // code section entries, without their size prefix
	hasElem  bool
	hasStart bool
	start    uint32
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

type memType struct{ mem64, shared bool }

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
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, fmt.Errorf("offset 0x%x: missing \\0asm magic: %w", base, ErrMalformed)
	}
	if bin[4] != 1 || bin[5] != 0 || bin[6] != 0 || bin[7] != 0 {
		return nil, fmt.Errorf("offset 0x%x: core module version % x: %w", base, bin[4:8], ErrMalformed)
	}
	m := &coreModule{bin: bin}
	r := newReader(bin, base)
	r.pos = 8
	for !r.eof() {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		payload, err := r.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("core section %d: %w", id, err)
		}
		s := newReader(payload, r.offset()-len(payload))
		if err := m.section(id, s); err != nil {
			return nil, fmt.Errorf("core section %d: %w", id, err)
		}
	}
	return m, nil
}

func (m *coreModule) section(id byte, r *reader) error {
	switch id {
	case 0:
		name, err := r.name()
		if err != nil {
			return err
		}
		if name == "name" {
			m.parseNames(r) // best effort: a bad name section is ignored
		}
	case 2: // import
		n, err := r.count(4)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			mod, err := r.name()
			if err != nil {
				return err
			}
			name, err := r.name()
			if err != nil {
				return err
			}
			kind, err := r.byte()
			if err != nil {
				return err
			}
			if err := m.importDesc(kind, r); err != nil {
				return fmt.Errorf("import %q %q: %w", mod, name, err)
			}
			m.imports = append(m.imports, coreImport{mod, name, kind})
		}
	case 3: // function
		n, err := r.count(1)
		if err != nil {
			return err
		}
		m.nfuncs = n
	case 4: // table
		n, err := r.count(1)
		if err != nil {
			return err
		}
		m.tables += n
	case 5: // memory
		n, err := r.count(1)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			mt, err := limits(r)
			if err != nil {
				return err
			}
			m.memories = append(m.memories, mt)
		}
	case 7: // export
		n, err := r.count(3)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			name, err := r.name()
			if err != nil {
				return err
			}
			kind, err := r.byte()
			if err != nil {
				return err
			}
			idx, err := r.u32()
			if err != nil {
				return err
			}
			m.exports = append(m.exports, coreExport{name, kind, idx})
		}
	case 8: // start
		idx, err := r.u32()
		if err != nil {
			return err
		}
		m.hasStart, m.start = true, idx
	case 9: // elem
		m.hasElem = true
	case 10: // code
		n, err := r.count(1)
		if err != nil {
			return err
		}
		m.bodies = make([][]byte, 0, n)
		for i := 0; i < n; i++ {
			size, err := r.u32()
			if err != nil {
				return err
			}
			body, err := r.bytes(int(size))
			if err != nil {
				return err
			}
			m.bodies = append(m.bodies, body)
		}
	}
	return nil
}

func (m *coreModule) importDesc(kind byte, r *reader) error {
	switch kind {
	case kindFunc:
		_, err := r.u32()
		return err
	case kindTable:
		if err := refType(r); err != nil {
			return err
		}
		_, err := limits(r)
		if err == nil {
			m.tables++
		}
		return err
	case kindMemory:
		mt, err := limits(r)
		if err == nil {
			m.memories = append(m.memories, mt)
		}
		return err
	case kindGlobal:
		if err := valType(r); err != nil {
			return err
		}
		_, err := r.byte()
		return err
	case kindTag:
		if _, err := r.byte(); err != nil {
			return err
		}
		_, err := r.u32()
		return err
	}
	return r.errf("unknown import kind 0x%02x", kind)
}

// limits reads core limits (memory or table) including the memory64,
// shared and custom-page-size flag bits.
func limits(r *reader) (memType, error) {
	flags, err := r.byte()
	if err != nil {
		return memType{}, err
	}
	if flags&^0x0f != 0 {
		return memType{}, r.errf("unknown limits flags 0x%02x", flags)
	}
	mt := memType{mem64: flags&0x04 != 0, shared: flags&0x02 != 0}
	n := 1
	if flags&0x01 != 0 {
		n = 2
	}
	for i := 0; i < n; i++ {
		if err := r.skipLEB(); err != nil {
			return memType{}, err
		}
	}
	if flags&0x08 != 0 {
		if _, err := r.u32(); err != nil {
			return memType{}, err
		}
	}
	return mt, nil
}

// valType reads a core value type (numeric, vector or reference).
func valType(r *reader) error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x6e, 0x6d, 0x6c, 0x6b, 0x6a, 0x69, 0x71, 0x72, 0x73, 0x74:
		return nil
	case 0x63, 0x64: // (ref null? ht)
		_, err := r.s33()
		return err
	}
	return r.errf("unknown core value type 0x%02x", c)
}

func refType(r *reader) error { return valType(r) }

// parseNames extracts the module name (subsection 0) of a core name section.
func (m *coreModule) parseNames(r *reader) {
	for !r.eof() {
		id, err := r.byte()
		if err != nil {
			return
		}
		size, err := r.u32()
		if err != nil {
			return
		}
		sub, err := r.bytes(int(size))
		if err != nil {
			return
		}
		if id == 0 {
			if name, err := newReader(sub, 0).name(); err == nil {
				m.name = name
			}
			return
		}
	}
}

// isStub reports whether body (a code section entry) only forwards its
// parameters through call_indirect: local.get*, i32.const, call_indirect,
// end. This is the shape of every function in wit-component's shim module.
func isStub(body []byte) bool {
	r := newReader(body, 0)
	n, err := r.count(2)
	if err != nil {
		return false
	}
	for i := 0; i < n; i++ {
		if _, err := r.u32(); err != nil {
			return false
		}
		if err := valType(r); err != nil {
			return false
		}
	}
	calls := 0
	for !r.eof() {
		op, _ := r.byte()
		switch op {
		case 0x20: // local.get
			if _, err := r.u32(); err != nil {
				return false
			}
		case 0x41: // i32.const
			if _, err := r.s33(); err != nil {
				return false
			}
		case 0x11: // call_indirect
			if _, err := r.u32(); err != nil {
				return false
			}
			if _, err := r.u32(); err != nil {
				return false
			}
			calls++
		case 0x0b: // end
			return r.eof() && calls == 1
		default:
			return false
		}
	}
	return false
}

// isShim: no imports, no memory, at least one table, an exported table
// named "$imports", and every function a call_indirect stub.
func (m *coreModule) isShim() bool {
	if len(m.imports) != 0 || len(m.memories) != 0 || m.tables == 0 || m.hasStart {
		return false
	}
	if e, ok := m.export("$imports"); !ok || e.kind != kindTable {
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
	hasTable := false
	for _, im := range m.imports {
		if im.kind == kindTable {
			hasTable = true
		}
	}
	return hasTable
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
