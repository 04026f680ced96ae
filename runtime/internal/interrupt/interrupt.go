package interrupt

import "fmt"

// ExportName is the name under which an instrumented module exports its interrupt flag:
// a mutable i32 global, initially 0. The host sets it to a non-zero value, from any
// goroutine, to make the guest trap at its next loop header.
const ExportName = "chiphost:interrupt"

// Version identifies the rewrite Instrument performs. It changes whenever
// Instrument's output for a given input changes, so that caches of
// instrumented modules (keyed by the input) are not reused across versions:
// a module instrumented by an older version could lack the yield that lets
// Go's garbage collector stop a looping guest.
const Version = 2

// Stats says how much of a module [Instrument] rewrote.
type Stats struct {
	// Functions is the number of function bodies that contain at least one loop.
	Functions int
	// Loops is the number of loop headers that received a check.
	Loops int
}

// Section ids of the core binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// sectionRank gives the position each known non-custom section must take, or 0 for an
// unknown id. The tag section (exception handling) sits between memory and global, and
// data count between element and code.
func sectionRank(id byte) int {
	switch id {
	case secType, secImport, secFunction, secTable, secMemory:
		return int(id)
	case secTag:
		return 6
	case secGlobal, secExport, secStart, secElement:
		return int(id) + 1
	case secDataCount:
		return 11
	case secCode, secData:
		return int(id) + 2
	}
	return 0
}

// sectionName names a section id for error messages.
func sectionName(id byte) string {
	switch id {
	case secCustom:
		return "custom"
	case secType:
		return "type"
	case secImport:
		return "import"
	case secFunction:
		return "function"
	case secTable:
		return "table"
	case secMemory:
		return "memory"
	case secGlobal:
		return "global"
	case secExport:
		return "export"
	case secStart:
		return "start"
	case secElement:
		return "element"
	case secCode:
		return "code"
	case secData:
		return "data"
	case secDataCount:
		return "data count"
	case secTag:
		return "tag"
	}
	return fmt.Sprintf("unknown (id %d)", id)
}

// Export kinds.
const (
	kindFunc   = 0
	kindTable  = 1
	kindMemory = 2
	kindGlobal = 3
	kindTag    = 4
)

// section locates one section of the input.
type section struct {
	id    byte
	start int // offset of the id byte
	body  int // offset of the first content byte
	end   int // offset just past the content
}

