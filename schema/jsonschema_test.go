package schema

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

var testItems = []Item{
	{ID: "b", Title: "Bool", InputType: InputType{Type: Boolean, Default: true}},
	{ID: "i", Title: "Int", Description: ptr("an int"), InputType: InputType{Type: Integer, Default: int32(32)}},
	{ID: "f", Title: "Float", InputType: InputType{Type: Float, Default: float32(1.55)}},
	{ID: "t", Title: "Text", InputType: InputType{Type: Text, Default: "x"}},
	{ID: "dirs", Title: "Dirs", InputType: InputType{Type: Directories}},
	{ID: "files", Title: "Files", InputType: InputType{Type: Files, Extensions: []string{"log", "txt"}}},
	{ID: "any", Title: "Any file", InputType: InputType{Type: Files}},
	{ID: "dd", Title: "Drop", InputType: InputType{Type: Dropdown, Options: []string{"a", "b"}, Default: "b"}},
}

// TestJSONSchema checks the mapping of config schemas to JSON Schema on the
// encoded JSON: no $schema/$ref, plugin order, s32 bounds, f32 defaults,
// enums, x- annotations.
func TestJSONSchema(t *testing.T) {
	b, err := json.Marshal(JSONSchema(testItems))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, bad := range []string{`"$schema"`, `"$ref"`, `"$defs"`, `"$id"`} {
		if strings.Contains(s, bad) {
			t.Errorf("schema contains %s: %s", bad, s)
		}
	}
	// Property order is plugin order.
	last := -1
	for _, it := range testItems {
		i := strings.Index(s, `"`+it.ID+`":{`)
		if i < last {
			t.Errorf("property %s out of order", it.ID)
		}
		last = i
	}
	var got struct {
		Type                 string                    `json:"type"`
		Required             []string                  `json:"required"`
		AdditionalProperties *bool                     `json:"additionalProperties"`
		Properties           map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "object" || len(got.Required) != len(testItems) || got.AdditionalProperties == nil || *got.AdditionalProperties {
		t.Errorf("object: %+v", got)
	}
	cases := []struct {
		id   string
		key  string
		want string // JSON of the value
	}{
		{"b", "type", `"boolean"`}, {"b", "default", `true`},
		{"i", "type", `"integer"`}, {"i", "minimum", `-2147483648`}, {"i", "maximum", `2147483647`}, {"i", "default", `32`}, {"i", "description", `"an int"`},
		{"f", "type", `"number"`}, {"f", "default", `1.55`},
		{"t", "default", `"x"`},
		{"dirs", "type", `"array"`}, {"dirs", "items", `{"type":"string"}`}, {"dirs", "default", `[]`}, {"dirs", "x-chipmunk-input", `"directories"`},
		{"files", "x-chipmunk-input", `"files"`}, {"files", "x-file-extensions", `["log","txt"]`},
		{"any", "x-file-extensions", `[]`},
		{"dd", "type", `"string"`}, {"dd", "enum", `["a","b"]`}, {"dd", "default", `"b"`},
		{"dd", "x-order", `7`}, {"b", "x-order", `0`}, {"b", "title", `"Bool"`},
	}
	for _, tc := range cases {
		v, err := json.Marshal(got.Properties[tc.id][tc.key])
		if err != nil || string(v) != tc.want {
			t.Errorf("%s.%s = %s, want %s", tc.id, tc.key, v, tc.want)
		}
	}
	if !strings.Contains(s, `"default":1.55`) {
		t.Errorf("float default not encoded as 1.55: %s", s)
	}
}

// TestValuesFromJSON checks decoding and validation, one field per case.
func TestValuesFromJSON(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "a.LOG")
	binFile := filepath.Join(dir, "a.bin")
	os.WriteFile(logFile, nil, 0o644)
	os.WriteFile(binFile, nil, 0o644)
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	cases := []struct {
		name    string
		id, raw string
		want    Value  // when ok
		errPart string // when not ok
	}{
		{"bool", "b", `false`, Value{Type: Boolean}, ""},
		{"bool from string", "b", `"true"`, Value{}, "want a boolean, found a string"},
		{"int", "i", `-7`, Value{Type: Integer, Int: -7}, ""},
		{"int as float with zero fraction", "i", `3.0`, Value{Type: Integer, Int: 3}, ""},
		{"int fraction", "i", `3.5`, Value{}, "want an integer"},
		{"int max", "i", `2147483647`, Value{Type: Integer, Int: math.MaxInt32}, ""},
		{"int over", "i", `2147483648`, Value{}, "out of range"},
		{"int null", "i", `null`, Value{}, "found null"},
		{"float", "f", `0.1`, Value{Type: Float, Float: 0.1}, ""},
		{"float over f32", "f", `1e39`, Value{}, "out of range for a 32-bit float"},
		{"float string", "f", `"1"`, Value{}, "want a number"},
		{"text", "t", `"hé"`, Value{Type: Text, Text: "hé"}, ""},
		{"dropdown", "dd", `"a"`, Value{Type: Dropdown, Text: "a"}, ""},
		{"dropdown not an option", "dd", `"c"`, Value{}, "not one of the options"},
		{"dirs", "dirs", `[` + q(dir) + `]`, Value{Type: Directories, Paths: []string{dir}}, ""},
		{"dir is a file", "dirs", `[` + q(logFile) + `]`, Value{}, "is not a directory"},
		{"files", "files", `[` + q(logFile) + `]`, Value{Type: Files, Paths: []string{logFile}}, ""},
		{"file is a dir", "any", `[` + q(dir) + `]`, Value{}, "is a directory"},
		{"file missing", "any", `["/no/such/file"]`, Value{}, "does not exist"},
		{"file wrong extension", "files", `[` + q(binFile) + `]`, Value{}, "extensions"},
		{"files not a list", "files", q(logFile), Value{}, "want a list of paths"},
		{"path not a string", "files", `[1]`, Value{}, "want a path string"},
		{"unknown id", "nope", `1`, Value{}, "no such configuration item"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValuesFromJSON(testItems, map[string]json.RawMessage{tc.id: json.RawMessage(tc.raw)})
			if tc.errPart != "" {
				var es Errors
				if !errors.As(err, &es) || len(es) != 1 || es[0].Field != tc.id || !strings.Contains(es[0].Message, tc.errPart) {
					t.Fatalf("want one error on %s containing %q, got %v", tc.id, tc.errPart, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v := got[tc.id]
			if v.Type != tc.want.Type || v.Bool != tc.want.Bool || v.Int != tc.want.Int || v.Float != tc.want.Float || v.Text != tc.want.Text || strings.Join(v.Paths, ",") != strings.Join(tc.want.Paths, ",") {
				t.Errorf("got %+v, want %+v", v, tc.want)
			}
		})
	}
	// Several problems are reported together, in schema order.
	_, err := ValuesFromJSON(testItems, map[string]json.RawMessage{"zz": json.RawMessage(`1`), "i": json.RawMessage(`"x"`), "b": json.RawMessage(`1`)})
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 || es[0].Field != "b" || es[1].Field != "i" || es[2].Field != "zz" {
		t.Errorf("want errors on b, i, zz; got %v", err)
	}
}
