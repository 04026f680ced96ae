package abi

import (
	"context"
	"math"
	"testing"

	"github.com/chiphost/chiphost/wit"
)

func sampleAttachment() Value {
	return elems(str("dump.bin"), num(1<<40), some(str("2024-01-02")), cas(0),
		elems(num(0), num(7), num(math.MaxUint64)), byts(0, 1, 2, 255))
}

// samples has values of every Chipmunk type (and of every scalar kind).
var samples = []struct {
	name string
	t    *wit.Type
	v    Value
}{
	{"bool", tBool, num(1)},
	{"u8", tU8, num(255)},
	{"s8", tS8, sNum(-128)},
	{"u16", tU16, num(65535)},
	{"s16", tS16, sNum(-1)},
	{"u32", tU32, num(math.MaxUint32)},
	{"s32", tS32, sNum(math.MinInt32)},
	{"u64", tU64, num(math.MaxUint64)},
	{"s64", tS64, sNum(math.MinInt64)},
	{"f32", tF32, num(uint64(math.Float32bits(1.55)))},
	{"f32 NaN", tF32, num(canonicalNaN32)},
	{"f64", tF64, num(math.Float64bits(-2.5e-300))},
	{"char", tChar, num('😀')},
	{"string", tString, str("héllo, wörld")},
	{"empty string", tString, str("")},
	{"list<u8>", tBytes, byts(1, 2, 3)},
	{"flags 33", flags(33), num(1<<32 | 5)},
	{"level", tLevel, num(4)},
	{"version", tVersion, elems(num(1), num(2), num(65535))},
	{"init-error", tInitErr, cas(3, str("boom"))},
	{"config-value boolean", tConfigValue, cas(0, num(1))},
	{"config-value integer", tConfigValue, cas(1, sNum(-42))},
	{"config-value float", tConfigValue, cas(2, num(uint64(math.Float32bits(-0.25))))},
	{"config-value files", tConfigValue, cas(5, strs("/a", "/b/c"))},
	{"config-item", tConfigItem, elems(str("id"), cas(6, str("choice")))},
	{"list<config-item>", list(tConfigItem), elems(elems(str("a"), cas(4, strs())), elems(str("b"), cas(3, str("t"))))},
	{"config-schema-type directories", tConfigSchemaType, cas(4)},
	{"config-schema-type dropdown", tConfigSchemaType, cas(6, elems(strs("x", "y"), str("x")))},
	{"config-schema-item", tConfigSchemaItem, elems(str("id"), str("Title"), some(str("desc")), cas(2, num(uint64(math.Float32bits(3)))))},
	{"list<config-schema-item>", list(tConfigSchemaItem), elems(
		elems(str("a"), str("A"), cas(0), cas(0, num(0))),
		elems(str("b"), str("B"), some(str("")), cas(5, strs("log", "txt"))))},
	{"parser-config", tParserConfig, elems(num(2))},
	{"source-config", tSourceConfig, elems(num(0))},
	{"socket-info", tSocketInfo, elems(str("127.0.0.1"), num(8080))},
	{"parsed-message line", tParsedMsg, cas(0, str("a line"))},
	{"parsed-message columns", tParsedMsg, cas(1, strs("c1", "", "c3"))},
	{"attachment", tAttachment, sampleAttachment()},
	{"parse-yield message-and-attachment", tParseYield, cas(2, elems(cas(0, str("m")), sampleAttachment()))},
	{"parse-return", tParseReturn, elems(some(cas(0, cas(1, strs("x", "y")))), num(12))},
	{"parse-return skipped", tParseReturn, elems(cas(0), num(3))},
	{"parse-error incomplete", tParseError, cas(2)},
	{"parse-error parse", tParseError, cas(1, str("bad"))},
	{"source-error", tSourceError, cas(0, str("io"))},
	{"column-info", tColumnInfo, elems(str("cap"), str("desc"), sNum(-1))},
	{"columns-render-options", tColumnsOptions, elems(elems(elems(str("a"), str("b"), sNum(100))), num(10), num(200))},
	{"render-options", tRenderOptions, elems(some(elems(elems(), num(1), num(2))))},
	{"render-options none", tRenderOptions, elems(cas(0))},
	{"result<_, init-error> ok", tInitResult, cas(0)},
	{"result<_, init-error> err", tInitResult, cas(1, cas(0, str("bad config")))},
	{"parse result ok", tParseResult, cas(0, elems(
		elems(some(cas(0, cas(0, str("line 1")))), num(7)),
		elems(cas(0), num(1)),
		elems(some(cas(1, sampleAttachment())), num(100)),
		elems(some(cas(2, elems(cas(1, strs("a", "b")), sampleAttachment()))), num(0)),
	))},
	{"parse result err", tParseResult, cas(1, cas(3))},
	{"read result ok", tReadResult, cas(0, byts([]byte("bytes")...))},
	{"read result err", tReadResult, cas(1, cas(2, str("other")))},
	{"temp-directory", tTempDir, cas(0, str("/tmp/x"))},
	{"option<u64>", option(tU64), some(num(5))},
	{"variant f32|f64", &wit.Type{Kind: wit.Variant, Cases: cases("a", tF32, "b", tF64)}, cas(0, num(uint64(math.Float32bits(2.5))))},
	{"variant u32|u64", &wit.Type{Kind: wit.Variant, Cases: cases("a", tU32, "b", tU64)}, cas(0, num(math.MaxUint32))},
	{"list<tuple<>>", list(tuple()), elems(elems(), elems())},
}

