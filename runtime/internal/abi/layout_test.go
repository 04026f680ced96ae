package abi

import (
	"slices"
	"testing"

	"github.com/chiphost/chiphost/wit"
	"github.com/tetratelabs/wazero/api"
)

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
	f32 = api.ValueTypeF32
	f64 = api.ValueTypeF64
)

// TestSizeAlign checks the sizes and alignments of Chipmunk's WIT types
// under the canonical ABI, and the field offsets of its records.
func TestSizeAlign(t *testing.T) {
	tests := []struct {
		name        string
		t           *wit.Type
		size, align uint32
		offsets     map[string]uint32 // record field offsets, or "payload" for variants
	}{
		{"version", tVersion, 6, 2, nil},
		{"config-value", tConfigValue, 12, 4, map[string]uint32{"payload": 4}},
		{"config-item", tConfigItem, 20, 4, map[string]uint32{"value": 8}},
		{"config-schema-type", tConfigSchemaType, 20, 4, map[string]uint32{"payload": 4}},
		{"dropdown tuple", tuple(tListString, tString), 16, 4, nil},
		{"config-schema-item", tConfigSchemaItem, 48, 4, map[string]uint32{"title": 8, "description": 16, "input-type": 28}},
		{"init-error", tInitErr, 12, 4, nil},
		{"source-error", tSourceError, 12, 4, nil},
		{"parse-error", tParseError, 12, 4, nil},
		{"parsed-message", tParsedMsg, 12, 4, nil},
		{"attachment", tAttachment, 56, 8, map[string]uint32{"size": 8, "created-date": 16, "modified-date": 28, "messages": 40, "data": 48}},
		{"parse-yield", tParseYield, 80, 8, map[string]uint32{"payload": 8}},
		{"option<parse-yield>", option(tParseYield), 88, 8, nil},
		{"parse-return", tParseReturn, 96, 8, map[string]uint32{"consumed": 88}},
		{"column-info", tColumnInfo, 20, 4, nil},
		{"columns-render-options", tColumnsOptions, 12, 4, nil},
		{"render-options", tRenderOptions, 16, 4, nil},
		{"result<_, init-error>", tInitResult, 16, 4, nil},
		{"result<list<parse-return>, parse-error>", tParseResult, 16, 4, nil},
		{"result<list<u8>, source-error>", tReadResult, 16, 4, nil},
		{"level", tLevel, 1, 1, nil},
		{"bool", tBool, 1, 1, nil},
		{"s16", tS16, 2, 2, nil},
		{"char", tChar, 4, 4, nil},
		{"f64", tF64, 8, 8, nil},
		{"string", tString, 8, 4, nil},
		{"empty record", record("empty"), 0, 1, nil},
		{"flags 0", &wit.Type{Kind: wit.Flags}, 0, 1, nil},
		{"flags 9", flags(9), 2, 2, nil},
		{"flags 33", flags(33), 8, 4, nil},
		{"variant 257 cases", bigEnum(257), 2, 2, nil},
		{"malformed", &wit.Type{Kind: wit.List}, 0, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size, align := SizeAlign(tt.t)
			if size != tt.size || align != tt.align {
				t.Errorf("SizeAlign = %d/%d, want %d/%d", size, align, tt.size, tt.align)
			}
			if tt.offsets == nil {
				return
			}
			var c layoutCache
			l, err := c.get(tt.t)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.offsets {
				got := l.payloadOff
				if name != "payload" {
					i := slices.IndexFunc(l.fields, func(f fieldLayout) bool { return f.name == name })
					if i < 0 {
						t.Fatalf("no field %s", name)
					}
					got = l.fields[i].off
				}
				if got != want {
					t.Errorf("%s @%d, want @%d", name, got, want)
				}
			}
		})
	}
}

