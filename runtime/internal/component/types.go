package component

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
	"github.com/chiphost/chiphost/wit"
)

// maxDepth bounds the nesting of instance/component types and nested
// components, so hostile input cannot exhaust the Go stack.
const maxDepth = 32

type ctKind uint8

const (
	ctVal ctKind = iota + 1
	ctFunc
	ctInstance
	ctComponent
	ctResource
	ctUnknown // e.g. a type aliased from an instance whose type we do not know
)

// ctype is one entry of a component type index space.
type ctype struct {
	kind ctKind
	val  *wit.Type // ctVal (nil when bad is set)
	fn   *wit.Func // ctFunc (nil when bad is set)
	// bad, when not empty, says why the type cannot be lifted or lowered by
	// chiphost ("own<…>", "async function", …). Such types are fine where the
	// runtime never touches them (the adapter's wasi:* imports).
	bad     string
	exports []typeExport // ctInstance
	res     *wit.Type    // ctResource: the resource, named by its export
}

// typeExport is an export declaration of an instance type.
type typeExport struct {
	name string
	kind byte // externdesc kind: externFunc, externType, externInstance, …
	t    *ctype
}

func (t *ctype) export(name string) *typeExport {
	if t == nil {
		return nil
	}
	for i := range t.exports {
		if t.exports[i].name == name {
			return &t.exports[i]
		}
	}
	return nil
}

// noteBad records the first reason a part of t cannot be lifted or lowered.
func (t *ctype) noteBad(parts ...*ctype) {
	if t.bad == "" {
		t.bad = badOf(parts...)
	}
}

var unknownType = &ctype{kind: ctUnknown, bad: "type of unknown shape"}

// scope is a type index space: the component's, or the local one of an
// instance or component type (with its enclosing scopes for outer aliases).
type scope struct {
	types  []*ctype
	parent *scope
	depth  int
}

func (s *scope) outer(ct uint32, idx uint32) (*ctype, error) {
	sc := s
	for i := uint32(0); i < ct; i++ {
		sc = sc.parent
		if sc == nil {
			return nil, fmt.Errorf("outer alias count %d exceeds the enclosing scopes: %w", ct, ErrMalformed)
		}
	}
	if uint64(idx) >= uint64(len(sc.types)) {
		return nil, fmt.Errorf("outer alias type index %d out of range: %w", idx, ErrMalformed)
	}
	return sc.types[idx], nil
}

// typeAt returns type i, which was read at offset at.
func (s *scope) typeAt(at int, i int64) (*ctype, error) {
	if i < 0 || i >= int64(len(s.types)) {
		return nil, wasmbin.Errorf(at, "type index %d out of range (%d defined)", i, len(s.types))
	}
	return s.types[i], nil
}

// typeIdx reads a u32 type index and returns the type.
func (s *scope) typeIdx(r *wasmbin.Reader) (*ctype, error) {
	at := r.Offset()
	i, err := r.U32()
	if err != nil {
		return nil, err
	}
	return s.typeAt(at, int64(i))
}

var primitives = map[byte]wit.Kind{
	0x7f: wit.Bool, 0x7e: wit.S8, 0x7d: wit.U8, 0x7c: wit.S16, 0x7b: wit.U16,
	0x7a: wit.S32, 0x79: wit.U32, 0x78: wit.S64, 0x77: wit.U64, 0x76: wit.F32,
	0x75: wit.F64, 0x74: wit.Char, 0x73: wit.String,
}

// Type opcodes of defvaltype that are not primitives.
const (
	tRecord       = 0x72
	tVariant      = 0x71
	tList         = 0x70
	tTuple        = 0x6f
	tFlags        = 0x6e
	tEnum         = 0x6d
	tOption       = 0x6b
	tResult       = 0x6a
	tOwn          = 0x69
	tBorrow       = 0x68
	tFixedList    = 0x67
	tStream       = 0x66
	tFuture       = 0x65
	tErrorContext = 0x64
)

// Type opcodes of deftype that are not value types.
const (
	tResourceSync  = 0x3f
	tResourceAsync = 0x3e
	tFunc          = 0x40
	tComponent     = 0x41
	tInstance      = 0x42
	tAsyncFunc     = 0x43
)

