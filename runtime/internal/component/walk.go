package component

import (
	"errors"
	"fmt"
)

// Sorts, as in sortidx: component sorts 0x01..0x05, core sorts as
// sortCore|core:sort.
const (
	sortFunc       = 0x01
	sortValue      = 0x02
	sortType       = 0x03
	sortComponent  = 0x04
	sortInstance   = 0x05
	sortCore       = 0x100
	sortCoreFunc   = sortCore // core:sort 0x00
	sortCoreTable  = sortCore | 0x01
	sortCoreMemory = sortCore | 0x02
	sortCoreGlobal = sortCore | 0x03
	sortCoreType   = sortCore | 0x10
	sortCoreModule = sortCore | 0x11
	sortCoreInst   = sortCore | 0x12
)

func readSort(r *reader) (int, error) {
	b, err := r.byte()
	if err != nil {
		return 0, err
	}
	if b == 0x00 {
		cs, err := r.byte()
		if err != nil {
			return 0, err
		}
		switch cs {
		case 0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x12:
			return sortCore | int(cs), nil
		}
		return 0, r.errf("unknown core sort 0x%02x", cs)
	}
	if b > sortInstance {
		return 0, r.errf("unknown sort 0x%02x", b)
	}
	return int(b), nil
}

func readCoreSort(r *reader) (int, error) {
	cs, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch cs {
	case 0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x12:
		return sortCore | int(cs), nil
	}
	return 0, r.errf("unknown core sort 0x%02x", cs)
}

// externName reads an importname' or exportname' (0x00 name, or 0x01 name
// followed by a version suffix, which is ignored).
func externName(r *reader) (string, error) {
	tag, err := r.byte()
	if err != nil {
		return "", err
	}
	switch tag {
	case 0x00:
		return r.name()
	case 0x01:
		n, err := r.name()
		if err != nil {
			return "", err
		}
		_, err = r.name()
		return n, err
	}
	return "", r.errf("unknown import/export name tag 0x%02x", tag)
}

var sectionNames = [...]string{"custom", "core module", "core instance", "core type", "component",
	"instance", "alias", "type", "canon", "start", "import", "export", "value"}

func sectionName(id byte) string {
	if int(id) < len(sectionNames) {
		return sectionNames[id]
	}
	return "unknown"
}

// canonEntry is one canon definition.
type canonEntry struct {
	op      byte // 0x00 lift, 0x01 lower, 0x02..0x04 resource.new/drop/rep
	fn      int  // lift: core func; lower: component func; resource.*: type
	typ     int  // lift: component type index
	enc     Encoding
	mem     int // core memory index or -1
	realloc int // core func index or -1
	post    int // core func index or -1
}

func readCanon(r *reader) (*canonEntry, error) {
	op, err := r.byte()
	if err != nil {
		return nil, err
	}
	c := &canonEntry{op: op, mem: -1, realloc: -1, post: -1}
	switch op {
	case 0x00, 0x01:
		b, err := r.byte()
		if err != nil {
			return nil, err
		}
		if b != 0x00 {
			return nil, r.errf("canon %s: sort 0x%02x is not func", canonName(op), b)
		}
		f, err := r.u32()
		if err != nil {
			return nil, err
		}
		c.fn = int(f)
		if err := c.readOpts(r); err != nil {
			return nil, err
		}
		if op == 0x00 {
			t, err := r.u32()
			if err != nil {
				return nil, err
			}
			c.typ = int(t)
		}
	case 0x02, 0x03, 0x04:
		t, err := r.u32()
		if err != nil {
			return nil, err
		}
		c.fn = int(t)
	default:
		return nil, unsupported("canon opcode 0x%02x is not supported (component-model async or threads builtins)", op)
	}
	return c, nil
}

func canonName(op byte) string {
	switch op {
	case 0x00:
		return "lift"
	case 0x01:
		return "lower"
	case 0x02:
		return "resource.new"
	case 0x03:
		return "resource.drop"
	case 0x04:
		return "resource.rep"
	}
	return fmt.Sprintf("opcode 0x%02x", op)
}

func (c *canonEntry) readOpts(r *reader) error {
	n, err := r.count(1)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		o, err := r.byte()
		if err != nil {
			return err
		}
		switch o {
		case 0x00, 0x01, 0x02:
			c.enc = Encoding(o)
		case 0x03, 0x04, 0x05:
			v, err := r.u32()
			if err != nil {
				return err
			}
			switch o {
			case 0x03:
				c.mem = int(v)
			case 0x04:
				c.realloc = int(v)
			case 0x05:
				c.post = int(v)
			}
		case 0x06:
			return unsupported("canon %s: option async (0x06) is not supported", canonName(c.op))
		case 0x07:
			return unsupported("canon %s: option callback (0x07) is not supported", canonName(c.op))
		default:
			return unsupported("canon %s: option 0x%02x is not supported", canonName(c.op), o)
		}
	}
	return nil
}

