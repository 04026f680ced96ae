package wit

import (
	"fmt"
	"strings"
)

// Kind says which WIT type constructor a Type is.
type Kind uint8

// The WIT type constructors the Chipmunk API uses (and a few it does not, so
// that a second API version is a matter of adding WIT files).
const (
	Bool Kind = iota + 1
	U8
	S8
	U16
	S16
	U32
	S32
	U64
	S64
	F32
	F64
	Char
	String
	List    // Elem
	Option  // Elem
	Result  // Ok, Err (either may be nil)
	Tuple   // Fields (names empty)
	Record  // Fields
	Variant // Cases (payload may be nil)
	Enum    // Cases (no payloads)
	Flags   // Flags

	// Resource is a resource type itself (`resource pollable`): not a
	// value type, only the target of handles. Name is its WIT name and
	// Owner the qualified name of the interface that defines it.
	Resource
	Own    // Elem: the Resource an owning handle refers to
	Borrow // Elem: the Resource a borrowed handle refers to
)

var kindNames = [...]string{
	Bool: "bool", U8: "u8", S8: "s8", U16: "u16", S16: "s16", U32: "u32", S32: "s32",
	U64: "u64", S64: "s64", F32: "f32", F64: "f64", Char: "char", String: "string",
	List: "list", Option: "option", Result: "result", Tuple: "tuple", Record: "record",
	Variant: "variant", Enum: "enum", Flags: "flags",
	Resource: "resource", Own: "own", Borrow: "borrow",
}

// String returns the WIT keyword for k, such as "u8" or "record".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Type describes one WIT value type. Types are immutable once built and may
// be shared; named types (records, variants, enums, flags and aliases) carry
// their WIT name in Name, which is informational and never affects layout.
type Type struct {
	Kind   Kind
	Name   string   // WIT name for named types, "" for anonymous ones
	Elem   *Type    // List, Option
	Ok     *Type    // Result (nil for `_`)
	Err    *Type    // Result (nil for `_`)
	Fields []Field  // Record, Tuple
	Cases  []Case   // Variant, Enum
	Flags  []string // Flags
	Owner  string   // Resource: "wasi:io/poll@0.2.0", the defining interface
}

// Field is a record field or a tuple element (Name is "" for tuples).
type Field struct {
	Name string
	Type *Type
}

// Case is a variant or enum case; Type is nil when the case has no payload.
type Case struct {
	Name string
	Type *Type
}

// Param is a named function parameter.
type Param struct {
	Name string
	Type *Type
}

// Func is a WIT function: at most one (unnamed) result, as in the Chipmunk API.
type Func struct {
	Name   string
	Params []Param
	Result *Type // nil when the function returns nothing
}

// Interface is a WIT interface with its qualified name, e.g.
// "chipmunk:parser/parser@0.1.0".
type Interface struct {
	Package string           // "chipmunk:parser@0.1.0"
	Name    string           // "parser"
	Types   map[string]*Type // named types defined or used in the interface
	Funcs   []*Func          // in declaration order

	// TypeNames lists the keys of Types in source order: used names first
	// (in the order of the use statements), then defined ones.
	TypeNames []string
	// Uses lists the interfaces this one takes types from with use.
	Uses []*Interface
}

// QualifiedName returns "ns:pkg/name@version" (the component-level name).
// An interface declared inline in a world (`import x: interface { ... }`)
// has no package, and its qualified name is just its name.
func (i *Interface) QualifiedName() string {
	if i.Package == "" {
		return i.Name
	}
	ns, ver, _ := strings.Cut(i.Package, "@")
	if ver == "" {
		return ns + "/" + i.Name
	}
	return ns + "/" + i.Name + "@" + ver
}

