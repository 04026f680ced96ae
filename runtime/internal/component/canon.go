package component

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// Canon opcodes chiphost reads; the others (async, threads) are refused.
const (
	canonLift         = 0x00
	canonLower        = 0x01
	canonResourceNew  = 0x02
	canonResourceDrop = 0x03
	canonResourceRep  = 0x04
)

var canonNames = [...]string{"lift", "lower", "resource.new", "resource.drop", "resource.rep"}

func canonName(op byte) string {
	if int(op) < len(canonNames) {
		return canonNames[op]
	}
	return fmt.Sprintf("opcode 0x%02x", op)
}

// Canon options.
const (
	optUTF8        = 0x00 // string-encoding=utf8
	optUTF16       = 0x01
	optLatin1UTF16 = 0x02
	optMemory      = 0x03
	optRealloc     = 0x04
	optPostReturn  = 0x05
	optAsync       = 0x06
	optCallback    = 0x07
)

// canonEntry is one canon definition.
type canonEntry struct {
	op      byte // canonLift, canonLower, canonResource*
	fn      int  // lift: core func; lower: component func; resource.*: type
	typ     int  // lift: component type index
	enc     Encoding
	mem     int // core memory index or -1
	realloc int // core func index or -1
	post    int // core func index or -1
}

// canons decodes the canon section.
func (d *decoder) canons(r *wasmbin.Reader) error {
	return r.Vec(2, func(i int) error {
		at := r.Offset()
		c, err := readCanon(r)
		if err != nil {
			if isUnsupported(err) {
				return unsupported("canon entry %d: %v", i, err)
			}
			return err
		}
		if err := d.checkCanon(at, c); err != nil {
			return err
		}
		if c.op == canonLift {
			d.funcs = append(d.funcs, &compFunc{kind: fLift, lift: c})
		} else {
			d.coreFuncs = append(d.coreFuncs, coreFunc{coreRef: coreRef{inst: -1}, canon: c})
		}
		return nil
	})
}

// indexCheck is one index of a canon definition and the size of its space.
type indexCheck struct {
	what      string
	idx, size int
}

// checkCanon checks the indices of the canon definition at offset at.
func (d *decoder) checkCanon(at int, c *canonEntry) error {
	// The function (or type) and the options; absent ones are -1, which is
	// always in range.
	checks := [...]indexCheck{
		{"type", c.fn, len(d.scope.types)}, // resource.*
		{"type", -1, 0},
		{"core memory", c.mem, len(d.coreMems)},
		{"core func", c.realloc, len(d.coreFuncs)},
		{"core func", c.post, len(d.coreFuncs)},
	}
	switch c.op {
	case canonLift:
		checks[0] = indexCheck{"core func", c.fn, len(d.coreFuncs)}
		checks[1] = indexCheck{"type", c.typ, len(d.scope.types)}
	case canonLower:
		checks[0] = indexCheck{"func", c.fn, len(d.funcs)}
	}
	for _, ch := range checks {
		if ch.idx >= ch.size {
			return wasmbin.Errorf(at, "canon %s: %s index %d out of range (%d defined)", canonName(c.op), ch.what, ch.idx, ch.size)
		}
	}
	return nil
}

// readCanon reads one canon definition.
func readCanon(r *wasmbin.Reader) (*canonEntry, error) {
	op, err := r.Byte()
	if err != nil {
		return nil, err
	}
	c := &canonEntry{op: op, mem: -1, realloc: -1, post: -1}
	switch op {
	case canonLift, canonLower:
		err = c.readFunc(r)
	case canonResourceNew, canonResourceDrop, canonResourceRep:
		c.fn, err = readInt(r)
	default:
		return nil, unsupported("canon opcode 0x%02x is not supported (component-model async or threads builtins)", op)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// readFunc reads the rest of a lift or lower: the function, the options and,
// for a lift, the type.
func (c *canonEntry) readFunc(r *wasmbin.Reader) error {
	at := r.Offset()
	b, err := r.Byte()
	if err != nil {
		return err
	}
	if b != 0x00 {
		return wasmbin.Errorf(at, "canon %s: sort 0x%02x is not func", canonName(c.op), b)
	}
	if c.fn, err = readInt(r); err != nil {
		return err
	}
	if err := c.readOpts(r); err != nil {
		return err
	}
	if c.op == canonLift {
		c.typ, err = readInt(r)
	}
	return err
}

// readInt reads a u32 index that is checked later.
func readInt(r *wasmbin.Reader) (int, error) {
	v, err := r.U32()
	return int(v), err
}

// readOpts reads the canon options. Each option may be given once, and the
// three string encodings are one option: a list that names two encodings,
// or two memories, is malformed (the validator of the Component Model's
// reference tools refuses it too), rather than the last one winning.
func (c *canonEntry) readOpts(r *wasmbin.Reader) error {
	var seen [optCallback + 1]bool
	return r.Vec(1, func(int) error {
		o, err := r.Byte()
		if err != nil {
			return err
		}
		if o <= optCallback {
			slot := o
			if o <= optLatin1UTF16 {
				slot = optUTF8 // the encodings share one slot
			}
			if seen[slot] {
				return fmt.Errorf("canon %s: %s given twice: %w", canonName(c.op), optName(o), ErrMalformed)
			}
			seen[slot] = true
		}
		switch o {
		case optUTF8, optUTF16, optLatin1UTF16:
			c.enc = Encoding(o)
		case optMemory:
			c.mem, err = readInt(r)
		case optRealloc:
			c.realloc, err = readInt(r)
		case optPostReturn:
			c.post, err = readInt(r)
		case optAsync:
			return unsupported("canon %s: option async (0x06) is not supported", canonName(c.op))
		case optCallback:
			return unsupported("canon %s: option callback (0x07) is not supported", canonName(c.op))
		default:
			return unsupported("canon %s: option 0x%02x is not supported", canonName(c.op), o)
		}
		return err
	})
}

// optName names a canon option for messages.
func optName(o byte) string {
	switch o {
	case optUTF8, optUTF16, optLatin1UTF16:
		return "string-encoding"
	case optMemory:
		return "option memory"
	case optRealloc:
		return "option realloc"
	case optPostReturn:
		return "option post-return"
	}
	return fmt.Sprintf("option 0x%02x", o)
}