// valtype reads a valtype: a primitive opcode or a type index (s33).
func (s *scope) valtype(r *wasmbin.Reader) (*ctype, error) {
	c, err := r.Peek()
	if err != nil {
		return nil, err
	}
	if k, ok := primitives[c]; ok {
		_ = r.Skip(1)
		return &ctype{kind: ctVal, val: &wit.Type{Kind: k}}, nil
	}
	if c == tErrorContext {
		_ = r.Skip(1)
		return &ctype{kind: ctVal, bad: "error-context"}, nil
	}
	at := r.Offset()
	i, err := r.S33()
	if err != nil {
		return nil, err
	}
	t, err := s.typeAt(at, i)
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case ctVal:
		return t, nil
	case ctUnknown:
		return &ctype{kind: ctVal, bad: t.bad}, nil
	}
	return nil, wasmbin.Errorf(at, "type index %d is not a value type", i)
}

// optional reads an option byte: 0x00 for none, 0x01 for some.
func optional(r *wasmbin.Reader) (bool, error) {
	at := r.Offset()
	c, err := r.Byte()
	if err != nil {
		return false, err
	}
	if c > 0x01 {
		return false, wasmbin.Errorf(at, "bad option byte 0x%02x", c)
	}
	return c == 0x01, nil
}

// optValtype reads an optional valtype; none is nil.
func (s *scope) optValtype(r *wasmbin.Reader) (*ctype, error) {
	some, err := optional(r)
	if err != nil || !some {
		return nil, err
	}
	return s.valtype(r)
}

func badOf(ts ...*ctype) string {
	for _, t := range ts {
		if t != nil && t.bad != "" {
			return t.bad
		}
	}
	return ""
}

func valOf(t *ctype) *wit.Type {
	if t == nil {
		return nil
	}
	return t.val
}

// deftype reads one type definition and appends it to s.
func (s *scope) deftype(r *wasmbin.Reader) error {
	t, err := s.readDeftype(r)
	if err != nil {
		return err
	}
	s.types = append(s.types, t)
	return nil
}

func (s *scope) readDeftype(r *wasmbin.Reader) (*ctype, error) {
	c, err := r.Peek()
	if err != nil {
		return nil, err
	}
	switch c {
	case tFunc, tAsyncFunc:
		_ = r.Skip(1)
		return s.functype(r, c == tAsyncFunc)
	case tComponent, tInstance:
		_ = r.Skip(1)
		return s.declType(r, c == tComponent)
	case tResourceSync, tResourceAsync:
		_ = r.Skip(1)
		return resourceType(r, c == tResourceAsync)
	}
	return s.defvaltype(r)
}

// resourceType reads a resource type definition: its representation (i32),
// its optional destructor and, when async, its callback.
func resourceType(r *wasmbin.Reader, async bool) (*ctype, error) {
	at := r.Offset()
	if b, err := r.Byte(); err != nil {
		return nil, err
	} else if b != wasmbin.ValI32 {
		return nil, wasmbin.Errorf(at, "resource representation 0x%02x", b)
	}
	if async {
		if _, err := r.U32(); err != nil {
			return nil, err
		}
	}
	if _, err := optIdx(r); err != nil {
		return nil, err
	}
	return &ctype{kind: ctResource, bad: "resource defined by the component", res: &wit.Type{Kind: wit.Resource}}, nil
}

// optIdx reads an optional u32 index.
func optIdx(r *wasmbin.Reader) (bool, error) {
	some, err := optional(r)
	if err != nil || !some {
		return false, err
	}
	_, err = r.U32()
	return true, err
}