// module holds what Instrument learns from the sections it has to understand.
type module struct {
	sections      []section
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

// The module header: magic and version 1.
const (
	magic   = "\x00asm"
	version = "\x01\x00\x00\x00"
)

// Instrument returns a copy of the core module bin in which every loop counts down a
// shared counter and, every yieldInterval iterations, calls a new function that
// visits Go and traps with `unreachable` once the host has set the interrupt flag: a
// new mutable i32 global, initially 0, exported as [ExportName]. rewriteCode shows the
// exact shape of an instrumented loop.
//
// Only indices are appended, never inserted: the flag and the counter go at the end
// of the global index space (after the imported and the defined globals), the yield
// function at the end of the function index space, and its type [] -> [] is reused
// or appended. A module without a memory gets an empty one, because the visit to Go
// is a memory.grow 0. The type, function, global, export and code sections change
// accordingly (missing ones are created in their place in the section order); every
// other section is copied byte for byte. Labels that leave an instrumented loop are
// re-encoded for the blocks around it.
//
// Instrument fails, with the section, the function index (imports included), and the
// module offset, on anything it cannot decode. It rejects a module that already exports
// ExportName, so a module cannot be instrumented twice.
//
// # Notes
//
//   - The flag is read when the countdown runs out, so the guest traps within
//     yieldInterval (16384) loop iterations of the flag being set, not at once.
//   - Instrument does not validate the module: it decodes only what it must. A module
//     that the runtime would reject stays invalid.
//   - Custom sections that refer to code offsets (DWARF ".debug_*", branch hints) are
//     copied unchanged and so become stale for instrumented functions; the "name"
//     section stays right, as no index moves.
func Instrument(bin []byte) ([]byte, Stats, error) {
	m, err := parseModule(bin)
	if err != nil {
		return nil, Stats{}, err
	}
	total := uint64(m.importGlobals) + uint64(m.globals)
	if total >= 1<<32-2 {
		return nil, Stats{}, fmt.Errorf("interrupt: global section: %d globals leave no index for the interrupt globals", total)
	}
	ci := codeInfo{
		m:       m,
		flag:    uint32(total),
		counter: uint32(total) + 1,
		yield:   m.importFuncs + uint32(len(m.funcTypes)),
	}

	var code []byte
	var stats Stats
	if m.code >= 0 {
		if code, stats, err = rewriteCode(bin, m.sections[m.code], ci); err != nil {
			return nil, Stats{}, err
		}
	}

	// With loops comes the yield function: a type [] -> [] (found or appended), an entry
	// in the function section, and a memory for its trip into Go if the module has none.
	yieldType, newType := -1, false
	if stats.Loops > 0 {
		if m.typeSec < 0 || m.funcSec < 0 {
			return nil, Stats{}, fmt.Errorf("interrupt: module has code but no type or function section")
		}
		for i, t := range m.types {
			if t.params == 0 && t.count == 0 {
				yieldType = i
				break
			}
		}
		if yieldType < 0 {
			yieldType, newType = len(m.types), true
		}
	}
	newMemory := stats.Loops > 0 && !m.hasMemory

	out := make([]byte, 0, len(bin)+len(code)-sectionLen(m, m.code)+128)
	out = append(out, bin[:8]...)
	pendingMemory, pendingGlobal, pendingExport := newMemory, m.global < 0, m.export < 0
	flush := func(rank int) {
		if pendingMemory && rank > sectionRank(secMemory) {
			out = appendSection(out, secMemory, []byte{0x01, 0x00, 0x00}) // one memory, min 0 pages
			pendingMemory = false
		}
		if pendingGlobal && rank > sectionRank(secGlobal) {
			out = appendSection(out, secGlobal, appendGlobals(appendU32(nil, 2)))
			pendingGlobal = false
		}
		if pendingExport && rank > sectionRank(secExport) {
			out = appendSection(out, secExport, appendExport(appendU32(nil, 1), ci.flag))
			pendingExport = false
		}
	}
	for i, s := range m.sections {
		if s.id != secCustom {
			flush(sectionRank(s.id))
		}
		switch {
		case i == m.typeSec && newType:
			out = appendSection(out, secType, append(extendVec(bin, s, uint32(len(m.types)), 1), 0x60, 0x00, 0x00))
		case i == m.funcSec && stats.Loops > 0:
			f := extendVec(bin, s, uint32(len(m.funcTypes)), 1)
			out = appendSection(out, secFunction, appendU32(f, uint32(yieldType)))
		case i == m.global:
			out = appendSection(out, secGlobal, appendGlobals(extendVec(bin, s, m.globals, 2)))
		case i == m.export:
			n, err := vecLen(bin, s)
			if err != nil {
				return nil, Stats{}, err
			}
			out = appendSection(out, secExport, appendExport(extendVec(bin, s, n, 1), ci.flag))
		case i == m.code:
			out = appendSection(out, secCode, code)
		default:
			out = append(out, bin[s.start:s.end]...)
		}
	}
	flush(sectionRank(secData) + 1)
	return out, stats, nil
}

// sectionLen reports the input size of section i, or 0 when i is -1.
func sectionLen(m *module, i int) int {
	if i < 0 {
		return 0
	}
	return m.sections[i].end - m.sections[i].start
}

// parseModule checks the header and the section layout, and decodes the import, global
// and export sections far enough to place the new global and export.
func parseModule(bin []byte) (*module, error) {
	if len(bin) < 8 {
		return nil, fmt.Errorf("interrupt: module header: want 8 bytes, have %d", len(bin))
	}
	if string(bin[:4]) != magic {
		return nil, fmt.Errorf("interrupt: module header: bad magic % x, want % x", bin[:4], magic)
	}
	if string(bin[4:8]) != version {
		if bin[6] == 0x01 && bin[7] == 0x00 {
			return nil, fmt.Errorf("interrupt: module header: version % x is a component, want a core module", bin[4:8])
		}
		return nil, fmt.Errorf("interrupt: module header: unsupported version % x, want % x", bin[4:8], version)
	}
	m := &module{typeSec: -1, funcSec: -1, global: -1, export: -1, code: -1}
	r := &reader{b: bin, pos: 8}
	lastRank := 0
	for !r.done() {
		start := r.off()
		id, _ := r.byte()
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("interrupt: section at offset %#x: size: %w", start, err)
		}
		if id != secCustom && sectionRank(id) == 0 {
			return nil, fmt.Errorf("interrupt: section at offset %#x: unknown section id %d", start, id)
		}
		body := r.off()
		if err := r.skip(int(size)); err != nil {
			return nil, fmt.Errorf("interrupt: %s section at offset %#x: size %d exceeds the %d bytes left",
				sectionName(id), start, size, len(bin)-body)
		}
		if id != secCustom {
			if sectionRank(id) <= lastRank {
				return nil, fmt.Errorf("interrupt: %s section at offset %#x: duplicate or out of order", sectionName(id), start)
			}
			lastRank = sectionRank(id)
		}
		// Every element of a vector section takes at least one byte. wazero
		// sizes its slices from the count before reading the elements, so a
		// module claiming billions of globals in a few bytes would run the
		// whole host out of memory at compile time: refuse it here.
		if id != secCustom && id != secStart && id != secDataCount && size > 0 {
			if n, err := (&reader{b: bin[body : body+int(size)]}).u32(); err == nil && uint64(n) > uint64(size) {
				return nil, fmt.Errorf("interrupt: %s section at offset %#x: %d elements cannot fit in %d bytes", sectionName(id), start, n, size)
			}
		}
		s := section{id: id, start: start, body: body, end: r.off()}
		switch id {
		case secType:
			if err := m.parseTypes(bin, s); err != nil {
				return nil, fmt.Errorf("interrupt: type section: %w", err)
			}
			m.typeSec = len(m.sections)
		case secFunction:
			if err := m.parseFunctions(bin, s); err != nil {
				return nil, fmt.Errorf("interrupt: function section: %w", err)
			}
			m.funcSec = len(m.sections)
		case secMemory:
			if err := m.parseMemories(bin, s); err != nil {
				return nil, fmt.Errorf("interrupt: memory section: %w", err)
			}
		case secImport:
			if err := m.parseImports(bin, s); err != nil {
				return nil, fmt.Errorf("interrupt: import section: %w", err)
			}
		case secGlobal:
			n, err := vecLen(bin, s)
			if err != nil {
				return nil, err
			}
			m.globals, m.global = n, len(m.sections)
		case secExport:
			if err := checkExports(bin, s); err != nil {
				return nil, fmt.Errorf("interrupt: export section: %w", err)
			}
			m.export = len(m.sections)
		case secCode:
			m.code = len(m.sections)
		}
		m.sections = append(m.sections, s)
	}
	return m, nil
}

