package abitest

import (
	"bytes"
	"math"
	"testing"

	"github.com/chiphost/chiphost/wit"
)

// chipmunk holds Chipmunk 0.1.0 types from the embedded WIT.
type chipmunk struct {
	version, initErr, initResult, level, parseError, parseResult, parseReturn, tempDir *wit.Type
}

func loadChipmunk(t *testing.T) chipmunk {
	t.Helper()
	res, err := wit.Load("0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	fn := func(iface, name string) *wit.Func {
		i := res.Interface(iface)
		if i == nil || i.Func(name) == nil {
			t.Fatalf("no function %s#%s in the embedded WIT", iface, name)
		}
		return i.Func(name)
	}
	init := fn("chipmunk:parser/parser@0.1.0", "init")
	parse := fn("chipmunk:parser/parser@0.1.0", "parse").Result
	return chipmunk{
		version:     fn("chipmunk:parser/parser@0.1.0", "get-version").Result,
		initResult:  init.Result,
		initErr:     init.Result.Err,
		level:       init.Params[0].Type.Fields[0].Type,
		parseResult: parse,
		parseError:  parse.Err,
		parseReturn: parse.Ok.Elem,
		tempDir:     fn("chipmunk:shared/sandbox@0.1.0", "temp-directory").Result,
	}
}

func scalar(k wit.Kind) *wit.Type     { return &wit.Type{Kind: k} }
func list(e *wit.Type) *wit.Type      { return &wit.Type{Kind: wit.List, Elem: e} }
func option(e *wit.Type) *wit.Type    { return &wit.Type{Kind: wit.Option, Elem: e} }
func num(n uint64) Value              { return Value{Num: n} }
func sNum(n int64) Value              { return Value{Num: uint64(n)} }
func str(s string) Value              { return Value{Str: s} }
func byts(b ...byte) Value            { return Value{Bytes: b} }
func elems(vs ...Value) Value         { return Value{Elems: vs} }
func cas(i uint64, pl ...Value) Value { return Value{Num: i, Elems: pl} }
func some(v Value) Value              { return cas(1, v) }
func f64(f float64) Value             { return num(math.Float64bits(f)) }
func tuple(ts ...*wit.Type) *wit.Type { return &wit.Type{Kind: wit.Tuple, Fields: fields(ts)} }
func fields(ts []*wit.Type) []wit.Field {
	var fs []wit.Field
	for _, t := range ts {
		fs = append(fs, wit.Field{Type: t})
	}
	return fs
}

func flags(names ...string) *wit.Type { return &wit.Type{Kind: wit.Flags, Flags: names} }

func strs(ss ...string) Value {
	var v Value
	for _, s := range ss {
		v.Elems = append(v.Elems, str(s))
	}
	return v
}

