package abitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/chiphost/chiphost/wit"
)

// maxDepth bounds the nesting of types and JSON values, as abi bounds types.
const maxDepth = 100

// The NaNs the ABI's lift canonicalises to.
const (
	canonicalNaN32 = 0x7fc00000
	canonicalNaN64 = 0x7ff8000000000000
)

// Error is a JSON text that does not match its type. Path names the value
// that failed, as abi.Error's path does ("ok[1].value.some.message.line").
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "canonical JSON: " + e.Msg
	}
	return "canonical JSON: " + e.Path + ": " + e.Msg
}

func errorf(format string, args ...any) *Error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// wrap prepends the name segment seg to err's path.
func wrap(err error, seg string) error {
	var e *Error
	if !errors.As(err, &e) || seg == "" {
		return err
	}
	switch {
	case e.Path == "":
		e.Path = seg
	case e.Path[0] == '[':
		e.Path = seg + e.Path
	default:
		e.Path = seg + "." + e.Path
	}
	return err
}

// wrapIndex prepends the list index segment "[i]" to err's path.
func wrapIndex(err error, i int) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	seg := "[" + strconv.Itoa(i) + "]"
	if e.Path == "" || e.Path[0] == '[' {
		e.Path = seg + e.Path
	} else {
		e.Path = seg + "." + e.Path
	}
	return err
}

// ParseJSON parses the canonical JSON form of a value of type t (see the
// package comment) into the Value the ABI's lift would produce. It accepts
// exactly that shape: every record field present once and no others,
// numbers in range for their type and integral for integer types, 64-bit
// integers as decimal strings, one-character strings for chars. Errors
// name the value path.
func ParseJSON(t *wit.Type, data []byte) (Value, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	p := &parser{d: d}
	v, err := p.value(t, 0)
	if err != nil {
		return Value{}, err
	}
	if _, err := d.Token(); err != io.EOF {
		return Value{}, errorf("trailing data after the value")
	}
	return v, nil
}

type parser struct{ d *json.Decoder }

func (p *parser) token() (json.Token, error) {
	tok, err := p.d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf("unexpected end of JSON")
		}
		return nil, errorf("invalid JSON: %v", err)
	}
	return tok, nil
}

func describe(tok json.Token) string {
	switch tok := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		switch tok {
		case '[':
			return "array"
		case '{':
			return "object"
		}
		return string(tok)
	case string:
		return "string"
	case json.Number:
		return "number " + tok.String()
	case bool:
		return "boolean"
	}
	return "value"
}

func mismatch(t *wit.Type, tok json.Token) error {
	return errorf("want %s, found %s", t, describe(tok))
}

// end consumes the closing delimiter d.
func (p *parser) end(d json.Delim) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != d {
		return errorf("want %q, found %s", string(d), describe(tok))
	}
	return nil
}

func (p *parser) value(t *wit.Type, depth int) (Value, error) {
	if t == nil {
		return Value{}, errorf("missing type")
	}
	if depth > maxDepth {
		return Value{}, errorf("JSON nested too deeply")
	}
	tok, err := p.token()
	if err != nil {
		return Value{}, err
	}
	switch t.Kind {
	case wit.Bool:
		b, ok := tok.(bool)
		if !ok {
			return Value{}, mismatch(t, tok)
		}
		if b {
			return Value{Num: 1}, nil
		}
		return Value{}, nil
	case wit.U8, wit.U16, wit.U32, wit.S8, wit.S16, wit.S32:
		return integer(t, tok)
	case wit.U64, wit.S64:
		return integer64(t, tok)
	case wit.F32, wit.F64:
		return float(t, tok)
	case wit.Char:
		s, ok := tok.(string)
		if !ok {
			return Value{}, mismatch(t, tok)
		}
		r, size := utf8.DecodeRuneInString(s)
		if size == 0 || size != len(s) || (r == utf8.RuneError && size == 1) {
			return Value{}, errorf("char must be a string of one character, found %q", s)
		}
		return Value{Num: uint64(r)}, nil
	case wit.String:
		s, ok := tok.(string)
		if !ok {
			return Value{}, mismatch(t, tok)
		}
		return Value{Str: s}, nil
	case wit.List, wit.Tuple, wit.Flags:
		if tok != json.Delim('[') {
			return Value{}, mismatch(t, tok)
		}
		return p.array(t, depth)
	case wit.Record:
		if tok != json.Delim('{') {
			return Value{}, mismatch(t, tok)
		}
		return p.record(t, depth)
	case wit.Enum:
		s, ok := tok.(string)
		if !ok {
			return Value{}, mismatch(t, tok)
		}
		names, _ := casesOf(t)
		i := indexOf(names, s)
		if i < 0 {
			return Value{}, errorf("%q is not a case of %s", s, t)
		}
		return Value{Num: uint64(i)}, nil
	case wit.Option, wit.Result, wit.Variant:
		if t.Kind == wit.Option && tok == nil {
			return Value{}, nil
		}
		if tok != json.Delim('{') {
			return Value{}, mismatch(t, tok)
		}
		if t.Kind == wit.Variant {
			return p.variant(t, depth)
		}
		return p.tagged(t, depth)
	}
	return Value{}, errorf("unsupported type kind %s", t.Kind)
}

