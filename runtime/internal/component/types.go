package component

import (
	"fmt"

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
}

// typeExport is an export declaration of an instance type.
type typeExport struct {
	name string
	kind byte // externdesc kind: 0x01 func, 0x03 type, 0x05 instance, …
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

func (s *scope) typeAt(r *reader, i int64) (*ctype, error) {
	if i < 0 || i >= int64(len(s.types)) {
		return nil, r.errf("type index %d out of range (%d defined)", i, len(s.types))
	}
	return s.types[i], nil
}

var primitives = map[byte]wit.Kind{
	0x7f: wit.Bool, 0x7e: wit.S8, 0x7d: wit.U8, 0x7c: wit.S16, 0x7b: wit.U16,
	0x7a: wit.S32, 0x79: wit.U32, 0x78: wit.S64, 0x77: wit.U64, 0x76: wit.F32,
	0x75: wit.F64, 0x74: wit.Char, 0x73: wit.String,
}

// valtype reads a valtype: a primitive opcode or a type index (s33).
func (s *scope) valtype(r *reader) (*ctype, error) {
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if k, ok := primitives[c]; ok {
		r.pos++
		return &ctype{kind: ctVal, val: &wit.Type{Kind: k}}, nil
	}
	if c == 0x64 {
		r.pos++
		return &ctype{kind: ctVal, bad: "error-context"}, nil
	}
	i, err := r.s33()
	if err != nil {
		return nil, err
	}
	t, err := s.typeAt(r, i)
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case ctVal:
		return t, nil
	case ctUnknown:
		return &ctype{kind: ctVal, bad: t.bad}, nil
	}
	return nil, r.errf("type index %d is not a value type", i)
}

func (s *scope) optValtype(r *reader) (*ctype, error) {
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x00:
		return nil, nil
	case 0x01:
		return s.valtype(r)
	}
	return nil, r.errf("bad option byte 0x%02x", c)
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
func (s *scope) deftype(r *reader) error {
	t, err := s.readDeftype(r)
	if err != nil {
		return err
	}
	s.types = append(s.types, t)
	return nil
}

func (s *scope) readDeftype(r *reader) (*ctype, error) {
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x40, 0x43:
		r.pos++
		return s.functype(r, c == 0x43)
	case 0x41, 0x42:
		r.pos++
		return s.declType(r, c == 0x41)
	case 0x3f, 0x3e:
		r.pos++
		if b, err := r.byte(); err != nil {
			return nil, err
		} else if b != 0x7f {
			return nil, r.errf("resource representation 0x%02x", b)
		}
		if c == 0x3f {
			if _, err := s.optIdx(r); err != nil {
				return nil, err
			}
		} else {
			if _, err := r.u32(); err != nil {
				return nil, err
			}
			if _, err := s.optIdx(r); err != nil {
				return nil, err
			}
		}
		return &ctype{kind: ctResource, bad: "resource"}, nil
	}
	return s.defvaltype(r)
}

func (s *scope) optIdx(r *reader) (bool, error) {
	c, err := r.byte()
	if err != nil {
		return false, err
	}
	switch c {
	case 0x00:
		return false, nil
	case 0x01:
		_, err := r.u32()
		return true, err
	}
	return false, r.errf("bad option byte 0x%02x", c)
}