func equal(a, b Value) bool {
	if a.Num != b.Num || a.Str != b.Str || !bytes.Equal(a.Bytes, b.Bytes) || len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		if !equal(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

// TestAppendJSON checks the canonical form of every kind, and that
// ParseJSON reads each back to the same value (except where the form is
// lossy: -0 and malformed values).
func TestAppendJSON(t *testing.T) {
	cm := loadChipmunk(t)
	tests := []struct {
		name  string
		t     *wit.Type
		v     Value
		want  string
		lossy bool
	}{
		{name: "f32 1.55 widened", t: scalar(wit.F32), v: num(uint64(math.Float32bits(1.55))), want: `1.5499999523162842`},
		{name: "f32 NaN", t: scalar(wit.F32), v: num(canonicalNaN32), want: `"NaN"`},
		{name: "f64 +Inf", t: scalar(wit.F64), v: f64(math.Inf(1)), want: `"Infinity"`},
		{name: "f64 -Inf", t: scalar(wit.F64), v: f64(math.Inf(-1)), want: `"-Infinity"`},
		{name: "f64 -0", t: scalar(wit.F64), v: f64(math.Copysign(0, -1)), want: `0`, lossy: true},
		{name: "f64 100", t: scalar(wit.F64), v: f64(100), want: `100`},
		{name: "f64 0.1", t: scalar(wit.F64), v: f64(0.1), want: `0.1`},
		{name: "f64 1e21", t: scalar(wit.F64), v: f64(1e21), want: `1e+21`},
		{name: "f64 1e20", t: scalar(wit.F64), v: f64(1e20), want: `100000000000000000000`},
		{name: "f64 1.5e-7", t: scalar(wit.F64), v: f64(-1.5e-7), want: `-1.5e-7`},
		{name: "f64 1e-6", t: scalar(wit.F64), v: f64(1e-6), want: `0.000001`},
		{name: "f64 max", t: scalar(wit.F64), v: f64(math.MaxFloat64), want: `1.7976931348623157e+308`},
		{name: "u64", t: scalar(wit.U64), v: num(math.MaxUint64), want: `"18446744073709551615"`},
		{name: "s64", t: scalar(wit.S64), v: sNum(math.MinInt64), want: `"-9223372036854775808"`},
		{name: "s8", t: scalar(wit.S8), v: sNum(-5), want: `-5`},
		{name: "bool", t: scalar(wit.Bool), v: num(1), want: `true`},
		{name: "char", t: scalar(wit.Char), v: num('é'), want: `"é"`},
		{name: "string escapes", t: scalar(wit.String), v: str("a\"b\\\n\t\x01</script>\u2028"), want: `"a\"b\\\n\t\u0001</script>\u2028"`}, // U+2028 escaped: the output is also valid JavaScript
		{name: "list<u8>", t: list(scalar(wit.U8)), v: byts(1, 255), want: `[1,255]`},
		{name: "empty list", t: list(scalar(wit.String)), v: Value{}, want: `[]`},
		{name: "tuple", t: tuple(scalar(wit.U8), scalar(wit.String)), v: elems(num(1), str("x")), want: `[1,"x"]`},
		{name: "record", t: cm.version, v: elems(num(1), num(2), num(3)), want: `{"major":1,"minor":2,"patch":3}`},
		{name: "variant with payload", t: cm.initErr, v: cas(1, str("disk")), want: `{"tag":"io","val":"disk"}`},
		{name: "variant without payload", t: cm.parseError, v: cas(3), want: `{"tag":"eof"}`},
		{name: "enum", t: cm.level, v: num(2), want: `"info"`},
		{name: "option none", t: option(scalar(wit.U8)), v: cas(0), want: `null`},
		{name: "option some", t: option(scalar(wit.U8)), v: some(num(3)), want: `{"some":3}`},
		{name: "result ok _", t: cm.initResult, v: cas(0), want: `{"ok":null}`},
		{name: "result err", t: cm.tempDir, v: cas(1, str("e")), want: `{"err":"e"}`},
		{name: "flags", t: flags("faa", "fba", "fca"), v: num(5), want: `["faa","fca"]`},
		{name: "parse-return", t: cm.parseReturn, v: elems(some(cas(0, cas(1, strs("a", "b")))), num(3)),
			want: `{"value":{"some":{"tag":"message","val":{"tag":"columns","val":["a","b"]}}},"consumed":"3"}`},
		{name: "malformed value", t: cm.version, v: elems(num(1)), want: `null`, lossy: true},
		{name: "malformed type", t: &wit.Type{Kind: wit.List}, v: Value{}, want: `null`, lossy: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendJSON(nil, tt.t, tt.v)
			if string(got) != tt.want {
				t.Fatalf("AppendJSON = %s, want %s", got, tt.want)
			}
			if tt.lossy {
				return
			}
			back, err := ParseJSON(tt.t, got)
			if err != nil || !equal(back, tt.v) {
				t.Errorf("ParseJSON(%s) = %+v, %v; want %+v", got, back, err, tt.v)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	cm := loadChipmunk(t)
	tests := []struct {
		name string
		t    *wit.Type
		in   string
		want Value
		err  string
	}{
		{name: "f32 rounds", t: scalar(wit.F32), in: `1.55`, want: num(uint64(math.Float32bits(1.55)))},
		{name: "f32 NaN", t: scalar(wit.F32), in: `"NaN"`, want: num(canonicalNaN32)},
		{name: "f64 -Infinity", t: scalar(wit.F64), in: `"-Infinity"`, want: num(math.Float64bits(math.Inf(-1)))},
		{name: "u64", t: scalar(wit.U64), in: `"18446744073709551615"`, want: num(math.MaxUint64)},
		{name: "option some", t: option(scalar(wit.String)), in: `{"some":"x"}`, want: some(str("x"))},
		{name: "option none", t: option(scalar(wit.String)), in: ` null `, want: cas(0)},
		{name: "record any order", t: cm.version, in: `{"patch":3,"major":1,"minor":2}`, want: elems(num(1), num(2), num(3))},
		{name: "result ok _", t: cm.initResult, in: `{"ok":null}`, want: cas(0)},
		{name: "flags", t: flags("faa", "fba", "fca"), in: `["fca","faa"]`, want: num(5)},
		{name: "list<u8>", t: list(scalar(wit.U8)), in: `[0,255]`, want: byts(0, 255)},

		{name: "u8 range", t: scalar(wit.U8), in: `256`, err: "canonical JSON: 256 is not an integer in range for u8"},
		{name: "u16 negative", t: scalar(wit.U16), in: `-1`, err: "canonical JSON: -1 is not an integer in range for u16"},
		{name: "s8 fraction", t: scalar(wit.S8), in: `1.5`, err: "canonical JSON: 1.5 is not an integer in range for s8"},
		{name: "u64 as number", t: scalar(wit.U64), in: `1`, err: "canonical JSON: want u64, found number 1"},
		{name: "u64 leading zero", t: scalar(wit.U64), in: `"01"`, err: `canonical JSON: "01" is not a decimal u64`},
		{name: "s64 overflow", t: scalar(wit.S64), in: `"9223372036854775808"`, err: `canonical JSON: "9223372036854775808" is not a decimal s64`},
		{name: "f32 range", t: scalar(wit.F32), in: `1e39`, err: "canonical JSON: 1e+39 is out of range for f32"},
		{name: "f64 string", t: scalar(wit.F64), in: `"1"`, err: `canonical JSON: "1" is not a number, "NaN", "Infinity" or "-Infinity"`},
		{name: "char two", t: scalar(wit.Char), in: `"ab"`, err: `canonical JSON: char must be a string of one character, found "ab"`},
		{name: "missing field", t: cm.version, in: `{"major":1,"minor":2}`, err: `canonical JSON: missing field "patch"`},
		{name: "extra field", t: cm.version, in: `{"major":1,"minor":2,"patch":3,"x":0}`, err: `canonical JSON: version has no field "x"`},
		{name: "repeated field", t: cm.version, in: `{"major":1,"major":2}`, err: `canonical JSON: field "major" repeated`},
		{name: "unknown tag", t: cm.parseError, in: `{"tag":"nope"}`, err: `canonical JSON: parse-error has no case "nope"`},
		{name: "payload missing", t: cm.initErr, in: `{"tag":"io"}`, err: `canonical JSON: io: want "val", found ""`},
		{name: "payload not allowed", t: cm.parseError, in: `{"tag":"eof","val":1}`, err: `canonical JSON: want "}", found string`},
		{name: "option none object", t: option(scalar(wit.U8)), in: `{"none":null}`, err: `canonical JSON: option<u8> has no case "none"`},
		{name: "enum", t: cm.level, in: `"fatal"`, err: `canonical JSON: "fatal" is not a case of level`},
		{name: "flag unknown", t: flags("faa", "fba"), in: `["x"]`, err: `canonical JSON: [0]: "x" is not a flag of flags { faa, fba }`},
		{name: "tuple length", t: tuple(scalar(wit.U8), scalar(wit.U8)), in: `[1]`, err: "canonical JSON: tuple<u8, u8> has 2 fields, found 1"},
		{name: "trailing", t: scalar(wit.U8), in: `1 2`, err: "canonical JSON: trailing data after the value"},
		{name: "truncated", t: cm.version, in: `{"major":1`, err: "canonical JSON: unexpected end of JSON"},
		{name: "path", t: cm.parseResult, in: `{"ok":[{"value":null,"consumed":"1"},{"value":{"some":{"tag":"message","val":{"tag":"line","val":1}}},"consumed":"2"}]}`,
			err: "canonical JSON: ok[1].value.some.message.line: want string, found number 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseJSON(tt.t, []byte(tt.in))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equal(v, tt.want) {
				t.Errorf("got %+v, want %+v", v, tt.want)
			}
		})
	}
}
