package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/invopop/jsonschema"
)

// JSONSchema turns a plugin's configuration items into one flat JSON Schema
// object that generic form renderers (react-jsonschema-form, JSON Forms, VS
// Code settings, MCP-style elicitation forms) can show: one property per item
// in plugin order, every item required, no additional properties.
//
// The schema uses only keywords common to JSON Schema draft-07 and 2020-12
// and carries no $schema, $ref or $defs (Ajv in draft-07 mode rejects a
// 2020-12 $schema). File and directory pickers are hinted with the
// annotations x-chipmunk-input ("files" or "directories") and
// x-file-extensions; x-order gives the item's position. Integer bounds are
// those of s32; float defaults stay float32 so that 1.55 encodes as 1.55.
// An item without a usable default (see NormalizeDefaults) has no default
// keyword, so the schema always encodes.
func JSONSchema(items []Item) *jsonschema.Schema {
	s := &jsonschema.Schema{
		Type:                 "object",
		Properties:           jsonschema.NewProperties(),
		Required:             []string{},
		AdditionalProperties: jsonschema.FalseSchema,
	}
	for i, it := range items {
		s.Properties.Set(it.ID, property(it, i))
		s.Required = append(s.Required, it.ID)
	}
	return s
}

// property is the JSON Schema of one item; i is its position.
func property(it Item, i int) *jsonschema.Schema {
	p := &jsonschema.Schema{Title: it.Title, Extras: map[string]any{"x-order": i}}
	if it.Description != nil {
		p.Description = *it.Description
	}
	t := it.InputType
	d := Default(it)
	switch t.Type {
	case Boolean:
		p.Type = "boolean"
		p.Default = d.Bool
	case Integer:
		p.Type = "integer"
		p.Minimum = json.Number(strconv.Itoa(math.MinInt32))
		p.Maximum = json.Number(strconv.Itoa(math.MaxInt32))
		p.Default = d.Int
	case Float:
		p.Type = "number"
		p.Default = d.Float // float32: encodes at 32-bit precision
	case Text:
		p.Type = "string"
		p.Default = d.Text
	case Dropdown:
		p.Type = "string"
		p.Enum = make([]any, len(t.Options))
		for j, o := range t.Options {
			p.Enum[j] = o
		}
		p.Default = d.Text
	case Files, Directories:
		p.Type = "array"
		p.Items = &jsonschema.Schema{Type: "string"}
		p.Default = []string{}
		p.Extras["x-chipmunk-input"] = string(t.Type)
		if t.Type == Files {
			exts := t.Extensions
			if exts == nil {
				exts = []string{}
			}
			p.Extras["x-file-extensions"] = exts
		}
	}
	if !hasDefault(it) {
		p.Default = nil
	}
	return p
}

// ValuesFromJSON decodes a configuration object sent by a front end (keyed by
// item id) into values for Complete. It checks each value's JSON type
// against its item: booleans, integers within s32 (no clamping, no
// fractions), finite numbers within the f32 range, strings and lists of path
// strings; then each value goes through Check (dropdown options; files and
// directories must exist on disk and be of the right kind, files must carry
// an allowed extension). Unknown ids are errors. All problems are reported
// together as Errors.
func ValuesFromJSON(items []Item, raw map[string]json.RawMessage) (map[string]Value, error) {
	byID := make(map[string]Item, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	out := make(map[string]Value, len(raw))
	var errs Errors
	// Visit items in schema order, then unknown ids sorted, so that error
	// lists are deterministic.
	for _, it := range items {
		msg, ok := raw[it.ID]
		if !ok {
			continue
		}
		v, err := valueFromJSON(it, msg)
		if err != nil {
			errs = append(errs, FieldError{Field: it.ID, Message: err.Error()})
			continue
		}
		out[it.ID] = v
	}
	var unknown []string
	for id := range raw {
		if _, ok := byID[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	slices.Sort(unknown)
	for _, id := range unknown {
		errs = append(errs, FieldError{Field: id, Message: msgNoSuchItem})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// valueFromJSON decodes and checks one value.
func valueFromJSON(it Item, msg json.RawMessage) (Value, error) {
	v := Value{Type: it.InputType.Type}
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return v, fmt.Errorf("invalid JSON: %w", err)
	}
	switch it.InputType.Type {
	case Boolean:
		b, ok := x.(bool)
		if !ok {
			return v, fmt.Errorf("want a boolean, found %s", jsonKind(x))
		}
		v.Bool = b
	case Integer:
		n, ok := x.(json.Number)
		if !ok {
			return v, fmt.Errorf("want an integer, found %s", jsonKind(x))
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(n.String(), 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return v, fmt.Errorf("want an integer, found %s", n)
			}
			i = int64(f)
		}
		if i < math.MinInt32 || i > math.MaxInt32 {
			return v, fmt.Errorf("%d is out of range for a 32-bit integer [%d, %d]", i, math.MinInt32, math.MaxInt32)
		}
		v.Int = int32(i)
	case Float:
		n, ok := x.(json.Number)
		if !ok {
			return v, fmt.Errorf("want a number, found %s", jsonKind(x))
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return v, fmt.Errorf("want a finite number, found %s", n)
		}
		if math.Abs(f) > math.MaxFloat32 {
			return v, fmt.Errorf("%s is out of range for a 32-bit float", n)
		}
		v.Float = float32(f)
	case Text, Dropdown:
		s, ok := x.(string)
		if !ok {
			return v, fmt.Errorf("want a string, found %s", jsonKind(x))
		}
		v.Text = s
	case Files, Directories:
		list, ok := x.([]any)
		if !ok {
			return v, fmt.Errorf("want a list of paths, found %s", jsonKind(x))
		}
		v.Paths = make([]string, 0, len(list))
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				return v, fmt.Errorf("item %d: want a path string, found %s", i, jsonKind(e))
			}
			v.Paths = append(v.Paths, s)
		}
	default:
		return v, fmt.Errorf("unsupported input type %q", it.InputType.Type)
	}
	if err := Check(it, v); err != nil {
		return v, err
	}
	return v, nil
}

// jsonKind names the JSON type of a decoded value for error messages.
func jsonKind(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", x)
}