func (s *scope) defvaltype(r *reader) (*ctype, error) {
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	if k, ok := primitives[c]; ok {
		return &ctype{kind: ctVal, val: &wit.Type{Kind: k}}, nil
	}
	out := &ctype{kind: ctVal}
	switch c {
	case 0x72, 0x71: // record, variant
		n, err := r.count(2)
		if err != nil {
			return nil, err
		}
		w := &wit.Type{Kind: wit.Record}
		if c == 0x71 {
			w.Kind = wit.Variant
		}
		for i := 0; i < n; i++ {
			label, err := r.name()
			if err != nil {
				return nil, err
			}
			var ft *ctype
			if c == 0x72 {
				ft, err = s.valtype(r)
			} else {
				ft, err = s.optValtype(r)
				if err == nil {
					var z byte
					if z, err = r.byte(); err == nil && z != 0 {
						if z != 1 {
							return nil, r.errf("bad case refinement byte 0x%02x", z)
						}
						_, err = r.u32() // legacy `refines`
					}
				}
			}
			if err != nil {
				return nil, err
			}
			if b := badOf(ft); b != "" && out.bad == "" {
				out.bad = b
			}
			if c == 0x72 {
				w.Fields = append(w.Fields, wit.Field{Name: label, Type: valOf(ft)})
			} else {
				w.Cases = append(w.Cases, wit.Case{Name: label, Type: valOf(ft)})
			}
		}
		out.val = w
	case 0x70, 0x6b: // list, option
		et, err := s.valtype(r)
		if err != nil {
			return nil, err
		}
		k := wit.List
		if c == 0x6b {
			k = wit.Option
		}
		out.bad = badOf(et)
		out.val = &wit.Type{Kind: k, Elem: valOf(et)}
	case 0x67: // fixed-size list
		if _, err := s.valtype(r); err != nil {
			return nil, err
		}
		if _, err := r.u32(); err != nil {
			return nil, err
		}
		out.bad = "fixed-size list"
	case 0x6f: // tuple
		n, err := r.count(1)
		if err != nil {
			return nil, err
		}
		w := &wit.Type{Kind: wit.Tuple}
		for i := 0; i < n; i++ {
			et, err := s.valtype(r)
			if err != nil {
				return nil, err
			}
			if b := badOf(et); b != "" && out.bad == "" {
				out.bad = b
			}
			w.Fields = append(w.Fields, wit.Field{Type: valOf(et)})
		}
		out.val = w
	case 0x6e, 0x6d: // flags, enum
		n, err := r.count(1)
		if err != nil {
			return nil, err
		}
		w := &wit.Type{Kind: wit.Flags}
		if c == 0x6d {
			w.Kind = wit.Enum
		}
		for i := 0; i < n; i++ {
			label, err := r.name()
			if err != nil {
				return nil, err
			}
			if c == 0x6e {
				w.Flags = append(w.Flags, label)
			} else {
				w.Cases = append(w.Cases, wit.Case{Name: label})
			}
		}
		out.val = w
	case 0x6a: // result
		ok, err := s.optValtype(r)
		if err != nil {
			return nil, err
		}
		e, err := s.optValtype(r)
		if err != nil {
			return nil, err
		}
		out.bad = badOf(ok, e)
		out.val = &wit.Type{Kind: wit.Result, Ok: valOf(ok), Err: valOf(e)}
	case 0x69, 0x68: // own, borrow
		i, err := r.u32()
		if err != nil {
			return nil, err
		}
		if _, err := s.typeAt(r, int64(i)); err != nil {
			return nil, err
		}
		if c == 0x69 {
			out.bad = "own<…> resource handle"
		} else {
			out.bad = "borrow<…> resource handle"
		}
	case 0x66, 0x65: // stream, future
		if _, err := s.optValtype(r); err != nil {
			return nil, err
		}
		out.bad = "stream"
		if c == 0x65 {
			out.bad = "future"
		}
	case 0x64:
		out.bad = "error-context"
	default:
		return nil, r.errf("unknown type opcode 0x%02x", c)
	}
	if out.bad != "" {
		out.val = nil
	}
	return out, nil
}

func (s *scope) functype(r *reader, async bool) (*ctype, error) {
	out := &ctype{kind: ctFunc}
	f := &wit.Func{}
	n, err := r.count(2)
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		label, err := r.name()
		if err != nil {
			return nil, err
		}
		pt, err := s.valtype(r)
		if err != nil {
			return nil, err
		}
		if b := badOf(pt); b != "" && out.bad == "" {
			out.bad = b
		}
		f.Params = append(f.Params, wit.Param{Name: label, Type: valOf(pt)})
	}
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x00:
		rt, err := s.valtype(r)
		if err != nil {
			return nil, err
		}
		if b := badOf(rt); b != "" && out.bad == "" {
			out.bad = b
		}
		f.Result = valOf(rt)
	case 0x01:
		n, err := r.count(2)
		if err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			if _, err := r.name(); err != nil {
				return nil, err
			}
			if _, err := s.valtype(r); err != nil {
				return nil, err
			}
		}
		if n > 0 && out.bad == "" {
			out.bad = "named results"
		}
	default:
		return nil, r.errf("bad result list byte 0x%02x", c)
	}
	if async && out.bad == "" {
		out.bad = "async function"
	}
	if out.bad == "" {
		out.fn = f
	}
	return out, nil
}

// declType reads the declarations of an instance type (or component type).
func (s *scope) declType(r *reader, component bool) (*ctype, error) {
	if s.depth >= maxDepth {
		return nil, unsupported("types nested deeper than %d", maxDepth)
	}
	inner := &scope{parent: s, depth: s.depth + 1}
	out := &ctype{kind: ctInstance}
	if component {
		out.kind = ctComponent
	}
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		tag, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch {
		case tag == 0x00:
			if err := skipCoreType(r, 0); err != nil {
				return nil, err
			}
		case tag == 0x01:
			if err := inner.deftype(r); err != nil {
				return nil, err
			}
		case tag == 0x02:
			if err := inner.declAlias(r); err != nil {
				return nil, err
			}
		case tag == 0x04 || (tag == 0x03 && component):
			name, err := externName(r)
			if err != nil {
				return nil, err
			}
			kind, t, err := inner.externdesc(r)
			if err != nil {
				return nil, err
			}
			if kind == 0x03 {
				if t.kind == ctVal && t.val != nil {
					c := *t.val
					c.Name = name
					t = &ctype{kind: ctVal, val: &c}
				}
				inner.types = append(inner.types, t)
			}
			if tag == 0x04 {
				out.exports = append(out.exports, typeExport{name: name, kind: kind, t: t})
			}
		default:
			return nil, r.errf("unknown declaration tag 0x%02x", tag)
		}
	}
	return out, nil
}

