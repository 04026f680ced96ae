package component

import (
	"fmt"

	"github.com/chiphost/chiphost/wit"
)

// Plan is everything the runtime needs to run a plugin on a core-only
// engine: the main core module and how the component's exports and imports
// map onto it. A Plan holds sub-slices of the input to Decode and must be
// treated as read-only.
type Plan struct {
	// Core is the main core module's bytes: a sub-slice of the input, or
	// the input itself for a bare core module.
	Core []byte
	// IsCoreModule is set when the input was a bare core module (chiphost
	// extension: canonical-ABI export names, legacy or standard32 mangling).
	IsCoreModule bool
	// Main is the index of the main module among the top-level core
	// modules (0 for a bare core module).
	Main int
	// Exports lists the top-level exports in order. Exports[0] decides the
	// plugin kind, as Chipmunk does.
	Exports []Export
	// Imports lists the top-level component imports (interfaces) with the
	// function types they declare. Empty for bare core modules.
	Imports []Import
	// CoreImports classifies every import of the main core module.
	CoreImports []CoreImport
	// Initialize is the main-module export to call once before anything
	// else ("_initialize" or "cm32p2_initialize"), or "".
	Initialize string
	// Modules describes every top-level core module.
	Modules []ModuleInfo
}

// Export is one top-level export of the component.
type Export struct {
	Name  string // "chipmunk:parser/parser@0.1.0"
	Funcs []*Lift
}

// Func returns the lift of the WIT function called name, or nil.
func (e *Export) Func(name string) *Lift {
	for _, l := range e.Funcs {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Lift is a `canon lift` of a main-module function.
type Lift struct {
	Name       string    // WIT function name, e.g. "parse"
	Type       *wit.Func // component function type; nil for bare core modules
	Core       string    // export name of the core function in the main module
	Memory     string    // main-module export name of the memory option, or ""
	Realloc    string    // main-module export name of the realloc option, or ""
	PostReturn string    // main-module export name of the post-return option, or ""
	Encoding   Encoding  // the string-encoding option (UTF8 for bare core modules)
}

// Import is a top-level component import of an interface.
type Import struct {
	Name string // "chipmunk:shared/logging@0.1.0"
	// Funcs holds the functions the instance type declares, in order. For
	// non-chipmunk interfaces, functions whose types use resources, async
	// or other unsupported features are left out (they are only ever
	// called by the adapter, which chiphost skips).
	Funcs []*wit.Func
	// Types holds the value types the instance exports, by name.
	Types map[string]*wit.Type
}

// CoreImport is one import of the main core module.
type CoreImport struct {
	Module, Name string
	Kind         CoreImportKind
	Lower        *Lower // set when Kind is Lowered
}

// CoreImportKind says who serves a main-module import.
type CoreImportKind uint8

const (
	// WASI: module wasi_snapshot_preview1, served by the host's WASI.
	WASI CoreImportKind = iota + 1
	// Lowered: a component import function, lowered with the canonical ABI.
	Lowered
)

func (k CoreImportKind) String() string {
	switch k {
	case WASI:
		return "wasi"
	case Lowered:
		return "lowered"
	}
	return fmt.Sprintf("CoreImportKind(%d)", uint8(k))
}

// Lower describes the `canon lower` that feeds a main-module import.
type Lower struct {
	Interface string    // "chipmunk:shared/logging@0.1.0"
	Func      string    // "log"
	Type      *wit.Func // nil for bare core modules
	Memory    string    // main-module export name, or ""
	Realloc   string    // main-module export name, or ""
	Encoding  Encoding
}

// ModuleInfo describes one top-level core module.
type ModuleInfo struct {
	Index int
	Size  int
	Role  Role
	Name  string // from the module's name section, if any
}

// Role is the part a core module plays in a wit-component component.
type Role uint8

const (
	Main    Role = iota + 1 // the plugin code every canon lift points at
	Adapter                 // the wasi_snapshot_preview1 adapter (skipped by chiphost)
	Shim                    // call_indirect stubs through the $imports table
	Fixup                   // fills the shim's table; its start may call _initialize
)

func (r Role) String() string {
	switch r {
	case Main:
		return "main"
	case Adapter:
		return "adapter"
	case Shim:
		return "shim"
	case Fixup:
		return "fixup"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Encoding is a canonical-ABI string encoding.
type Encoding uint8

const (
	UTF8 Encoding = iota // the default when no string-encoding option is given
	UTF16
	Latin1UTF16
)

func (e Encoding) String() string {
	switch e {
	case UTF8:
		return "utf8"
	case UTF16:
		return "utf16"
	case Latin1UTF16:
		return "latin1+utf16"
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}