// integer parses a number of an integer type up to 32 bits.
func integer(t *wit.Type, tok json.Token) (Value, error) {
	num, ok := tok.(json.Number)
	if !ok {
		return Value{}, mismatch(t, tok)
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || !inRange(t.Kind, n) {
		return Value{}, errorf("%s is not an integer in range for %s", num, t)
	}
	return Value{Num: uint64(n)}, nil
}

func inRange(k wit.Kind, n int64) bool {
	switch k {
	case wit.U8:
		return 0 <= n && n <= math.MaxUint8
	case wit.U16:
		return 0 <= n && n <= math.MaxUint16
	case wit.U32:
		return 0 <= n && n <= math.MaxUint32
	case wit.S8:
		return math.MinInt8 <= n && n <= math.MaxInt8
	case wit.S16:
		return math.MinInt16 <= n && n <= math.MaxInt16
	case wit.S32:
		return math.MinInt32 <= n && n <= math.MaxInt32
	}
	return false
}

// integer64 parses a u64 or s64 decimal string.
func integer64(t *wit.Type, tok json.Token) (Value, error) {
	s, ok := tok.(string)
	if !ok {
		return Value{}, mismatch(t, tok)
	}
	var v Value
	var err error
	if t.Kind == wit.U64 {
		v.Num, err = strconv.ParseUint(s, 10, 64)
	} else {
		var n int64
		n, err = strconv.ParseInt(s, 10, 64)
		v.Num = uint64(n)
	}
	if err != nil || (len(s) > 1 && (s[0] == '0' || s[0] == '+' || s[:2] == "-0")) || s == "-0" {
		return Value{}, errorf("%q is not a decimal %s", s, t)
	}
	return v, nil
}

// float parses an f32 or f64: a number, "NaN", "Infinity" or "-Infinity".
func float(t *wit.Type, tok json.Token) (Value, error) {
	var f float64
	switch tok := tok.(type) {
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(string(tok), 64); err != nil {
			return Value{}, errorf("%s is out of range for %s", tok, t)
		}
	case string:
		switch tok {
		case "NaN":
			f = math.NaN()
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		default:
			return Value{}, errorf("%q is not a number, \"NaN\", \"Infinity\" or \"-Infinity\"", tok)
		}
	default:
		return Value{}, mismatch(t, tok)
	}
	if t.Kind == wit.F64 {
		if math.IsNaN(f) {
			return Value{Num: canonicalNaN64}, nil
		}
		return Value{Num: math.Float64bits(f)}, nil
	}
	f32 := float32(f)
	switch {
	case math.IsInf(float64(f32), 0) && !math.IsInf(f, 0):
		return Value{}, errorf("%v is out of range for f32", f)
	case math.IsNaN(f):
		return Value{Num: canonicalNaN32}, nil
	}
	return Value{Num: uint64(math.Float32bits(f32))}, nil
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// array parses the rest of a JSON array for a list, tuple or flags value.
func (p *parser) array(t *wit.Type, depth int) (Value, error) {
	var v Value
	var elems []Value
	for i := 0; p.d.More(); i++ {
		switch t.Kind {
		case wit.Flags:
			if err := p.flag(t, &v, i); err != nil {
				return v, err
			}
		case wit.Tuple:
			if i >= len(t.Fields) {
				return v, errorf("%s has %d fields, found more", t, len(t.Fields))
			}
			e, err := p.value(t.Fields[i].Type, depth+1)
			if err != nil {
				return v, wrap(err, fieldName(t, i))
			}
			elems = append(elems, e)
		default:
			e, err := p.value(t.Elem, depth+1)
			if err != nil {
				return v, wrapIndex(err, i)
			}
			if t.Elem.Kind == wit.U8 {
				v.Bytes = append(v.Bytes, byte(e.Num))
			} else {
				elems = append(elems, e)
			}
		}
	}
	if err := p.end(']'); err != nil {
		return v, err
	}
	if t.Kind == wit.Tuple && len(elems) != len(t.Fields) {
		return v, errorf("%s has %d fields, found %d", t, len(t.Fields), len(elems))
	}
	v.Elems = elems
	return v, nil
}

// flag parses the i-th element of a flags array into v.
func (p *parser) flag(t *wit.Type, v *Value, i int) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	s, ok := tok.(string)
	if !ok {
		return wrapIndex(errorf("want a flag name, found %s", describe(tok)), i)
	}
	j := indexOf(t.Flags, s)
	if j < 0 || j >= 64 {
		return wrapIndex(errorf("%q is not a flag of %s", s, t), i)
	}
	if v.Num&(1<<j) != 0 {
		return wrapIndex(errorf("flag %q repeated", s), i)
	}
	v.Num |= 1 << j
	return nil
}

// record parses the rest of a JSON object for a record.
func (p *parser) record(t *wit.Type, depth int) (Value, error) {
	elems := make([]Value, len(t.Fields))
	seen := make([]bool, len(t.Fields))
	for p.d.More() {
		tok, err := p.token()
		if err != nil {
			return Value{}, err
		}
		key, _ := tok.(string)
		i := -1
		for j := range t.Fields {
			if fieldName(t, j) == key {
				i = j
				break
			}
		}
		if i < 0 {
			return Value{}, errorf("%s has no field %q", t, key)
		}
		if seen[i] {
			return Value{}, errorf("field %q repeated", key)
		}
		seen[i] = true
		if elems[i], err = p.value(t.Fields[i].Type, depth+1); err != nil {
			return Value{}, wrap(err, key)
		}
	}
	if err := p.end('}'); err != nil {
		return Value{}, err
	}
	for i, ok := range seen {
		if !ok {
			return Value{}, errorf("missing field %q", fieldName(t, i))
		}
	}
	return Value{Elems: elems}, nil
}

// key reads an object key.
func (p *parser) key() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, _ := tok.(string)
	return s, nil
}