func (s *scope) defvaltype(r *wasmbin.Reader) (*ctype, error) {
	at := r.Offset()
	c, err := r.Byte()
	if err != nil {
		return nil, err
	}
	if k, ok := primitives[c]; ok {
		return &ctype{kind: ctVal, val: &wit.Type{Kind: k}}, nil
	}
	out := &ctype{kind: ctVal}
	switch c {
	case tRecord, tVariant:
		err = s.recordOrVariant(r, c, out)
	case tList, tOption:
		err = s.listOrOption(r, c, out)
	case tFixedList:
		err = s.fixedList(r, out)
	case tTuple:
		err = s.tuple(r, out)
	case tFlags, tEnum:
		err = flagsOrEnum(r, c, out)
	case tResult:
		err = s.result(r, out)
	case tOwn, tBorrow:
		err = s.handle(r, c, out)
	case tStream, tFuture:
		err = s.streamOrFuture(r, c, out)
	case tErrorContext:
		out.bad = "error-context"
	default:
		return nil, wasmbin.Errorf(at, "unknown type opcode 0x%02x", c)
	}
	if err != nil {
		return nil, err
	}
	if out.bad != "" {
		out.val = nil
	}
	return out, nil
}

// recordOrVariant reads the fields of a record or the cases of a variant.
func (s *scope) recordOrVariant(r *wasmbin.Reader, c byte, out *ctype) error {
	w := &wit.Type{Kind: wit.Record}
	if c == tVariant {
		w.Kind = wit.Variant
	}
	out.val = w
	return r.Vec(2, func(int) error {
		label, err := r.Name()
		if err != nil {
			return err
		}
		if c == tRecord {
			ft, err := s.valtype(r)
			if err != nil {
				return err
			}
			out.noteBad(ft)
			w.Fields = append(w.Fields, wit.Field{Name: label, Type: valOf(ft)})
			return nil
		}
		ct, err := s.variantCase(r)
		if err != nil {
			return err
		}
		out.noteBad(ct)
		w.Cases = append(w.Cases, wit.Case{Name: label, Type: valOf(ct)})
		return nil
	})
}

// variantCase reads the payload type of a variant case and its legacy
// refinement.
func (s *scope) variantCase(r *wasmbin.Reader) (*ctype, error) {
	ct, err := s.optValtype(r)
	if err != nil {
		return nil, err
	}
	at := r.Offset()
	z, err := r.Byte()
	if err != nil {
		return nil, err
	}
	switch z {
	case 0x00:
	case 0x01:
		_, err = r.U32() // legacy `refines`
	default:
		return nil, wasmbin.Errorf(at, "bad case refinement byte 0x%02x", z)
	}
	return ct, err
}

// listOrOption reads the element type of a list or an option.
func (s *scope) listOrOption(r *wasmbin.Reader, c byte, out *ctype) error {
	et, err := s.valtype(r)
	if err != nil {
		return err
	}
	k := wit.List
	if c == tOption {
		k = wit.Option
	}
	out.bad = badOf(et)
	out.val = &wit.Type{Kind: k, Elem: valOf(et)}
	return nil
}

// fixedList reads a fixed-size list, which chiphost does not support.
func (s *scope) fixedList(r *wasmbin.Reader, out *ctype) error {
	if _, err := s.valtype(r); err != nil {
		return err
	}
	if _, err := r.U32(); err != nil {
		return err
	}
	out.bad = "fixed-size list"
	return nil
}

// tuple reads the element types of a tuple.
func (s *scope) tuple(r *wasmbin.Reader, out *ctype) error {
	w := &wit.Type{Kind: wit.Tuple}
	out.val = w
	return r.Vec(1, func(int) error {
		et, err := s.valtype(r)
		if err != nil {
			return err
		}
		out.noteBad(et)
		w.Fields = append(w.Fields, wit.Field{Type: valOf(et)})
		return nil
	})
}

// flagsOrEnum reads the labels of flags or an enum.
func flagsOrEnum(r *wasmbin.Reader, c byte, out *ctype) error {
	w := &wit.Type{Kind: wit.Flags}
	if c == tEnum {
		w.Kind = wit.Enum
	}
	out.val = w
	return r.Vec(1, func(int) error {
		label, err := r.Name()
		if err != nil {
			return err
		}
		if c == tFlags {
			w.Flags = append(w.Flags, label)
		} else {
			w.Cases = append(w.Cases, wit.Case{Name: label})
		}
		return nil
	})
}

// result reads the optional ok and error types of a result.
func (s *scope) result(r *wasmbin.Reader, out *ctype) error {
	ok, err := s.optValtype(r)
	if err != nil {
		return err
	}
	e, err := s.optValtype(r)
	if err != nil {
		return err
	}
	out.bad = badOf(ok, e)
	out.val = &wit.Type{Kind: wit.Result, Ok: valOf(ok), Err: valOf(e)}
	return nil
}