// sectionReader returns a reader over the content of s.
func sectionReader(bin []byte, s section) *reader {
	return &reader{b: bin[s.body:s.end], base: s.body}
}

// vecLen reads the element count at the start of a vector section.
func vecLen(bin []byte, s section) (uint32, error) {
	n, err := sectionReader(bin, s).u32()
	if err != nil {
		return 0, fmt.Errorf("interrupt: %s section: count: %w", sectionName(s.id), err)
	}
	return n, nil
}

// extendVec returns the content of vector section s, whose count n was already
// decoded, with the count raised by k; the caller appends the new elements.
func extendVec(bin []byte, s section, n, k uint32) []byte {
	r := sectionReader(bin, s)
	_, _ = r.u32()
	rest := r.b[r.pos:]
	out := make([]byte, 0, 5+len(rest)+32)
	out = appendU32(out, n+k)
	return append(out, rest...)
}

// appendGlobals appends the interrupt flag (a mutable i32, initially 0) and the yield
// countdown (a mutable i32, initially yieldInterval).
func appendGlobals(b []byte) []byte {
	b = append(b, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01, 0x41)
	return append(appendS33(b, yieldInterval), 0x0b)
}

// appendExport appends the export of global idx as ExportName.
func appendExport(b []byte, idx uint32) []byte {
	b = appendU32(b, uint32(len(ExportName)))
	b = append(b, ExportName...)
	b = append(b, kindGlobal)
	return appendU32(b, idx)
}

