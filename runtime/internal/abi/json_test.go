package abi

import (
	"math"
	"testing"

	"github.com/chiphost/chiphost/wit"
)

func TestAppendJSON(t *testing.T) {
	f64 := func(f float64) Value { return num(math.Float64bits(f)) }
	tests := []struct {
		name string
		t    *wit.Type
		v    Value
		want string
	}{
		{"f32 1.55 widened", tF32, num(uint64(math.Float32bits(1.55))), `1.5499999523162842`},
		{"f32 NaN", tF32, num(canonicalNaN32), `"NaN"`},
		{"f64 +Inf", tF64, f64(math.Inf(1)), `"Infinity"`},
		{"f64 -Inf", tF64, f64(math.Inf(-1)), `"-Infinity"`},
		{"f64 -0", tF64, f64(math.Copysign(0, -1)), `0`},
		{"f64 100", tF64, f64(100), `100`},
		{"f64 0.1", tF64, f64(0.1), `0.1`},
		{"f64 1e21", tF64, f64(1e21), `1e+21`},
		{"f64 1e20", tF64, f64(1e20), `100000000000000000000`},
		{"f64 1.5e-7", tF64, f64(-1.5e-7), `-1.5e-7`},
		{"f64 1e-6", tF64, f64(1e-6), `0.000001`},
		{"f64 max", tF64, f64(math.MaxFloat64), `1.7976931348623157e+308`},
		{"u64", tU64, num(math.MaxUint64), `"18446744073709551615"`},
		{"s64", tS64, sNum(math.MinInt64), `"-9223372036854775808"`},
		{"s8", tS8, sNum(-5), `-5`},
		{"bool", tBool, num(1), `true`},
		{"char", tChar, num('é'), `"é"`},
		{"string escapes", tString, str("a\"b\\\n\t\x01</script>\u2028"), `"a\"b\\\n\t\u0001</script>\u2028"`}, // U+2028 escaped: the output is also valid JavaScript
		{"list<u8>", tBytes, byts(1, 255), `[1,255]`},
		{"empty list", tListString, Value{}, `[]`},
		{"tuple", tuple(tU8, tString), elems(num(1), str("x")), `[1,"x"]`},
		{"record", tVersion, elems(num(1), num(2), num(3)), `{"major":1,"minor":2,"patch":3}`},
		{"variant with payload", tInitErr, cas(1, str("disk")), `{"tag":"io","val":"disk"}`},
		{"variant without payload", tParseError, cas(3), `{"tag":"eof"}`},
		{"enum", tLevel, num(2), `"info"`},
		{"option none", option(tU8), cas(0), `null`},
		{"option some", option(tU8), some(num(3)), `{"some":3}`},
		{"result ok _", tInitResult, cas(0), `{"ok":null}`},
		{"result err", tTempDir, cas(1, str("e")), `{"err":"e"}`},
		{"flags", flags(3), num(5), `["faa","fca"]`},
		{"parse-return", tParseReturn, elems(some(cas(0, cas(1, strs("a", "b")))), num(3)),
			`{"value":{"some":{"tag":"message","val":{"tag":"columns","val":["a","b"]}}},"consumed":"3"}`},
		{"malformed value", tVersion, elems(num(1)), `null`},
		{"malformed type", &wit.Type{Kind: wit.List}, Value{}, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendJSON(nil, tt.t, tt.v)); got != tt.want {
				t.Errorf("AppendJSON = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		name string
		t    *wit.Type
		in   string
		want Value
		err  string
	}{
		{name: "f32 rounds", t: tF32, in: `1.55`, want: num(uint64(math.Float32bits(1.55)))},
		{name: "f32 NaN", t: tF32, in: `"NaN"`, want: num(canonicalNaN32)},
		{name: "f64 -Infinity", t: tF64, in: `"-Infinity"`, want: num(math.Float64bits(math.Inf(-1)))},
		{name: "u64", t: tU64, in: `"18446744073709551615"`, want: num(math.MaxUint64)},
		{name: "option some", t: option(tString), in: `{"some":"x"}`, want: some(str("x"))},
		{name: "option none", t: option(tString), in: ` null `, want: cas(0)},
		{name: "record any order", t: tVersion, in: `{"patch":3,"major":1,"minor":2}`, want: elems(num(1), num(2), num(3))},
		{name: "result ok _", t: tInitResult, in: `{"ok":null}`, want: cas(0)},
		{name: "flags", t: flags(3), in: `["fca","faa"]`, want: num(5)},
		{name: "list<u8>", t: tBytes, in: `[0,255]`, want: byts(0, 255)},

		{name: "u8 range", t: tU8, in: `256`, err: "abi: 256 is not an integer in range for u8"},
		{name: "u16 negative", t: tU16, in: `-1`, err: "abi: -1 is not an integer in range for u16"},
		{name: "s8 fraction", t: tS8, in: `1.5`, err: "abi: 1.5 is not an integer in range for s8"},
		{name: "u64 as number", t: tU64, in: `1`, err: "abi: want u64, found number 1"},
		{name: "u64 leading zero", t: tU64, in: `"01"`, err: `abi: "01" is not a decimal u64`},
		{name: "s64 overflow", t: tS64, in: `"9223372036854775808"`, err: `abi: "9223372036854775808" is not a decimal s64`},
		{name: "f32 range", t: tF32, in: `1e39`, err: "abi: 1e+39 is out of range for f32"},
		{name: "f64 string", t: tF64, in: `"1"`, err: `abi: "1" is not a number, "NaN", "Infinity" or "-Infinity"`},
		{name: "char two", t: tChar, in: `"ab"`, err: `abi: char must be a string of one character, found "ab"`},
		{name: "missing field", t: tVersion, in: `{"major":1,"minor":2}`, err: `abi: missing field "patch"`},
		{name: "extra field", t: tVersion, in: `{"major":1,"minor":2,"patch":3,"x":0}`, err: `abi: version has no field "x"`},
		{name: "repeated field", t: tVersion, in: `{"major":1,"major":2}`, err: `abi: field "major" repeated`},
		{name: "unknown tag", t: tParseError, in: `{"tag":"nope"}`, err: `abi: parse-error has no case "nope"`},
		{name: "payload missing", t: tInitErr, in: `{"tag":"io"}`, err: `abi: io: want "val", found ""`},
		{name: "payload not allowed", t: tParseError, in: `{"tag":"eof","val":1}`, err: `abi: want "}", found string`},
		{name: "option none object", t: option(tU8), in: `{"none":null}`, err: `abi: option<u8> has no case "none"`},
		{name: "enum", t: tLevel, in: `"fatal"`, err: `abi: "fatal" is not a case of level`},
		{name: "flag unknown", t: flags(2), in: `["x"]`, err: `abi: [0]: "x" is not a flag of flags { faa, fba }`},
		{name: "tuple length", t: tuple(tU8, tU8), in: `[1]`, err: "abi: tuple<u8, u8> has 2 fields, found 1"},
		{name: "trailing", t: tU8, in: `1 2`, err: "abi: trailing data after the value"},
		{name: "truncated", t: tVersion, in: `{"major":1`, err: "abi: unexpected end of JSON"},
		{name: "path", t: tParseResult, in: `{"ok":[{"value":null,"consumed":"1"},{"value":{"some":{"tag":"message","val":{"tag":"line","val":1}}},"consumed":"2"}]}`,
			err: "abi: ok[1].value.some.message.line: want string, found number 1"},
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