// handle reads an own or borrow handle. Handles to imported resources are
// supported; those to resources the component defines itself (exported
// resources) are not.
func (s *scope) handle(r *wasmbin.Reader, c byte, out *ctype) error {
	at := r.Offset()
	t, err := s.typeIdx(r)
	if err != nil {
		return err
	}
	kind := wit.Borrow
	if c == tOwn {
		kind = wit.Own
	}
	switch {
	case t.kind == ctUnknown:
		out.bad = t.bad
	case t.kind != ctResource:
		return wasmbin.Errorf(at, "%s handle to a type that is not a resource", kind)
	case t.bad != "":
		out.bad = kind.String() + "<…> of a " + t.bad
	default:
		out.val = &wit.Type{Kind: kind, Elem: t.res}
	}
	return nil
}

// streamOrFuture reads a stream or a future, which chiphost does not support.
func (s *scope) streamOrFuture(r *wasmbin.Reader, c byte, out *ctype) error {
	if _, err := s.optValtype(r); err != nil {
		return err
	}
	out.bad = "stream"
	if c == tFuture {
		out.bad = "future"
	}
	return nil
}

// functype reads a function type; async ones cannot be lifted or lowered.
func (s *scope) functype(r *wasmbin.Reader, async bool) (*ctype, error) {
	out := &ctype{kind: ctFunc}
	f := &wit.Func{}
	err := r.Vec(2, func(int) error {
		label, err := r.Name()
		if err != nil {
			return err
		}
		pt, err := s.valtype(r)
		if err != nil {
			return err
		}
		out.noteBad(pt)
		f.Params = append(f.Params, wit.Param{Name: label, Type: valOf(pt)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.results(r, f, out); err != nil {
		return nil, err
	}
	if async && out.bad == "" {
		out.bad = "async function"
	}
	if out.bad == "" {
		out.fn = f
	}
	return out, nil
}

// results reads the result list of a function type: one type, or named
// results, which chiphost does not support.
func (s *scope) results(r *wasmbin.Reader, f *wit.Func, out *ctype) error {
	at := r.Offset()
	c, err := r.Byte()
	if err != nil {
		return err
	}
	switch c {
	case 0x00:
		rt, err := s.valtype(r)
		if err != nil {
			return err
		}
		out.noteBad(rt)
		f.Result = valOf(rt)
		return nil
	case 0x01:
		n := 0
		err := r.Vec(2, func(int) error {
			n++
			if _, err := r.Name(); err != nil {
				return err
			}
			_, err := s.valtype(r)
			return err
		})
		if n > 0 && out.bad == "" {
			out.bad = "named results"
		}
		return err
	}
	return wasmbin.Errorf(at, "bad result list byte 0x%02x", c)
}

// Declarators of instance and component types.
const (
	declCoreType = 0x00
	declType     = 0x01
	declAlias    = 0x02
	declImport   = 0x03 // component types only
	declExport   = 0x04
)

// declType reads the declarations of an instance type (or component type).
func (s *scope) declType(r *wasmbin.Reader, component bool) (*ctype, error) {
	if s.depth >= maxDepth {
		return nil, unsupported("types nested deeper than %d", maxDepth)
	}
	inner := &scope{parent: s, depth: s.depth + 1}
	out := &ctype{kind: ctInstance}
	if component {
		out.kind = ctComponent
	}
	err := r.Vec(1, func(int) error {
		at := r.Offset()
		tag, err := r.Byte()
		if err != nil {
			return err
		}
		switch {
		case tag == declCoreType:
			return skipCoreType(r, 0)
		case tag == declType:
			return inner.deftype(r)
		case tag == declAlias:
			return inner.declAlias(r)
		case tag == declExport || (tag == declImport && component):
			return inner.declExtern(r, out, tag == declExport)
		}
		return wasmbin.Errorf(at, "unknown declaration tag 0x%02x", tag)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// declExtern reads an import or export declaration; a type declaration
// defines a type of the scope, and an export becomes one of out's exports.
func (s *scope) declExtern(r *wasmbin.Reader, out *ctype, export bool) error {
	name, err := externName(r)
	if err != nil {
		return err
	}
	kind, t, err := s.externdesc(r)
	if err != nil {
		return err
	}
	if kind == externType {
		t = named(t, name)
		s.types = append(s.types, t)
	}
	if export {
		out.exports = append(out.exports, typeExport{name: name, kind: kind, t: t})
	}
	return nil
}

// declAlias handles an alias declarator inside an instance/component type.
// Only type aliases affect the local type space; outer ones are resolved.
func (s *scope) declAlias(r *wasmbin.Reader) error {
	srt, err := readSort(r)
	if err != nil {
		return err
	}
	at := r.Offset()
	tgt, err := r.Byte()
	if err != nil {
		return err
	}
	t := unknownType
	switch tgt {
	case aliasExport, aliasCoreExport:
		if _, err := r.U32(); err != nil {
			return err
		}
		if _, err := r.Name(); err != nil {
			return err
		}
	case aliasOuter:
		ct, idx, err := readOuter(r)
		if err != nil {
			return err
		}
		if srt == sortType {
			if t, err = s.outer(ct, idx); err != nil {
				return err
			}
		}
	default:
		return wasmbin.Errorf(at, "unknown alias target 0x%02x", tgt)
	}
	if srt == sortType {
		s.types = append(s.types, t)
	}
	return nil
}

// readOuter reads the count and index of an outer alias.
func readOuter(r *wasmbin.Reader) (ct, idx uint32, err error) {
	if ct, err = r.U32(); err != nil {
		return 0, 0, err
	}
	idx, err = r.U32()
	return ct, idx, err
}

// externdesc reads an externdesc; for type bounds and func/instance
// descriptors it returns the type (a fresh resource for `sub resource`).
func (s *scope) externdesc(r *wasmbin.Reader) (byte, *ctype, error) {
	at := r.Offset()
	kind, err := r.Byte()
	if err != nil {
		return 0, nil, err
	}
	var t *ctype
	switch kind {
	case externCoreModule:
		t, err = unknownType, coreModuleDesc(r)
	case externFunc, externComponent, externInstance:
		t, err = s.typeIdx(r)
	case externValue:
		t, err = unknownType, s.valueBound(r)
	case externType:
		t, err = s.typeBound(r)
	default:
		return 0, nil, wasmbin.Errorf(at, "unknown externdesc 0x%02x", kind)
	}
	if err != nil {
		return 0, nil, err
	}
	return kind, t, nil
}

// coreModuleDesc reads the core module type index of a core module descriptor.
func coreModuleDesc(r *wasmbin.Reader) error {
	at := r.Offset()
	b, err := r.Byte()
	if err != nil {
		return err
	}
	if b != byte(sortCoreModule&0xff) {
		return wasmbin.Errorf(at, "core externdesc sort 0x%02x", b)
	}
	_, err = r.U32()
	return err
}

// valueBound reads the bound of a value descriptor.
func (s *scope) valueBound(r *wasmbin.Reader) error {
	at := r.Offset()
	b, err := r.Byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x00: // eq: a value index
		_, err = r.U32()
	case 0x01: // a value type
		_, err = s.valtype(r)
	default:
		err = wasmbin.Errorf(at, "bad value bound 0x%02x", b)
	}
	return err
}

// typeBound reads the bound of a type descriptor: equal to a type, or a fresh
// resource.
func (s *scope) typeBound(r *wasmbin.Reader) (*ctype, error) {
	at := r.Offset()
	b, err := r.Byte()
	if err != nil {
		return nil, err
	}
	switch b {
	case 0x00: // eq
		return s.typeIdx(r)
	case 0x01: // sub resource
		return &ctype{kind: ctResource, res: &wit.Type{Kind: wit.Resource}}, nil
	}
	return nil, wasmbin.Errorf(at, "bad type bound 0x%02x", b)
}

// optExterndesc reads the optional type ascription of an export.
func (s *scope) optExterndesc(r *wasmbin.Reader) error {
	some, err := optional(r)
	if err != nil || !some {
		return err
	}
	_, _, err = s.externdesc(r)
	return err
}