// skipOptExterndesc reads the optional type ascription of an export.
func (s *scope) optExterndesc(r *reader) error {
	b, err := r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x00:
		return nil
	case 0x01:
		_, _, err := s.externdesc(r)
		return err
	}
	return r.errf("bad option byte 0x%02x", b)
}

// nestedInfo is what chiphost reads from a nested component: for each of
// its functions the import it comes from, and its exports.
type nestedInfo struct {
	funcs   []string // import name per func index ("" if not an import)
	exports []inlineExport
	hasCore bool
}

// walkSections calls fn for each section of a component or core module
// body that starts at r.pos.
func walkSections(r *reader, fn func(id byte, s *reader) error) error {
	for !r.eof() {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		payload, err := r.bytes(int(size))
		if err != nil {
			return fmt.Errorf("section %d (%s): %w", id, sectionName(id), err)
		}
		s := newReader(payload, r.offset()-len(payload))
		if err := fn(id, s); err != nil {
			if isUnsupported(err) {
				return err
			}
			return fmt.Errorf("section %d (%s): %w", id, sectionName(id), err)
		}
	}
	return nil
}

func isUnsupported(err error) bool {
	var u *unsupportedError
	return errors.As(err, &u)
}

func checkComponentPreamble(b []byte, base int) error {
	if len(b) < 8 || string(b[:4]) != "\x00asm" || b[4] != 0x0d || b[5] != 0 || b[6] != 1 || b[7] != 0 {
		return fmt.Errorf("offset 0x%x: nested component has a bad preamble: %w", base, ErrMalformed)
	}
	return nil
}

// analyzeNested reads a nested component just far enough to map its
// exported functions back to its imports, and to see whether it (or any
// component nested in it) holds core modules.
func analyzeNested(bin []byte, base int, parent *scope, depth int) (*nestedInfo, error) {
	if depth > maxDepth {
		return nil, unsupported("components nested deeper than %d are not supported", maxDepth)
	}
	if err := checkComponentPreamble(bin, base); err != nil {
		return nil, err
	}
	info := &nestedInfo{}
	sc := &scope{parent: parent, depth: depth}
	r := newReader(bin, base)
	r.pos = 8
	err := walkSections(r, func(id byte, s *reader) error {
		switch id {
		case 1:
			info.hasCore = true
		case 4:
			child, err := analyzeNested(s.b, s.base, sc, depth+1)
			if err != nil {
				return err
			}
			if child.hasCore {
				info.hasCore = true
			}
		case 6:
			n, err := s.count(3)
			if err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				srt, err := readSort(s)
				if err != nil {
					return err
				}
				if err := skipAliasTarget(s); err != nil {
					return err
				}
				if srt == sortFunc {
					info.funcs = append(info.funcs, "")
				}
				if srt == sortType {
					sc.types = append(sc.types, unknownType)
				}
			}
		case 7:
			n, err := s.count(1)
			if err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				if err := sc.deftype(s); err != nil {
					return err
				}
			}
		case 8:
			n, err := s.count(2)
			if err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				c, err := readCanon(s)
				if err != nil {
					return err
				}
				if c.op == 0x00 {
					info.funcs = append(info.funcs, "")
				}
			}
		case 10:
			n, err := s.count(3)
			if err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				name, err := externName(s)
				if err != nil {
					return err
				}
				kind, t, err := sc.externdesc(s)
				if err != nil {
					return err
				}
				switch kind {
				case 0x01:
					info.funcs = append(info.funcs, name)
				case 0x03:
					sc.types = append(sc.types, t)
				}
			}
		case 11:
			n, err := s.count(3)
			if err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				name, err := externName(s)
				if err != nil {
					return err
				}
				srt, err := readSort(s)
				if err != nil {
					return err
				}
				idx, err := s.u32()
				if err != nil {
					return err
				}
				if err := sc.optExterndesc(s); err != nil {
					return err
				}
				info.exports = append(info.exports, inlineExport{name: name, sort: srt, idx: int(idx)})
				switch srt {
				case sortFunc:
					if int(idx) >= len(info.funcs) {
						return s.errf("func index %d out of range (%d defined)", idx, len(info.funcs))
					}
					info.funcs = append(info.funcs, info.funcs[idx])
				case sortType:
					if int(idx) >= len(sc.types) {
						return s.errf("type index %d out of range (%d defined)", idx, len(sc.types))
					}
					sc.types = append(sc.types, sc.types[idx])
				}
			}
		}
		return nil
	})
	return info, err
}

func skipAliasTarget(r *reader) error {
	t, err := r.byte()
	if err != nil {
		return err
	}
	switch t {
	case 0x00, 0x01:
		if _, err := r.u32(); err != nil {
			return err
		}
		_, err := r.name()
		return err
	case 0x02:
		if _, err := r.u32(); err != nil {
			return err
		}
		_, err := r.u32()
		return err
	}
	return r.errf("unknown alias target 0x%02x", t)
}
