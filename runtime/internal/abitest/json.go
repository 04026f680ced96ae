// Package abitest is test support for the canonical ABI (package abi): the
// canonical JSON form of values, which the runtime's oracle tests compare
// with what the jco reference host prints for the same calls
// (testdata/plugins/oracle), and which the ABI tests use to show values.
// Only tests import it; the chiphost binary does not (cmd/chiphost's
// TestDevCodeNotLinked checks).
//
// The canonical JSON form of a value:
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
package abitest

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/chiphost/chiphost/internal/jsonstr"
	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/wit"
)

// Value is the ABI's value representation.
type Value = abi.Value

// AppendJSON appends the canonical JSON form of v, of type t, to dst. It
// never fails: a part of v that does not match t (a missing field, an
// out-of-range case, a malformed type) is written as null, so compare
// against ParseJSON'd or lifted values only.
func AppendJSON(dst []byte, t *wit.Type, v Value) []byte {
	return appendJSON(dst, t, &v, 0)
}

func appendJSON(dst []byte, t *wit.Type, v *Value, depth int) []byte {
	if t == nil || depth > maxDepth {
		return append(dst, "null"...)
	}
	switch t.Kind {
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
		return jsonstr.Append(dst, string(r))
	case wit.String:
		return jsonstr.Append(dst, v.Str)
	case wit.List:
		return appendList(dst, t, v, depth)
	case wit.Tuple, wit.Record:
		return appendFields(dst, t, v, depth)
	case wit.Variant, wit.Enum, wit.Option, wit.Result:
		return appendCase(dst, t, v, depth)
	case wit.Flags:
		dst = append(dst, '[')
		first := true
		for i, name := range t.Flags {
			if i < 64 && v.Num&(1<<i) != 0 {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = jsonstr.Append(dst, name)
			}
		}
		return append(dst, ']')
	}
	return append(dst, "null"...)
}

func appendList(dst []byte, t *wit.Type, v *Value, depth int) []byte {
	if t.Elem == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	if t.Elem.Kind == wit.U8 {
		for i, b := range v.Bytes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, uint64(b), 10)
		}
		return append(dst, ']')
	}
	for i := range v.Elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSON(dst, t.Elem, &v.Elems[i], depth+1)
	}
	return append(dst, ']')
}

func appendFields(dst []byte, t *wit.Type, v *Value, depth int) []byte {
	if len(v.Elems) != len(t.Fields) {
		return append(dst, "null"...)
	}
	open, end := byte('{'), byte('}')
	if t.Kind == wit.Tuple {
		open, end = '[', ']'
	}
	dst = append(dst, open)
	for i, f := range t.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		if t.Kind == wit.Record {
			dst = append(jsonstr.Append(dst, fieldName(t, i)), ':')
		}
		dst = appendJSON(dst, f.Type, &v.Elems[i], depth+1)
	}
	return append(dst, end)
}

func appendCase(dst []byte, t *wit.Type, v *Value, depth int) []byte {
	names, payloads := casesOf(t)
	if v.Num >= uint64(len(names)) {
		return append(dst, "null"...)
	}
	name, pl := names[v.Num], payloads[v.Num]
	writePayload := func(dst []byte) []byte {
		if pl == nil || len(v.Elems) != 1 {
			return append(dst, "null"...)
		}
		return appendJSON(dst, pl, &v.Elems[0], depth+1)
	}
	switch t.Kind {
	case wit.Enum:
		return jsonstr.Append(dst, name)
	case wit.Option:
		if v.Num == 0 {
			return append(dst, "null"...)
		}
		return append(writePayload(append(dst, `{"some":`...)), '}')
	case wit.Result:
		dst = append(jsonstr.Append(append(dst, '{'), name), ':')
		return append(writePayload(dst), '}')
	}
	dst = jsonstr.Append(append(dst, `{"tag":`...), name)
	if pl != nil {
		dst = writePayload(append(dst, `,"val":`...))
	}
	return append(dst, '}')
}

// casesOf returns the case names and payload types (nil: none) of a
// variant, enum, option or result.
func casesOf(t *wit.Type) ([]string, []*wit.Type) {
	switch t.Kind {
	case wit.Option:
		return []string{"none", "some"}, []*wit.Type{nil, t.Elem}
	case wit.Result:
		return []string{"ok", "err"}, []*wit.Type{t.Ok, t.Err}
	}
	names := make([]string, len(t.Cases))
	payloads := make([]*wit.Type, len(t.Cases))
	for i, c := range t.Cases {
		names[i], payloads[i] = c.Name, c.Type
	}
	return names, payloads
}

// fieldName is a record field's name, or its position for a tuple (or an
// unnamed field), as in abi's value paths.
func fieldName(t *wit.Type, i int) string {
	if t.Kind == wit.Tuple || t.Fields[i].Name == "" {
		return strconv.Itoa(i)
	}
	return t.Fields[i].Name
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
