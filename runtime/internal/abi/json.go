package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/chiphost/chiphost/internal/jsonstr"
	"github.com/chiphost/chiphost/wit"
)

// The canonical JSON form of a value, used to compare chiphost with a
// JavaScript reference host:
//
//   - bool: true or false; u8, s8, u16, s16, u32, s32: a number;
//     u64 and s64: a decimal string.
//   - f32 and f64: a number, the float widened to float64 and printed as
//     the shortest decimal that round-trips (f32 1.55 is
//     1.5499999523162842), in JavaScript's Number-to-string notation (which
//     agrees with strconv's 'g' -1 64 except for very small or large
//     exponents and -0, printed as 0 as JSON.stringify does); NaN, +Inf and
//     -Inf are the strings "NaN", "Infinity" and "-Infinity".
//   - char: a string of that one character; string: a string.
//   - list (list<u8> included) and tuple: an array.
//   - record: an object keyed by WIT field name, in WIT order.
//   - variant: {"tag":"case","val":V}, or {"tag":"case"} without payload.
//   - enum: "case".
//   - option: null, or {"some":V}.
//   - result: {"ok":V} or {"err":V}, V being null for `_`.
//   - flags: an array of the names of the set flags, in WIT order.
//
// Strings are escaped as JSON.stringify escapes them: '"', '\\' and control
// characters only.

// AppendJSON appends the canonical JSON form of v, of type t, to dst. It
// never fails: a part of v that does not match t (a missing field, an
// out-of-range case) is written as null, so compare against ParseJSON'd or
// lifted values only.
func AppendJSON(dst []byte, t *wit.Type, v Value) []byte {
	var c layoutCache
	return appendJSONCached(dst, &c, t, &v)
}

// AppendJSON is the package-level AppendJSON using the Lifter's layout
// cache, which saves computing t's layout on every call.
func (l *Lifter) AppendJSON(dst []byte, t *wit.Type, v Value) []byte {
	return appendJSONCached(dst, &l.layouts, t, &v)
}

func appendJSONCached(dst []byte, c *layoutCache, t *wit.Type, v *Value) []byte {
	lay, err := c.get(t)
	if err != nil {
		return append(dst, "null"...)
	}
	return appendJSON(dst, lay, v)
}

func appendJSON(dst []byte, lay *layout, v *Value) []byte {
	switch lay.kind {
	case wit.Bool:
		return strconv.AppendBool(dst, v.Num != 0)
	case wit.U8, wit.U16, wit.U32:
		return strconv.AppendUint(dst, v.Num, 10)
	case wit.S8, wit.S16, wit.S32:
		return strconv.AppendInt(dst, int64(v.Num), 10)
	case wit.U64:
		dst = append(dst, '"')
		return append(strconv.AppendUint(dst, v.Num, 10), '"')
	case wit.S64:
		dst = append(dst, '"')
		return append(strconv.AppendInt(dst, int64(v.Num), 10), '"')
	case wit.F32:
		return appendFloat(dst, float64(math.Float32frombits(uint32(v.Num))))
	case wit.F64:
		return appendFloat(dst, math.Float64frombits(v.Num))
	case wit.Char:
		r := rune(v.Num)
		if v.Num > utf8.MaxRune || !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		return appendString(dst, string(r))
	case wit.String:
		return appendString(dst, v.Str)
	case wit.List:
		dst = append(dst, '[')
		if lay.bytes {
			for i, b := range v.Bytes {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = strconv.AppendUint(dst, uint64(b), 10)
			}
		} else {
			for i := range v.Elems {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSON(dst, lay.elem, &v.Elems[i])
			}
		}
		return append(dst, ']')
	case wit.Tuple, wit.Record:
		if len(v.Elems) != len(lay.fields) {
			return append(dst, "null"...)
		}
		if lay.kind == wit.Tuple {
			dst = append(dst, '[')
		} else {
			dst = append(dst, '{')
		}
		for i, f := range lay.fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			if lay.kind == wit.Record {
				dst = append(appendString(dst, f.name), ':')
			}
			dst = appendJSON(dst, f.l, &v.Elems[i])
		}
		if lay.kind == wit.Tuple {
			return append(dst, ']')
		}
		return append(dst, '}')
	case wit.Variant, wit.Enum, wit.Option, wit.Result:
		if v.Num >= uint64(len(lay.cases)) {
			return append(dst, "null"...)
		}
		name, pl := lay.names[v.Num], lay.cases[v.Num]
		var payload *Value
		if pl != nil && len(v.Elems) == 1 {
			payload = &v.Elems[0]
		}
		writePayload := func(dst []byte) []byte {
			if payload == nil {
				return append(dst, "null"...)
			}
			return appendJSON(dst, pl, payload)
		}
		switch lay.kind {
		case wit.Enum:
			return appendString(dst, name)
		case wit.Option:
			if v.Num == 0 {
				return append(dst, "null"...)
			}
			return append(writePayload(append(dst, `{"some":`...)), '}')
		case wit.Result:
			dst = append(appendString(append(dst, '{'), name), ':')
			return append(writePayload(dst), '}')
		}
		dst = appendString(append(dst, `{"tag":`...), name)
		if pl != nil {
			dst = writePayload(append(dst, `,"val":`...))
		}
		return append(dst, '}')
	case wit.Flags:
		dst = append(dst, '[')
		first := true
		for i, name := range lay.t.Flags {
			if v.Num&(1<<i) != 0 {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = appendString(dst, name)
			}
		}
		return append(dst, ']')
	}
	return append(dst, "null"...)
}

