package abi

import "github.com/chiphost/chiphost/wit"

// The Chipmunk 0.1.0 types, built by hand from
// shared/chipmunk-wit/v0.1.0/deps/*/*.wit so that these tests do not depend
// on the WIT parser.
var (
	tBool   = &wit.Type{Kind: wit.Bool}
	tU8     = &wit.Type{Kind: wit.U8}
	tS8     = &wit.Type{Kind: wit.S8}
	tU16    = &wit.Type{Kind: wit.U16}
	tS16    = &wit.Type{Kind: wit.S16}
	tU32    = &wit.Type{Kind: wit.U32}
	tS32    = &wit.Type{Kind: wit.S32}
	tU64    = &wit.Type{Kind: wit.U64}
	tS64    = &wit.Type{Kind: wit.S64}
	tF32    = &wit.Type{Kind: wit.F32}
	tF64    = &wit.Type{Kind: wit.F64}
	tChar   = &wit.Type{Kind: wit.Char}
	tString = &wit.Type{Kind: wit.String}

	tListString = list(tString)
	tBytes      = list(tU8)

	tLevel = &wit.Type{Kind: wit.Enum, Name: "level", Cases: cases("error", nil, "warn", nil, "info", nil, "debug", nil, "trace", nil)}

	tVersion = record("version", "major", tU16, "minor", tU16, "patch", tU16)
	tInitErr = &wit.Type{Kind: wit.Variant, Name: "init-error", Cases: cases(
		"config", tString, "io", tString, "unsupported", tString, "other", tString)}
	tConfigValue = &wit.Type{Kind: wit.Variant, Name: "config-value", Cases: cases(
		"boolean", tBool, "integer", tS32, "float", tF32, "text", tString,
		"directories", tListString, "files", tListString, "dropdown", tString)}
	tConfigItem       = record("config-item", "id", tString, "value", tConfigValue)
	tConfigSchemaType = &wit.Type{Kind: wit.Variant, Name: "config-schema-type", Cases: cases(
		"boolean", tBool, "integer", tS32, "float", tF32, "text", tString, "directories", nil,
		"files", tListString, "dropdown", tuple(tListString, tString))}
	tConfigSchemaItem = record("config-schema-item", "id", tString, "title", tString,
		"description", option(tString), "input-type", tConfigSchemaType)

	tParserConfig = record("parser-config", "log-level", tLevel)
	tSourceConfig = record("source-config", "log-level", tLevel)
	tParsedMsg    = &wit.Type{Kind: wit.Variant, Name: "parsed-message", Cases: cases("line", tString, "columns", tListString)}
	tAttachment   = record("attachment", "name", tString, "size", tU64, "created-date", option(tString),
		"modified-date", option(tString), "messages", list(tU64), "data", tBytes)
	tParseYield = &wit.Type{Kind: wit.Variant, Name: "parse-yield", Cases: cases(
		"message", tParsedMsg, "attachment", tAttachment, "message-and-attachment", tuple(tParsedMsg, tAttachment))}
	tParseReturn = record("parse-return", "value", option(tParseYield), "consumed", tU64)
	tParseError  = &wit.Type{Kind: wit.Variant, Name: "parse-error", Cases: cases(
		"unrecoverable", tString, "parse", tString, "incomplete", nil, "eof", nil)}
	tSourceError = &wit.Type{Kind: wit.Variant, Name: "source-error", Cases: cases(
		"io", tString, "unsupported", tString, "other", tString)}
	tColumnInfo     = record("column-info", "caption", tString, "description", tString, "width", tS16)
	tColumnsOptions = record("columns-render-options", "columns", list(tColumnInfo), "min-width", tU16, "max-width", tU16)
	tRenderOptions  = record("render-options", "columns-options", option(tColumnsOptions))
	tSocketInfo     = record("socket-info", "ip", tString, "port", tU16)

	tInitResult  = result(nil, tInitErr)
	tParseResult = result(list(tParseReturn), tParseError)
	tReadResult  = result(tBytes, tSourceError)
	tTempDir     = result(tString, tString)

	fGetVersion = &wit.Func{Name: "get-version", Result: tVersion}
	fSchemas    = &wit.Func{Name: "get-config-schemas", Result: list(tConfigSchemaItem)}
	fRender     = &wit.Func{Name: "get-render-options", Result: tRenderOptions}
	fInit       = &wit.Func{Name: "init", Params: []wit.Param{{Name: "general-configs", Type: tParserConfig},
		{Name: "plugin-configs", Type: list(tConfigItem)}}, Result: tInitResult}
	fSourceInit = &wit.Func{Name: "init", Params: []wit.Param{{Name: "general-configs", Type: tSourceConfig},
		{Name: "plugin-configs", Type: list(tConfigItem)}}, Result: tInitResult}
	fParse = &wit.Func{Name: "parse", Params: []wit.Param{{Name: "data", Type: tBytes},
		{Name: "timestamp", Type: option(tU64)}}, Result: tParseResult}
	fRead    = &wit.Func{Name: "read", Params: []wit.Param{{Name: "len", Type: tU64}}, Result: tReadResult}
	fLog     = &wit.Func{Name: "log", Params: []wit.Param{{Name: "level", Type: tLevel}, {Name: "msg", Type: tString}}}
	fTempDir = &wit.Func{Name: "temp-directory", Result: tTempDir}
)

func list(e *wit.Type) *wit.Type   { return &wit.Type{Kind: wit.List, Elem: e} }
func option(e *wit.Type) *wit.Type { return &wit.Type{Kind: wit.Option, Elem: e} }
func result(ok, err *wit.Type) *wit.Type {
	return &wit.Type{Kind: wit.Result, Ok: ok, Err: err}
}

func tuple(ts ...*wit.Type) *wit.Type {
	t := &wit.Type{Kind: wit.Tuple}
	for _, e := range ts {
		t.Fields = append(t.Fields, wit.Field{Type: e})
	}
	return t
}

// record takes name, type pairs.
func record(name string, fields ...any) *wit.Type {
	t := &wit.Type{Kind: wit.Record, Name: name}
	for i := 0; i < len(fields); i += 2 {
		t.Fields = append(t.Fields, wit.Field{Name: fields[i].(string), Type: fields[i+1].(*wit.Type)})
	}
	return t
}

// cases takes name, payload pairs (payload nil or *wit.Type).
func cases(cs ...any) []wit.Case {
	var out []wit.Case
	for i := 0; i < len(cs); i += 2 {
		c := wit.Case{Name: cs[i].(string)}
		if t, ok := cs[i+1].(*wit.Type); ok {
			c.Type = t
		}
		out = append(out, c)
	}
	return out
}
