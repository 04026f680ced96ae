package interrupt

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// module holds what Instrument learns from the sections it has to understand.
type module struct {
	sections      []wasmbin.Section
	importFuncs   uint32
	importGlobals uint32
	globals       uint32     // defined globals
	types         []funcType // the type section
	funcTypes     []uint32   // type index of each defined function
	hasMemory     bool       // memory 0 exists, imported or defined
	memory64      bool       // memory 0 is a 64-bit memory
	typeSec       int        // index of the type section in sections, or -1
	funcSec       int        // index of the function section in sections, or -1
	global        int        // index of the global section in sections, or -1
	export        int        // index of the export section in sections, or -1
	code          int        // index of the code section in sections, or -1
}

// funcType is what Instrument needs of a function type: how many parameters and
// results it has.
type funcType struct {
	params uint32
	count  uint32 // number of results
}

// parseModule checks the header and the section layout, and decodes the import, global
// and export sections far enough to place the new global and export.
func parseModule(bin []byte) (*module, error) {
	if err := checkHeader(bin); err != nil {
		return nil, err
	}
	m := &module{typeSec: -1, funcSec: -1, global: -1, export: -1, code: -1}
	lastOrder := 0
	err := wasmbin.Walk(wasmbin.NewReader(bin[wasmbin.Header:], wasmbin.Header), wasmbin.CoreSectionName,
		func(s wasmbin.Section) error {
			if err := checkPlacement(s, &lastOrder); err != nil {
				return err
			}
			if err := m.parseSection(s); err != nil {
				return fmt.Errorf("%s section: %w", wasmbin.CoreSectionName(s.ID), err)
			}
			m.sections = append(m.sections, s)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("interrupt: %w", err)
	}
	return m, nil
}

// checkHeader checks the magic and the version of a core module.
func checkHeader(bin []byte) error {
	if len(bin) < wasmbin.Header {
		return fmt.Errorf("interrupt: module header: want %d bytes, have %d", wasmbin.Header, len(bin))
	}
	if string(bin[:4]) != wasmbin.Magic {
		return fmt.Errorf("interrupt: module header: bad magic % x, want % x", bin[:4], wasmbin.Magic)
	}
	if string(bin[4:8]) != wasmbin.CoreVersion {
		if bin[6] == 0x01 && bin[7] == 0x00 {
			return fmt.Errorf("interrupt: module header: version % x is a component, want a core module", bin[4:8])
		}
		return fmt.Errorf("interrupt: module header: unsupported version % x, want % x", bin[4:8], wasmbin.CoreVersion)
	}
	return nil
}

// checkPlacement rejects an unknown section id, a section out of the spec's order, and
// a vector section whose count cannot fit in its size. lastOrder is the order of the
// previous non-custom section.
func checkPlacement(s wasmbin.Section, lastOrder *int) error {
	if s.ID == wasmbin.SecCustom {
		return nil
	}
	order := wasmbin.CoreSectionOrder(s.ID)
	if order == 0 {
		return fmt.Errorf("section at offset %#x: unknown section id %d", s.Start, s.ID)
	}
	if order <= *lastOrder {
		return fmt.Errorf("%s section at offset %#x: duplicate or out of order", wasmbin.CoreSectionName(s.ID), s.Start)
	}
	*lastOrder = order
	// Every element of a vector section takes at least one byte. wazero sizes its
	// slices from the count before reading the elements, so a module claiming
	// billions of globals in a few bytes would run the whole host out of memory at
	// compile time: refuse it here.
	if s.ID != wasmbin.SecStart && s.ID != wasmbin.SecDataCount && len(s.Payload) > 0 {
		if n, err := s.Reader().U32(); err == nil && uint64(n) > uint64(len(s.Payload)) {
			return fmt.Errorf("%s section at offset %#x: %d elements cannot fit in %d bytes",
				wasmbin.CoreSectionName(s.ID), s.Start, n, len(s.Payload))
		}
	}
	return nil
}

// parseSection decodes the sections Instrument has to understand and notes where
// the ones it changes are.
func (m *module) parseSection(s wasmbin.Section) error {
	i, r := len(m.sections), s.Reader()
	var err error
	switch s.ID {
	case wasmbin.SecType:
		m.typeSec, err = i, m.parseTypes(r)
	case wasmbin.SecImport:
		err = m.parseImports(r)
	case wasmbin.SecFunction:
		m.funcSec, err = i, m.parseFunctions(r)
	case wasmbin.SecMemory:
		err = m.parseMemories(r)
	case wasmbin.SecGlobal:
		m.global = i
		m.globals, err = vecLen(s)
	case wasmbin.SecExport:
		m.export, err = i, checkExports(r)
	case wasmbin.SecCode:
		m.code = i
	}
	return err
}

// eachEntry reads a vector count and calls each for every entry, then checks that
// the section holds nothing more.
func eachEntry(r *wasmbin.Reader, each func(i uint32) error) error {
	n, err := r.U32()
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		if err := each(i); err != nil {
			return err
		}
	}
	return r.CheckDone()
}

