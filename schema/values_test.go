package schema

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestTextAndJSONAgree gives the same values once as command-line text and
// once as JSON: every problem that is not about the input's own syntax gets
// the same field error from ValuesFromText (the CLI) and ValuesFromJSON (the
// server), because both end in Check.
func TestTextAndJSONAgree(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "a.log")
	binFile := filepath.Join(dir, "a.bin")
	for _, f := range []string{logFile, binFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	cases := []struct {
		name, id, text, json string
		wantErr              bool
	}{
		{"missing file", "any", "/nonexistent.log", `["/nonexistent.log"]`, true},
		{"file is a directory", "any", dir, `[` + q(dir) + `]`, true},
		{"wrong extension", "files", binFile, `[` + q(binFile) + `]`, true},
		{"directory is a file", "dirs", logFile, `[` + q(logFile) + `]`, true},
		{"missing directory", "dirs", "/nonexistent", `["/nonexistent"]`, true},
		{"not an option", "dd", "c", `"c"`, true},
		{"unknown id", "nope", "1", `1`, true},
		{"good file", "files", logFile, `[` + q(logFile) + `]`, false},
		{"good option", "dd", "a", `"a"`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fromText, textErr := ValuesFromText(testItems, []string{tc.id + "=" + tc.text})
			fromJSON, jsonErr := ValuesFromJSON(testItems, map[string]json.RawMessage{tc.id: json.RawMessage(tc.json)})
			if (textErr != nil) != tc.wantErr {
				t.Fatalf("text: error %v, want error %v", textErr, tc.wantErr)
			}
			if !reflect.DeepEqual(textErr, jsonErr) || !reflect.DeepEqual(fromText, fromJSON) {
				t.Fatalf("text and JSON disagree:\n text %v %v\n json %v %v", fromText, textErr, fromJSON, jsonErr)
			}
		})
	}
}

// TestValuesFromText checks the command-line syntax: id=value pairs,
// repeated paths, and every problem reported at once.
func TestValuesFromText(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.txt")
	for _, f := range []string{a, b} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ValuesFromText(testItems, []string{"files=" + a, "i=-3", "files=" + b, "t=x=y"})
	if err != nil {
		t.Fatal(err)
	}
	if p := got["files"].Paths; len(p) != 2 || p[0] != a || p[1] != b {
		t.Errorf("files: %v, want both paths in order", p)
	}
	if got["i"].Int != -3 || got["t"].Text != "x=y" {
		t.Errorf("i %d, t %q", got["i"].Int, got["t"].Text)
	}
	_, err = ValuesFromText(testItems, []string{"b=maybe", "noequals", "i=1", "i=2", "f=NaN"})
	var es Errors
	want := []string{"b", "noequals", "i", "f"}
	if !errors.As(err, &es) || len(es) != len(want) {
		t.Fatalf("want errors on %v, got %v", want, err)
	}
	for i, f := range want {
		if es[i].Field != f {
			t.Errorf("error %d on %q, want %q (%v)", i, es[i].Field, f, err)
		}
	}
}

// TestCompleteChecksPaths: Complete applies Check to values built in Go, so
// a caller that skips the decoders still cannot pass a missing file.
func TestCompleteChecksPaths(t *testing.T) {
	_, err := Complete(testItems, map[string]Value{"any": {Type: Files, Paths: []string{"/nonexistent.log"}}})
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Field != "any" || es[0].Message != "/nonexistent.log does not exist" {
		t.Fatalf("got %v, want any: /nonexistent.log does not exist", err)
	}
}

// TestNormalizeDefaults: defaults that cannot be used as declared are
// repaired with one warning each, naming the field; the JSON Schema of the
// result encodes, and Complete asks for the values that lost their default.
func TestNormalizeDefaults(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	items := []Item{
		{ID: "nan", InputType: InputType{Type: Float, Default: nan}},
		{ID: "inf", InputType: InputType{Type: Float, Default: -inf}},
		{ID: "ok", InputType: InputType{Type: Float, Default: float32(1.5)}},
		{ID: "dd", InputType: InputType{Type: Dropdown, Options: []string{"low", "high"}, Default: "medium"}},
		{ID: "good", InputType: InputType{Type: Dropdown, Options: []string{"low", "high"}, Default: "high"}},
		{ID: "empty", InputType: InputType{Type: Dropdown, Default: ""}},
	}
	if _, err := json.Marshal(JSONSchema(items)); err != nil {
		t.Errorf("JSONSchema of items not yet normalized: %v (a non-finite default must never reach JSON)", err)
	}
	warns := NormalizeDefaults(items)
	want := map[string]string{
		"nan":   "the float default NaN is not a finite number: it is left out, and a value must be given",
		"inf":   "the float default -Inf is not a finite number: it is left out, and a value must be given",
		"dd":    `the dropdown default "medium" is not one of its options: the first option, "low", is the default instead, as in Chipmunk`,
		"empty": "the dropdown has no options: no value can be valid",
	}
	if len(warns) != len(want) {
		t.Fatalf("warnings %v, want %d", warns, len(want))
	}
	for _, w := range warns {
		if want[w.Field] != w.Message {
			t.Errorf("warning on %s: %q, want %q", w.Field, w.Message, want[w.Field])
		}
	}
	if items[0].InputType.Default != nil || items[1].InputType.Default != nil || items[2].InputType.Default != float32(1.5) ||
		items[3].InputType.Default != "low" || items[4].InputType.Default != "high" {
		t.Errorf("items after normalizing: %+v", items)
	}

	b, err := json.Marshal(JSONSchema(items))
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	for id, wantDefault := range map[string]any{"nan": nil, "inf": nil, "ok": 1.5, "dd": "low", "good": "high"} {
		if got := js.Properties[id]["default"]; got != wantDefault {
			t.Errorf("JSON Schema %s.default = %v, want %v", id, got, wantDefault)
		}
	}
	if b, err := json.Marshal(items); err != nil || strings.Contains(string(b), "NaN") {
		t.Errorf("items encode as %s, %v", b, err)
	}

	_, err = Complete(items, map[string]Value{"inf": {Type: Float, Float: 2}})
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Field != "nan" || es[0].Message != "no value given, and the plugin declares no usable default" {
		t.Fatalf("Complete without a value for nan: %v", err)
	}
	settings, err := Complete(items, map[string]Value{"nan": {Type: Float, Float: 2}, "inf": {Type: Float, Float: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if settings[0].Value.Float != 2 || settings[3].Value.Text != "low" {
		t.Errorf("settings %+v", settings)
	}
}