// appendSection appends a section with the given id and content.
func appendSection(out []byte, id byte, content []byte) []byte {
	out = append(out, id)
	out = appendU32(out, uint32(len(content)))
	return append(out, content...)
}

// parseImports counts the imported functions and globals.
func (m *module) parseImports(bin []byte, s section) error {
	r := sectionReader(bin, s)
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		if err := m.parseImport(r); err != nil {
			return fmt.Errorf("import %d: %w", i, err)
		}
	}
	if !r.done() {
		return fmt.Errorf("%d trailing bytes at offset %#x", len(r.b)-r.pos, r.off())
	}
	return nil
}

func (m *module) parseImport(r *reader) error {
	if _, err := r.name(); err != nil {
		return fmt.Errorf("module name: %w", err)
	}
	if _, err := r.name(); err != nil {
		return fmt.Errorf("field name: %w", err)
	}
	at := r.off()
	kind, err := r.byte()
	if err != nil {
		return err
	}
	switch kind {
	case kindFunc:
		if _, err := r.u32(); err != nil {
			return fmt.Errorf("function type index: %w", err)
		}
		m.importFuncs++
	case kindTable:
		if err := skipValType(r); err != nil {
			return fmt.Errorf("table element type: %w", err)
		}
		if _, err := skipLimits(r); err != nil {
			return fmt.Errorf("table limits: %w", err)
		}
	case kindMemory:
		is64, err := skipLimits(r)
		if err != nil {
			return fmt.Errorf("memory limits: %w", err)
		}
		if !m.hasMemory {
			m.hasMemory, m.memory64 = true, is64
		}
	case kindGlobal:
		if err := skipValType(r); err != nil {
			return fmt.Errorf("global type: %w", err)
		}
		at := r.off()
		mut, err := r.byte()
		if err != nil {
			return err
		}
		if mut > 1 {
			return fmt.Errorf("invalid global mutability %#x at offset %#x", mut, at)
		}
		m.importGlobals++
	case kindTag:
		if _, err := r.byte(); err != nil {
			return fmt.Errorf("tag attribute: %w", err)
		}
		if _, err := r.u32(); err != nil {
			return fmt.Errorf("tag type index: %w", err)
		}
	default:
		return fmt.Errorf("unknown import kind %#x at offset %#x", kind, at)
	}
	return nil
}

// skipLimits skips table or memory limits, including the shared (threads), 64-bit
// (memory64, table64) and custom page size flags. It reports whether the limits are
// 64-bit.
func skipLimits(r *reader) (bool, error) {
	at := r.off()
	flags, err := r.byte()
	if err != nil {
		return false, err
	}
	if flags > 0x0f {
		return false, fmt.Errorf("invalid limits flags %#x at offset %#x", flags, at)
	}
	is64 := flags&0x04 != 0
	read := func() error {
		if is64 {
			_, err := r.u64()
			return err
		}
		_, err := r.u32()
		return err
	}
	if err := read(); err != nil {
		return false, fmt.Errorf("minimum: %w", err)
	}
	if flags&0x01 != 0 {
		if err := read(); err != nil {
			return false, fmt.Errorf("maximum: %w", err)
		}
	}
	if flags&0x08 != 0 {
		if _, err := r.u32(); err != nil {
			return false, fmt.Errorf("page size: %w", err)
		}
	}
	return is64, nil
}

