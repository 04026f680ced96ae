package interrupt

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

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
		if code, stats, err = rewriteCode(m.sections[m.code], ci); err != nil {
			return nil, Stats{}, err
		}
	}
	a := assembler{m: m, ci: ci, code: code, hasLoops: stats.Loops > 0, yieldType: -1}
	if a.hasLoops {
		if m.typeSec < 0 || m.funcSec < 0 {
			return nil, Stats{}, fmt.Errorf("interrupt: module has code but no type or function section")
		}
		a.yieldType, a.newType = m.yieldType()
	}
	out, err := a.assemble(bin)
	if err != nil {
		return nil, Stats{}, err
	}
	return out, stats, nil
}

// yieldType returns the index of the first type [] -> [], or the index an appended
// one gets, and whether it must be appended.
func (m *module) yieldType() (int, bool) {
	for i, t := range m.types {
		if t.params == 0 && t.count == 0 {
			return i, false
		}
	}
	return len(m.types), true
}

// assembler writes the instrumented module: the input's sections, with the type,
// function, global, export and code sections extended, and the memory, global and
// export sections created in their place when the input has none.
type assembler struct {
	m         *module
	ci        codeInfo
	code      []byte // the rewritten code section content
	hasLoops  bool   // the yield function is needed
	yieldType int    // type index of the yield function
	newType   bool   // the yield type is appended to the type section
	out       []byte

	pendingMemory, pendingGlobal, pendingExport bool // sections still to create
}

func (a *assembler) assemble(bin []byte) ([]byte, error) {
	m := a.m
	codeLen := 0
	if m.code >= 0 {
		codeLen = len(m.sections[m.code].Payload)
	}
	a.out = make([]byte, 0, len(bin)+len(a.code)-codeLen+128)
	a.out = append(a.out, bin[:wasmbin.Header]...)
	a.pendingMemory = a.hasLoops && !m.hasMemory
	a.pendingGlobal, a.pendingExport = m.global < 0, m.export < 0
	for i, s := range m.sections {
		if s.ID != wasmbin.SecCustom {
			a.createBefore(wasmbin.CoreSectionOrder(s.ID))
		}
		if err := a.section(i, s, bin); err != nil {
			return nil, err
		}
	}
	a.createBefore(wasmbin.CoreSectionOrder(wasmbin.SecData) + 1)
	return a.out, nil
}

// createBefore writes the created sections that come before a section of the given
// order.
func (a *assembler) createBefore(order int) {
	if a.pendingMemory && order > wasmbin.CoreSectionOrder(wasmbin.SecMemory) {
		a.out = appendSection(a.out, wasmbin.SecMemory, []byte{0x01, 0x00, 0x00}) // one memory, min 0 pages
		a.pendingMemory = false
	}
	if a.pendingGlobal && order > wasmbin.CoreSectionOrder(wasmbin.SecGlobal) {
		a.out = appendSection(a.out, wasmbin.SecGlobal, appendGlobals(wasmbin.AppendU32(nil, 2)))
		a.pendingGlobal = false
	}
	if a.pendingExport && order > wasmbin.CoreSectionOrder(wasmbin.SecExport) {
		a.out = appendSection(a.out, wasmbin.SecExport, appendExport(wasmbin.AppendU32(nil, 1), a.ci.flag))
		a.pendingExport = false
	}
}

// section writes input section i, extended if Instrument changes it.
func (a *assembler) section(i int, s wasmbin.Section, bin []byte) error {
	m := a.m
	switch {
	case i == m.typeSec && a.newType:
		t := extendVec(s, uint32(len(m.types)), 1)
		a.out = appendSection(a.out, wasmbin.SecType, append(t, wasmbin.FuncForm, 0x00, 0x00))
	case i == m.funcSec && a.hasLoops:
		f := extendVec(s, uint32(len(m.funcTypes)), 1)
		a.out = appendSection(a.out, wasmbin.SecFunction, wasmbin.AppendU32(f, uint32(a.yieldType)))
	case i == m.global:
		a.out = appendSection(a.out, wasmbin.SecGlobal, appendGlobals(extendVec(s, m.globals, 2)))
	case i == m.export:
		n, err := vecLen(s)
		if err != nil {
			return fmt.Errorf("interrupt: export section: %w", err)
		}
		a.out = appendSection(a.out, wasmbin.SecExport, appendExport(extendVec(s, n, 1), a.ci.flag))
	case i == m.code:
		a.out = appendSection(a.out, wasmbin.SecCode, a.code)
	default:
		a.out = append(a.out, bin[s.Start:s.End()]...)
	}
	return nil
}

// extendVec returns the content of vector section s, whose count n was already
// decoded, with the count raised by k; the caller appends the new elements.
func extendVec(s wasmbin.Section, n, k uint32) []byte {
	r := s.Reader()
	_, _ = r.U32()
	rest := r.Rest()
	out := make([]byte, 0, 5+len(rest)+32)
	out = wasmbin.AppendU32(out, n+k)
	return append(out, rest...)
}

// appendGlobals appends the interrupt flag (a mutable i32, initially 0) and the yield
// countdown (a mutable i32, initially yieldInterval).
func appendGlobals(b []byte) []byte {
	const mutable = 0x01
	b = append(b, wasmbin.ValI32, mutable, wasmbin.OpI32Const, 0x00, wasmbin.OpEnd)
	b = append(b, wasmbin.ValI32, mutable, wasmbin.OpI32Const)
	return append(wasmbin.AppendS64(b, yieldInterval), wasmbin.OpEnd)
}

// appendExport appends the export of global idx as ExportName.
func appendExport(b []byte, idx uint32) []byte {
	b = wasmbin.AppendName(b, ExportName)
	b = append(b, wasmbin.KindGlobal)
	return wasmbin.AppendU32(b, idx)
}

// appendSection appends a section with the given id and content.
func appendSection(out []byte, id byte, content []byte) []byte {
	out = append(out, id)
	out = wasmbin.AppendU32(out, uint32(len(content)))
	return append(out, content...)
}