// Func returns the function called name, or nil.
func (i *Interface) Func(name string) *Func {
	for _, f := range i.Funcs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// World is a WIT world: the interfaces it imports and exports.
type World struct {
	Package string
	Name    string
	Imports []*Interface // explicit imports, then those of included worlds
	Exports []*Interface // explicit exports, then those of included worlds

	// Types holds the named types declared or used at world level, or is
	// nil when there are none. The Chipmunk worlds have none.
	Types map[string]*Type
}

// String renders t in WIT syntax, using names for named types
// (e.g. "list<parse-return>", "result<_, init-error>").
func (t *Type) String() string {
	if t == nil {
		return "_"
	}
	if t.Name != "" {
		return t.Name
	}
	return t.Structure()
}

// Structure renders t in WIT syntax without using its own name (fields and
// payloads still use theirs).
func (t *Type) Structure() string {
	switch t.Kind {
	case List:
		return "list<" + t.Elem.String() + ">"
	case Option:
		return "option<" + t.Elem.String() + ">"
	case Result:
		if t.Ok == nil && t.Err == nil {
			return "result"
		}
		if t.Err == nil {
			return "result<" + t.Ok.String() + ">"
		}
		return "result<" + t.Ok.String() + ", " + t.Err.String() + ">"
	case Tuple:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Type.String()
		}
		return "tuple<" + strings.Join(parts, ", ") + ">"
	case Record:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ": " + f.Type.String()
		}
		return "record { " + strings.Join(parts, ", ") + " }"
	case Variant, Enum:
		parts := make([]string, len(t.Cases))
		for i, c := range t.Cases {
			parts[i] = c.Name
			if c.Type != nil {
				parts[i] += "(" + c.Type.String() + ")"
			}
		}
		return t.Kind.String() + " { " + strings.Join(parts, ", ") + " }"
	case Flags:
		return "flags { " + strings.Join(t.Flags, ", ") + " }"
	case Own:
		return "own<" + t.Elem.String() + ">"
	case Borrow:
		return "borrow<" + t.Elem.String() + ">"
	}
	return t.Kind.String()
}

// Equal reports whether a and b have the same structure: same constructors,
// same field and case names in the same order, same element types. Type names
// are ignored, as the canonical ABI ignores them.
func Equal(a, b *Type) bool { return Diff(a, b) == "" }

// Diff returns "" when a and b are structurally equal, or a short description
// of the first difference found ("field 2 name: want x, found y").
func Diff(want, found *Type) string {
	if want == nil || found == nil {
		if want == found {
			return ""
		}
		return fmt.Sprintf("want %s, found %s", want, found)
	}
	if want.Kind != found.Kind {
		return fmt.Sprintf("want %s, found %s", want, found)
	}
	switch want.Kind {
	case List, Option:
		if d := Diff(want.Elem, found.Elem); d != "" {
			return want.Kind.String() + " element: " + d
		}
	case Result:
		if d := Diff(want.Ok, found.Ok); d != "" {
			return "result ok: " + d
		}
		if d := Diff(want.Err, found.Err); d != "" {
			return "result error: " + d
		}
	case Tuple, Record:
		if len(want.Fields) != len(found.Fields) {
			return fmt.Sprintf("want %d fields, found %d (want %s, found %s)", len(want.Fields), len(found.Fields), want, found)
		}
		for i := range want.Fields {
			w, f := want.Fields[i], found.Fields[i]
			if w.Name != f.Name {
				return fmt.Sprintf("field %d: want name %q, found %q", i, w.Name, f.Name)
			}
			if d := Diff(w.Type, f.Type); d != "" {
				label := w.Name
				if label == "" {
					label = fmt.Sprint(i)
				}
				return "field " + label + ": " + d
			}
		}
	case Variant, Enum:
		if len(want.Cases) != len(found.Cases) {
			return fmt.Sprintf("want %d cases, found %d (want %s, found %s)", len(want.Cases), len(found.Cases), want, found)
		}
		for i := range want.Cases {
			w, f := want.Cases[i], found.Cases[i]
			if w.Name != f.Name {
				return fmt.Sprintf("case %d: want name %q, found %q", i, w.Name, f.Name)
			}
			if d := Diff(w.Type, f.Type); d != "" {
				return "case " + w.Name + ": " + d
			}
		}
	case Flags:
		if strings.Join(want.Flags, ",") != strings.Join(found.Flags, ",") {
			return fmt.Sprintf("want %s, found %s", want, found)
		}
	case Own, Borrow:
		// Resource types are compared by name: the canonical ABI only
		// needs both sides to mean the same table.
		if want.Elem == nil || found.Elem == nil || want.Elem.Name != found.Elem.Name {
			return fmt.Sprintf("want %s, found %s", want, found)
		}
	}
	return ""
}

// DiffFunc compares two function signatures and describes the first difference.
func DiffFunc(want, found *Func) string {
	if len(want.Params) != len(found.Params) {
		return fmt.Sprintf("want %d parameters, found %d", len(want.Params), len(found.Params))
	}
	for i := range want.Params {
		if d := Diff(want.Params[i].Type, found.Params[i].Type); d != "" {
			return fmt.Sprintf("parameter %s: %s", want.Params[i].Name, d)
		}
	}
	if d := Diff(want.Result, found.Result); d != "" {
		return "result: " + d
	}
	return ""
}