// parseMemories decodes the memory section far enough to know memory 0.
func (m *module) parseMemories(bin []byte, s section) error {
	r := sectionReader(bin, s)
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		is64, err := skipLimits(r)
		if err != nil {
			return fmt.Errorf("memory %d: %w", i, err)
		}
		if !m.hasMemory {
			m.hasMemory, m.memory64 = true, is64
		}
	}
	if !r.done() {
		return fmt.Errorf("%d trailing bytes at offset %#x", len(r.b)-r.pos, r.off())
	}
	return nil
}

// checkExports decodes the export section and rejects a module that already exports
// ExportName.
func checkExports(bin []byte, s section) error {
	r := sectionReader(bin, s)
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.name()
		if err != nil {
			return fmt.Errorf("export %d: name: %w", i, err)
		}
		if name == ExportName {
			return fmt.Errorf("export %d: module already exports %q (instrumented twice?)", i, ExportName)
		}
		at := r.off()
		kind, err := r.byte()
		if err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if kind > kindTag {
			return fmt.Errorf("export %d: unknown export kind %#x at offset %#x", i, kind, at)
		}
		if _, err := r.u32(); err != nil {
			return fmt.Errorf("export %d: index: %w", i, err)
		}
	}
	if !r.done() {
		return fmt.Errorf("%d trailing bytes at offset %#x", len(r.b)-r.pos, r.off())
	}
	return nil
}

// funcType is what Instrument needs of a function type: how many parameters and
// results it has.
type funcType struct {
	params uint32
	count  uint32 // number of results
}

// parseTypes decodes the function types. It rejects the GC proposal's forms (rec, sub,
// struct, array): with them, the index of an appended type is not the entry count.
func (m *module) parseTypes(bin []byte, s section) error {
	r := sectionReader(bin, s)
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		at := r.off()
		form, err := r.byte()
		if err != nil {
			return fmt.Errorf("type %d: %w", i, err)
		}
		if form != 0x60 {
			switch form {
			case 0x4e, 0x50, 0x4f, 0x5f, 0x5e: // rec, sub, sub final, struct, array
				return fmt.Errorf("type %d: unsupported GC type form %#x at offset %#x", i, form, at)
			}
			return fmt.Errorf("type %d: unknown type form %#x at offset %#x", i, form, at)
		}
		var ft funcType
		if ft.params, err = skipValTypes(r); err != nil {
			return fmt.Errorf("type %d: parameters: %w", i, err)
		}
		if ft.count, err = skipValTypes(r); err != nil {
			return fmt.Errorf("type %d: results: %w", i, err)
		}
		m.types = append(m.types, ft)
	}
	if !r.done() {
		return fmt.Errorf("%d trailing bytes at offset %#x", len(r.b)-r.pos, r.off())
	}
	return nil
}

// skipValTypes skips a vector of value types and returns its length.
func skipValTypes(r *reader) (uint32, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	for i := uint32(0); i < n; i++ {
		if err := skipValType(r); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// parseFunctions decodes the type index of each defined function.
func (m *module) parseFunctions(bin []byte, s section) error {
	r := sectionReader(bin, s)
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		t, err := r.u32()
		if err != nil {
			return fmt.Errorf("function %d: type index: %w", uint64(m.importFuncs)+uint64(i), err)
		}
		m.funcTypes = append(m.funcTypes, t)
	}
	if !r.done() {
		return fmt.Errorf("%d trailing bytes at offset %#x", len(r.b)-r.pos, r.off())
	}
	return nil
}

// appendS33 appends v as a minimal signed LEB128.
func appendS33(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