// tagged parses the rest of a JSON object for an option ({"some":V}) or a
// result ({"ok":V} or {"err":V}).
func (p *parser) tagged(t *wit.Type, depth int) (Value, error) {
	k, err := p.key()
	if err != nil {
		return Value{}, err
	}
	names, payloads := casesOf(t)
	i := indexOf(names, k)
	if i < 0 || (t.Kind == wit.Option && i == 0) {
		return Value{}, errorf("%s has no case %q", t, k)
	}
	v := Value{Num: uint64(i)}
	if pl := payloads[i]; pl != nil {
		e, err := p.value(pl, depth+1)
		if err != nil {
			return v, wrap(err, k)
		}
		v.Elems = []Value{e}
	} else if tok, err := p.token(); err != nil {
		return v, err
	} else if tok != nil {
		return v, wrap(errorf("want null, found %s", describe(tok)), k)
	}
	return v, p.end('}')
}

// variant parses the rest of a JSON object for a variant
// ({"tag":"case","val":V}).
func (p *parser) variant(t *wit.Type, depth int) (Value, error) {
	k, err := p.key()
	if err != nil {
		return Value{}, err
	}
	if k != "tag" {
		return Value{}, errorf(`want "tag" first, found %q`, k)
	}
	tok, err := p.token()
	if err != nil {
		return Value{}, err
	}
	name, _ := tok.(string)
	names, payloads := casesOf(t)
	i := indexOf(names, name)
	if i < 0 {
		return Value{}, errorf("%s has no case %q", t, name)
	}
	v := Value{Num: uint64(i)}
	if pl := payloads[i]; pl != nil {
		if k, err = p.key(); err != nil {
			return v, err
		}
		if k != "val" {
			return v, wrap(errorf(`want "val", found %q`, k), name)
		}
		e, err := p.value(pl, depth+1)
		if err != nil {
			return v, wrap(err, name)
		}
		v.Elems = []Value{e}
	}
	return v, p.end('}')
}