// appendFloat writes f as JavaScript's Number.prototype.toString does
// (ECMA-262 Number::toString), with the shortest round-tripping digits.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	case f == 0:
		return append(dst, '0')
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	// Shortest digits d1.d2...dk and decimal exponent e: f = 0.d1...dk × 10^n
	// with n = e+1.
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	mant, exp, _ := bytes.Cut(s, []byte{'e'})
	digits := make([]byte, 0, 24)
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	e, _ := strconv.Atoi(string(exp))
	k, n := len(digits), e+1
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, "0."...)
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s) }

// ParseJSON parses the canonical JSON form of a value of type t (see
// AppendJSON). It accepts exactly that shape: every record field present
// once and no others, numbers in range for their type and integral for
// integer types, 64-bit integers as decimal strings, one-character strings
// for chars. Errors name the value path.
func ParseJSON(t *wit.Type, data []byte) (Value, error) {
	var c layoutCache
	lay, err := c.get(t)
	if err != nil {
		return Value{}, err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	p := &jsonParser{d: d}
	v, err := p.value(lay, 0)
	if err != nil {
		return Value{}, err
	}
	if _, err := d.Token(); err != io.EOF {
		return Value{}, errorf("trailing data after the value")
	}
	return v, nil
}

type jsonParser struct{ d *json.Decoder }

func (p *jsonParser) token() (json.Token, error) {
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
func (p *jsonParser) end(d json.Delim) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != d {
		return errorf("want %q, found %s", string(d), describe(tok))
	}
	return nil
}

func (p *jsonParser) value(lay *layout, depth int) (Value, error) {
	if depth > maxTypeDepth {
		return Value{}, errorf("JSON nested too deeply")
	}
	tok, err := p.token()
	if err != nil {
		return Value{}, err
	}
	var v Value
	switch lay.kind {
	case wit.Bool:
		b, ok := tok.(bool)
		if !ok {
			return v, mismatch(lay.t, tok)
		}
		if b {
			v.Num = 1
		}
	case wit.U8, wit.U16, wit.U32, wit.S8, wit.S16, wit.S32:
		num, ok := tok.(json.Number)
		if !ok {
			return v, mismatch(lay.t, tok)
		}
		n, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			return v, errorf("%s is not an integer in range for %s", num, lay.t)
		}
		if _, err := checkScalar(lay.kind, uint64(n)); err != nil {
			return v, errorf("%s is not an integer in range for %s", num, lay.t)
		}
		v.Num = uint64(n)
	case wit.U64, wit.S64:
		s, ok := tok.(string)
		if !ok {
			return v, mismatch(lay.t, tok)
		}
		if lay.kind == wit.U64 {
			v.Num, err = strconv.ParseUint(s, 10, 64)
		} else {
			var n int64
			n, err = strconv.ParseInt(s, 10, 64)
			v.Num = uint64(n)
		}
		if err != nil || (len(s) > 1 && (s[0] == '0' || s[0] == '+' || s[:2] == "-0")) || s == "-0" {
			return v, errorf("%q is not a decimal %s", s, lay.t)
		}
	case wit.F32, wit.F64:
		var f float64
		switch tok := tok.(type) {
		case json.Number:
			if f, err = strconv.ParseFloat(string(tok), 64); err != nil {
				return v, errorf("%s is out of range for %s", tok, lay.t)
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
				return v, errorf("%q is not a number, \"NaN\", \"Infinity\" or \"-Infinity\"", tok)
			}
		default:
			return v, mismatch(lay.t, tok)
		}
		if lay.kind == wit.F64 {
			v.Num = liftF64(math.Float64bits(f))
			break
		}
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
			return v, errorf("%v is out of range for f32", f)
		}
		v.Num = liftF32(math.Float32bits(f32))
	case wit.Char:
		s, ok := tok.(string)
		if !ok {
			return v, mismatch(lay.t, tok)
		}
		r, size := utf8.DecodeRuneInString(s)
		if size == 0 || size != len(s) || (r == utf8.RuneError && size == 1) {
			return v, errorf("char must be a string of one character, found %q", s)
		}
		v.Num = uint64(r)
	case wit.String:
		s, ok := tok.(string)
		if !ok {
			return v, mismatch(lay.t, tok)
		}
		v.Str = s
	case wit.List, wit.Tuple, wit.Flags:
		if tok != json.Delim('[') {
			return v, mismatch(lay.t, tok)
		}
		return p.array(lay, depth)
	case wit.Record:
		if tok != json.Delim('{') {
			return v, mismatch(lay.t, tok)
		}
		return p.record(lay, depth)
	case wit.Enum:
		s, ok := tok.(string)
		if !ok {
			return v, mismatch(lay.t, tok)
		}
		i := indexOf(lay.names, s)
		if i < 0 {
			return v, errorf("%q is not a case of %s", s, lay.t)
		}
		v.Num = uint64(i)
	case wit.Option:
		if tok == nil {
			return v, nil
		}
		if tok != json.Delim('{') {
			return v, mismatch(lay.t, tok)
		}
		return p.tagged(lay, depth, false)
	case wit.Result:
		if tok != json.Delim('{') {
			return v, mismatch(lay.t, tok)
		}
		return p.tagged(lay, depth, false)
	case wit.Variant:
		if tok != json.Delim('{') {
			return v, mismatch(lay.t, tok)
		}
		return p.tagged(lay, depth, true)
	}
	return v, nil
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
func (p *jsonParser) array(lay *layout, depth int) (Value, error) {
	var v Value
	var elems []Value
	for i := 0; p.d.More(); i++ {
		switch lay.kind {
		case wit.Flags:
			tok, err := p.token()
			if err != nil {
				return v, err
			}
			s, ok := tok.(string)
			if !ok {
				return v, wrapIndex(errorf("want a flag name, found %s", describe(tok)), i)
			}
			j := indexOf(lay.t.Flags, s)
			if j < 0 {
				return v, wrapIndex(errorf("%q is not a flag of %s", s, lay.t), i)
			}
			if v.Num&(1<<j) != 0 {
				return v, wrapIndex(errorf("flag %q repeated", s), i)
			}
			v.Num |= 1 << j
		case wit.Tuple:
			if i >= len(lay.fields) {
				return v, errorf("%s has %d fields, found more", lay.t, len(lay.fields))
			}
			e, err := p.value(lay.fields[i].l, depth+1)
			if err != nil {
				return v, wrap(err, lay.fields[i].name)
			}
			elems = append(elems, e)
		default:
			e, err := p.value(lay.elem, depth+1)
			if err != nil {
				return v, wrapIndex(err, i)
			}
			if lay.bytes {
				v.Bytes = append(v.Bytes, byte(e.Num))
			} else {
				elems = append(elems, e)
			}
		}
	}
	if err := p.end(']'); err != nil {
		return v, err
	}
	if lay.kind == wit.Tuple && len(elems) != len(lay.fields) {
		return v, errorf("%s has %d fields, found %d", lay.t, len(lay.fields), len(elems))
	}
	v.Elems = elems
	return v, nil
}