// declAlias handles an alias declarator inside an instance/component type.
// Only type aliases affect the local type space; outer ones are resolved.
func (s *scope) declAlias(r *reader) error {
	srt, err := readSort(r)
	if err != nil {
		return err
	}
	tgt, err := r.byte()
	if err != nil {
		return err
	}
	var t *ctype = unknownType
	switch tgt {
	case 0x00, 0x01:
		if _, err := r.u32(); err != nil {
			return err
		}
		if _, err := r.name(); err != nil {
			return err
		}
	case 0x02:
		ct, err := r.u32()
		if err != nil {
			return err
		}
		idx, err := r.u32()
		if err != nil {
			return err
		}
		if srt == sortType {
			if t, err = s.outer(ct, idx); err != nil {
				return err
			}
		}
	default:
		return r.errf("unknown alias target 0x%02x", tgt)
	}
	if srt == sortType {
		s.types = append(s.types, t)
	}
	return nil
}

// externdesc reads an externdesc; for type bounds and func/instance
// descriptors it returns the type (a fresh resource for `sub resource`).
func (s *scope) externdesc(r *reader) (byte, *ctype, error) {
	kind, err := r.byte()
	if err != nil {
		return 0, nil, err
	}
	switch kind {
	case 0x00:
		b, err := r.byte()
		if err != nil {
			return 0, nil, err
		}
		if b != 0x11 {
			return 0, nil, r.errf("core externdesc sort 0x%02x", b)
		}
		_, err = r.u32()
		return kind, unknownType, err
	case 0x01, 0x04, 0x05:
		i, err := r.u32()
		if err != nil {
			return 0, nil, err
		}
		t, err := s.typeAt(r, int64(i))
		return kind, t, err
	case 0x02:
		b, err := r.byte()
		if err != nil {
			return 0, nil, err
		}
		switch b {
		case 0x00:
			_, err = r.u32()
		case 0x01:
			_, err = s.valtype(r)
		default:
			err = r.errf("bad value bound 0x%02x", b)
		}
		return kind, unknownType, err
	case 0x03:
		b, err := r.byte()
		if err != nil {
			return 0, nil, err
		}
		switch b {
		case 0x00:
			i, err := r.u32()
			if err != nil {
				return 0, nil, err
			}
			t, err := s.typeAt(r, int64(i))
			return kind, t, err
		case 0x01:
			return kind, &ctype{kind: ctResource, bad: "resource"}, nil
		}
		return 0, nil, r.errf("bad type bound 0x%02x", b)
	}
	return 0, nil, r.errf("unknown externdesc 0x%02x", kind)
}

// skipCoreType skips a core:type (functype or moduletype).
func skipCoreType(r *reader, depth int) error {
	if depth > 2 {
		return r.errf("core module types nested too deep")
	}
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case 0x60:
		for k := 0; k < 2; k++ {
			n, err := r.count(1)
			if err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				if err := valType(r); err != nil {
					return err
				}
			}
		}
		return nil
	case 0x50:
		n, err := r.count(1)
		if err != nil {
			return err
		}
		var m coreModule
		for i := 0; i < n; i++ {
			tag, err := r.byte()
			if err != nil {
				return err
			}
			switch tag {
			case 0x00:
				if _, err := r.name(); err != nil {
					return err
				}
				fallthrough
			case 0x03:
				if _, err := r.name(); err != nil {
					return err
				}
				kind, err := r.byte()
				if err != nil {
					return err
				}
				if err := m.importDesc(kind, r); err != nil {
					return err
				}
			case 0x01:
				if err := skipCoreType(r, depth+1); err != nil {
					return err
				}
			case 0x02:
				if _, err := r.byte(); err != nil {
					return err
				}
				if t, err := r.byte(); err != nil {
					return err
				} else if t != 0x01 {
					return r.errf("core alias target 0x%02x", t)
				}
				if _, err := r.u32(); err != nil {
					return err
				}
				if _, err := r.u32(); err != nil {
					return err
				}
			default:
				return r.errf("unknown module type declaration 0x%02x", tag)
			}
		}
		return nil
	}
	return unsupported("core type 0x%02x (GC types) is not supported", c)
}
