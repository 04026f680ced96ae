// Package schema holds Chipmunk's plugin configuration model (the schema
// items a plugin declares and the values a user gives), turns it into JSON
// Schema for generic form renderers, and validates configuration values.
//
// It imports only the standard library and invopop/jsonschema; runtime and
// rpc build on it, never the other way round.
package schema

// InputKind names a configuration input type, as in Chipmunk's
// config-schema-type / config-value variants (same order, same names).
type InputKind string

// The seven Chipmunk input kinds.
const (
	Boolean     InputKind = "boolean"
	Integer     InputKind = "integer"
	Float       InputKind = "float"
	Text        InputKind = "text"
	Directories InputKind = "directories"
	Files       InputKind = "files"
	Dropdown    InputKind = "dropdown"
)

// Kinds lists the input kinds in WIT case order (the variant discriminant).
var Kinds = [...]InputKind{Boolean, Integer, Float, Text, Directories, Files, Dropdown}

// Item is one configuration item a plugin declares (WIT config-schema-item).
type Item struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description *string   `json:"description,omitempty"`
	InputType   InputType `json:"inputType"`
}

// InputType is the type of an item and its default (WIT config-schema-type).
//
// Default is a bool, int32, float32 or string for boolean, integer, float,
// text and dropdown; it is nil for files and directories (whose default is an
// empty list). Extensions (without dots; empty = any) is set for files only;
// Options for dropdown only.
type InputType struct {
	Type       InputKind `json:"type"`
	Default    any       `json:"default,omitempty"`
	Extensions []string  `json:"extensions,omitempty"`
	Options    []string  `json:"options,omitempty"`
}

// Value is a configuration value (WIT config-value). Exactly the field that
// matches Type is meaningful: Bool, Int, Float, Text (text and dropdown) or
// Paths (files and directories).
type Value struct {
	Type  InputKind
	Bool  bool
	Int   int32
	Float float32
	Text  string
	Paths []string
}

// Setting is one configuration value with the id of its item (WIT config-item).
type Setting struct {
	ID    string
	Value Value
}