// vecLen reads the element count at the start of a vector section.
func vecLen(s wasmbin.Section) (uint32, error) {
	n, err := s.Reader().U32()
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}

// parseTypes decodes the function types. It rejects the GC proposal's forms (rec, sub,
// struct, array): with them, the index of an appended type is not the entry count.
func (m *module) parseTypes(r *wasmbin.Reader) error {
	return eachEntry(r, func(i uint32) error {
		ft, err := readFuncType(r)
		if err != nil {
			return fmt.Errorf("type %d: %w", i, err)
		}
		m.types = append(m.types, ft)
		return nil
	})
}

// readFuncType reads one entry of the type section, which must be a function type.
func readFuncType(r *wasmbin.Reader) (funcType, error) {
	var ft funcType
	at := r.Offset()
	form, err := r.Byte()
	if err != nil {
		return ft, err
	}
	switch form {
	case wasmbin.FuncForm:
	case 0x4e, 0x50, 0x4f, 0x5f, 0x5e: // rec, sub, sub final, struct, array
		return ft, fmt.Errorf("unsupported GC type form %#x at offset %#x", form, at)
	default:
		return ft, fmt.Errorf("unknown type form %#x at offset %#x", form, at)
	}
	if ft.params, err = r.SkipValTypes(); err != nil {
		return ft, fmt.Errorf("parameters: %w", err)
	}
	if ft.count, err = r.SkipValTypes(); err != nil {
		return ft, fmt.Errorf("results: %w", err)
	}
	return ft, nil
}

// parseImports counts the imported functions and globals and notes memory 0.
func (m *module) parseImports(r *wasmbin.Reader) error {
	return eachEntry(r, func(i uint32) error {
		if err := m.parseImport(r); err != nil {
			return fmt.Errorf("import %d: %w", i, err)
		}
		return nil
	})
}

func (m *module) parseImport(r *wasmbin.Reader) error {
	if _, err := r.Prefixed(); err != nil {
		return fmt.Errorf("module name: %w", err)
	}
	if _, err := r.Prefixed(); err != nil {
		return fmt.Errorf("field name: %w", err)
	}
	d, err := r.ImportDesc()
	if err != nil {
		return err
	}
	switch d.Kind {
	case wasmbin.KindFunc:
		m.importFuncs++
	case wasmbin.KindMemory:
		m.noteMemory(d.Limits)
	case wasmbin.KindGlobal:
		m.importGlobals++
	}
	return nil
}

// noteMemory records memory 0: the first memory imported or defined.
func (m *module) noteMemory(l wasmbin.Limits) {
	if !m.hasMemory {
		m.hasMemory, m.memory64 = true, l.Is64
	}
}

// parseMemories decodes the memory section far enough to know memory 0.
func (m *module) parseMemories(r *wasmbin.Reader) error {
	return eachEntry(r, func(i uint32) error {
		l, err := r.Limits()
		if err != nil {
			return fmt.Errorf("memory %d: %w", i, err)
		}
		m.noteMemory(l)
		return nil
	})
}

// parseFunctions decodes the type index of each defined function.
func (m *module) parseFunctions(r *wasmbin.Reader) error {
	return eachEntry(r, func(i uint32) error {
		t, err := r.U32()
		if err != nil {
			return fmt.Errorf("function %d: type index: %w", uint64(m.importFuncs)+uint64(i), err)
		}
		m.funcTypes = append(m.funcTypes, t)
		return nil
	})
}

// checkExports decodes the export section and rejects a module that already exports
// ExportName.
func checkExports(r *wasmbin.Reader) error {
	return eachEntry(r, func(i uint32) error {
		if err := checkExport(r); err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		return nil
	})
}

func checkExport(r *wasmbin.Reader) error {
	name, err := r.Prefixed()
	if err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if string(name) == ExportName {
		return fmt.Errorf("module already exports %q (instrumented twice?)", ExportName)
	}
	at := r.Offset()
	kind, err := r.Byte()
	if err != nil {
		return err
	}
	if kind > wasmbin.KindTag {
		return fmt.Errorf("unknown export kind %#x at offset %#x", kind, at)
	}
	if _, err := r.U32(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}