// TestRoundTrip lowers every sample flat and into memory, lifts it back and
// compares. (The samples' canonical JSON form round-trips in
// json_roundtrip_test.go.)
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			mem := newFakeMem(1 << 16)
			w := mem.lowerer()
			l := NewLifter()

			flat, err := w.LowerFlat(ctx, s.t, s.v, nil)
			if err != nil {
				t.Fatalf("LowerFlat: %v", err)
			}
			got, err := l.LiftFlat(mem, s.t, flat)
			if err != nil {
				t.Fatalf("LiftFlat: %v", err)
			}
			if !equal(got, s.v) {
				t.Errorf("flat round trip:\n got %+v\nwant %+v", got, s.v)
			}

			size, align := SizeAlign(s.t)
			ptr, _ := mem.realloc(ctx, 0, 0, align, size)
			if err := w.LowerTo(ctx, s.t, s.v, ptr); err != nil {
				t.Fatalf("LowerTo: %v", err)
			}
			got, err = l.LiftFrom(mem, s.t, ptr)
			if err != nil {
				t.Fatalf("LiftFrom: %v", err)
			}
			if !equal(got, s.v) {
				t.Errorf("memory round trip:\n got %+v\nwant %+v", got, s.v)
			}
		})
	}
}

// TestCallRoundTrip lowers arguments as for an export and lifts them as
// for an import of the same function, and the same for results, in both the
// flat and the spilled forms.
func TestCallRoundTrip(t *testing.T) {
	ctx := context.Background()
	spilled := &wit.Func{Name: "spilled", Params: []wit.Param{
		{Name: "a", Type: tParseReturn}, {Name: "b", Type: tString}, {Name: "c", Type: tConfigValue}}, Result: tParseResult}
	tests := []struct {
		name   string
		f      *wit.Func
		args   []Value
		result Value
	}{
		{"parse", fParse, []Value{byts([]byte("line\n")...), some(num(1700000000))}, samples[len(samples)-9].v},
		{"init", fInit, []Value{elems(num(3)), elems(elems(str("k"), cas(1, sNum(-7))))}, cas(1, cas(2, str("no")))},
		{"read", fRead, []Value{num(4096)}, cas(0, byts(9, 8, 7))},
		{"log", fLog, []Value{num(1), str("warned")}, Value{}},
		{"get-version", fGetVersion, nil, elems(num(0), num(1), num(2))},
		{"spilled", spilled, []Value{elems(some(cas(0, cas(0, str("x")))), num(1)), str("s"), cas(2, num(0x3f800000))}, cas(1, cas(2))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newFakeMem(1 << 16)
			w := mem.lowerer()
			l := NewLifter()
			exp, imp := ExportSignature(tt.f), ImportSignature(tt.f)

			core, err := w.LowerParams(ctx, &exp, tt.args, nil)
			if err != nil {
				t.Fatalf("LowerParams: %v", err)
			}
			if len(core) != len(exp.Params) {
				t.Fatalf("%d core args for %v", len(core), exp.Params)
			}
			if imp.ResultSpilled {
				core = append(core, 0) // the retptr LiftParams ignores
			}
			got, err := l.LiftParams(mem, &imp, core)
			if err != nil {
				t.Fatalf("LiftParams: %v", err)
			}
			if !equal(elems(got...), elems(tt.args...)) {
				t.Errorf("params: got %v, want %v", got, tt.args)
			}

			var results []uint64
			if tt.f.Result != nil {
				if exp.ResultSpilled {
					size, align := SizeAlign(tt.f.Result)
					ptr, _ := mem.realloc(ctx, 0, 0, align, size)
					if err := w.LowerTo(ctx, tt.f.Result, tt.result, ptr); err != nil {
						t.Fatalf("LowerTo: %v", err)
					}
					results = []uint64{uint64(ptr)}
				} else if results, err = w.LowerFlat(ctx, tt.f.Result, tt.result, nil); err != nil {
					t.Fatalf("LowerFlat: %v", err)
				}
			}
			res, err := l.LiftResult(mem, &exp, results)
			if err != nil {
				t.Fatalf("LiftResult: %v", err)
			}
			if !equal(res, tt.result) {
				t.Errorf("result: got %v, want %v", res, tt.result)
			}
		})
	}
}

// TestLifterReset checks that a reset Lifter reuses its memory and that
// values lifted after it are right.
func TestLifterReset(t *testing.T) {
	ctx := context.Background()
	mem := newFakeMem(1 << 16)
	w := mem.lowerer()
	s := samples[len(samples)-9] // parse result ok
	if s.name != "parse result ok" {
		t.Fatalf("samples reordered: %s", s.name)
	}
	size, align := SizeAlign(s.t)
	ptr, _ := mem.realloc(ctx, 0, 0, align, size)
	if err := w.LowerTo(ctx, s.t, s.v, ptr); err != nil {
		t.Fatal(err)
	}
	l := NewLifter()
	for i := range 3 {
		l.Reset()
		v, err := l.LiftFrom(mem, s.t, ptr)
		if err != nil {
			t.Fatal(err)
		}
		if !equal(v, s.v) {
			t.Fatalf("lift %d after Reset differs", i)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		l.Reset()
		if _, err := l.LiftFrom(mem, s.t, ptr); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per lift after Reset, want 0", allocs)
	}
}