func flags(n int) *wit.Type {
	t := &wit.Type{Kind: wit.Flags}
	for i := range n {
		t.Flags = append(t.Flags, "f"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	return t
}

func bigEnum(n int) *wit.Type {
	t := &wit.Type{Kind: wit.Enum}
	for i := range n {
		t.Cases = append(t.Cases, wit.Case{Name: "c" + string(rune('a'+i%26)) + string(rune('a'+i/26))})
	}
	return t
}

func TestFlatten(t *testing.T) {
	tests := []struct {
		name string
		t    *wit.Type
		want []api.ValueType
	}{
		{"u8", tU8, []api.ValueType{i32}},
		{"s64", tS64, []api.ValueType{i64}},
		{"f32", tF32, []api.ValueType{f32}},
		{"f64", tF64, []api.ValueType{f64}},
		{"string", tString, []api.ValueType{i32, i32}},
		{"version", tVersion, []api.ValueType{i32, i32, i32}},
		{"option<u64>", option(tU64), []api.ValueType{i32, i64}},
		// boolean(bool) s32 f32 string...: i32 join f32 = i32; string adds a second i32.
		{"config-value", tConfigValue, []api.ValueType{i32, i32, i32}},
		{"variant f32|f64", &wit.Type{Kind: wit.Variant, Cases: cases("a", tF32, "b", tF64)}, []api.ValueType{i32, i64}},
		{"variant f32|u32", &wit.Type{Kind: wit.Variant, Cases: cases("a", tF32, "b", tU32)}, []api.ValueType{i32, i32}},
		{"variant f32 only", &wit.Type{Kind: wit.Variant, Cases: cases("a", tF32, "b", nil)}, []api.ValueType{i32, f32}},
		{"result<_, init-error>", tInitResult, []api.ValueType{i32, i32, i32, i32}},
		// option disc, parse-yield disc, then the join of message (3 i32),
		// attachment (13) and message-and-attachment (16): i64 where a u64
		// size meets an i32; then consumed.
		{"parse-return", tParseReturn, []api.ValueType{i32, i32, i32, i32, i64, i32, i32, i64, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i64}},
		{"flags 33", flags(33), []api.ValueType{i32, i32}},
		{"flags 0", &wit.Type{Kind: wit.Flags}, nil},
		{"level", tLevel, []api.ValueType{i32}},
		{"malformed", &wit.Type{Kind: wit.Variant}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Flatten(tt.t); !slices.Equal(got, tt.want) {
				t.Errorf("Flatten = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSignatures checks the core signatures of Chipmunk's lifted exports
// and lowered imports under the canonical ABI.
func TestSignatures(t *testing.T) {
	tests := []struct {
		name                    string
		sig                     Signature
		params, results         []api.ValueType
		paramsSpill, resultSpil bool
	}{
		{"get-version", ExportSignature(fGetVersion), nil, []api.ValueType{i32}, false, true},
		{"get-config-schemas", ExportSignature(fSchemas), nil, []api.ValueType{i32}, false, true},
		{"get-render-options", ExportSignature(fRender), nil, []api.ValueType{i32}, false, true},
		{"parser init", ExportSignature(fInit), []api.ValueType{i32, i32, i32}, []api.ValueType{i32}, false, true},
		{"bytesource init", ExportSignature(fSourceInit), []api.ValueType{i32, i32, i32}, []api.ValueType{i32}, false, true},
		{"parse", ExportSignature(fParse), []api.ValueType{i32, i32, i32, i64}, []api.ValueType{i32}, false, true},
		{"read", ExportSignature(fRead), []api.ValueType{i64}, []api.ValueType{i32}, false, true},
		{"import log", ImportSignature(fLog), []api.ValueType{i32, i32, i32}, nil, false, false},
		{"import temp-directory", ImportSignature(fTempDir), []api.ValueType{i32}, nil, false, true},
		{"export u32 -> u32", ExportSignature(&wit.Func{Name: "f", Params: []wit.Param{{Name: "x", Type: tU32}}, Result: tU32}),
			[]api.ValueType{i32}, []api.ValueType{i32}, false, false},
		{"17 flat params spill", ExportSignature(&wit.Func{Name: "f", Params: []wit.Param{{Name: "a", Type: tAttachment}, {Name: "b", Type: tVersion}, {Name: "c", Type: tU8}}}),
			[]api.ValueType{i32}, nil, true, false},
		{"16 flat params do not", ImportSignature(&wit.Func{Name: "f", Params: []wit.Param{{Name: "a", Type: tAttachment}, {Name: "b", Type: tVersion}}}),
			append(Flatten(tAttachment), i32, i32, i32), nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.sig
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Params, tt.params) || !slices.Equal(s.Results, tt.results) {
				t.Errorf("signature (%v) -> %v, want (%v) -> %v", s.Params, s.Results, tt.params, tt.results)
			}
			if s.ParamsSpilled != tt.paramsSpill || s.ResultSpilled != tt.resultSpil {
				t.Errorf("spilled params %v result %v, want %v %v", s.ParamsSpilled, s.ResultSpilled, tt.paramsSpill, tt.resultSpil)
			}
		})
	}
}

func TestMalformedTypes(t *testing.T) {
	cyclic := &wit.Type{Kind: wit.List}
	cyclic.Elem = cyclic
	tests := []struct {
		name string
		t    *wit.Type
		want string
	}{
		{"nil", nil, "abi: missing type"},
		{"list without element", &wit.Type{Kind: wit.List}, "abi: list element: missing type"},
		{"variant without cases", &wit.Type{Kind: wit.Variant, Name: "v"}, "abi: variant without cases"},
		{"enum with payload", &wit.Type{Kind: wit.Enum, Cases: cases("a", tU8)}, "abi: enum case a has a payload"},
		{"too many flags", flags(65), "abi: flags with 65 members (at most 64 supported)"},
		{"record field", record("r", "x", &wit.Type{Kind: wit.Option}), "abi: x: option without element type"},
		{"unknown kind", &wit.Type{Kind: 200}, "abi: unsupported type kind kind(200)"},
		{"cyclic", cyclic, "nested more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewLifter().LiftFlat(newFakeMem(16), tt.t, nil)
			if err == nil || !contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.t == nil {
				return
			}
			sig := ExportSignature(&wit.Func{Name: "f", Result: tt.t})
			if sig.Err() == nil {
				t.Fatal("signature of a malformed type has no error")
			}
			if _, err := NewLifter().LiftResult(newFakeMem(16), &sig, []uint64{0}); err == nil {
				t.Fatal("LiftResult through a malformed signature succeeded")
			}
		})
	}
}