// record parses the rest of a JSON object for a record.
func (p *jsonParser) record(lay *layout, depth int) (Value, error) {
	elems := make([]Value, len(lay.fields))
	seen := make([]bool, len(lay.fields))
	for p.d.More() {
		tok, err := p.token()
		if err != nil {
			return Value{}, err
		}
		key, _ := tok.(string)
		i := -1
		for j, f := range lay.fields {
			if f.name == key {
				i = j
				break
			}
		}
		if i < 0 {
			return Value{}, errorf("%s has no field %q", lay.t, key)
		}
		if seen[i] {
			return Value{}, errorf("field %q repeated", key)
		}
		seen[i] = true
		if elems[i], err = p.value(lay.fields[i].l, depth+1); err != nil {
			return Value{}, wrap(err, key)
		}
	}
	if err := p.end('}'); err != nil {
		return Value{}, err
	}
	for i, ok := range seen {
		if !ok {
			return Value{}, errorf("missing field %q", lay.fields[i].name)
		}
	}
	return Value{Elems: elems}, nil
}

// tagged parses the rest of a JSON object for an option ({"some":V}), a
// result ({"ok":V} or {"err":V}) or, when variant is set, a variant
// ({"tag":"case","val":V}).
func (p *jsonParser) tagged(lay *layout, depth int, variant bool) (Value, error) {
	var v Value
	key := func() (string, error) {
		tok, err := p.token()
		if err != nil {
			return "", err
		}
		s, _ := tok.(string)
		return s, nil
	}
	k, err := key()
	if err != nil {
		return v, err
	}
	if !variant {
		i := indexOf(lay.names, k)
		if i < 0 || (lay.kind == wit.Option && i == 0) {
			return v, errorf("%s has no case %q", lay.t, k)
		}
		v.Num = uint64(i)
		if pl := lay.cases[i]; pl != nil {
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
	if k != "tag" {
		return v, errorf(`want "tag" first, found %q`, k)
	}
	tok, err := p.token()
	if err != nil {
		return v, err
	}
	name, _ := tok.(string)
	i := indexOf(lay.names, name)
	if i < 0 {
		return v, errorf("%s has no case %q", lay.t, name)
	}
	v.Num = uint64(i)
	if pl := lay.cases[i]; pl != nil {
		if k, err = key(); err != nil {
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
