package schema

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// FieldError is one invalid configuration value.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Errors is a list of FieldErrors, returned when a configuration is invalid.
type Errors []FieldError

func (es Errors) Error() string { return "invalid configuration: " + es.list() }

// list is the errors separated by semicolons.
func (es Errors) list() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// PluginErrors are the configuration errors of one plugin. Its message,
// "invalid configuration for PLUGIN: FIELD: PROBLEM; …", is the one the CLI
// prints and the server answers with -32602.
type PluginErrors struct {
	Plugin string
	Errors Errors
}

func (e *PluginErrors) Error() string {
	return "invalid configuration for " + e.Plugin + ": " + e.Errors.list()
}

// Unwrap returns the field errors.
func (e *PluginErrors) Unwrap() error { return e.Errors }

// ForPlugin names the plugin in err when err is an Errors (as returned by
// ValuesFromText, ValuesFromJSON and Complete); other errors are returned
// unchanged.
func ForPlugin(plugin string, err error) error {
	var es Errors
	if errors.As(err, &es) {
		return &PluginErrors{Plugin: plugin, Errors: es}
	}
	return err
}

// NormalizeDefaults checks the defaults that plugins declare, in place, and
// repairs the ones that cannot be used as they are, returning one warning
// per repaired item (Field is the item id):
//
//   - a float default that is not a finite number (NaN, ±Inf) cannot be
//     written in JSON: it is removed, so the item has no default and a
//     value must be given (Complete fails without one; JSONSchema shows no
//     default);
//   - a dropdown default that is not one of its options is replaced by the
//     first option, which is what Chipmunk's UI shows.
//
// A dropdown without options is reported too (no value can be valid).
func NormalizeDefaults(items []Item) []FieldError {
	var warns []FieldError
	for i := range items {
		t := &items[i].InputType
		switch t.Type {
		case Float:
			if f, ok := t.Default.(float32); ok && !finite(f) {
				t.Default = nil
				warns = append(warns, FieldError{Field: items[i].ID, Message: fmt.Sprintf(
					"the float default %v is not a finite number: it is left out, and a value must be given", f)})
			}
		case Dropdown:
			d, _ := t.Default.(string)
			switch {
			case len(t.Options) == 0:
				warns = append(warns, FieldError{Field: items[i].ID, Message: "the dropdown has no options: no value can be valid"})
			case !contains(t.Options, d):
				t.Default = t.Options[0]
				warns = append(warns, FieldError{Field: items[i].ID, Message: fmt.Sprintf(
					"the dropdown default %q is not one of its options: the first option, %q, is the default instead, as in Chipmunk", d, t.Options[0])})
			}
		}
	}
	return warns
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// hasDefault reports whether an item has a default Complete can use:
// always for files, directories and dropdowns, and for the other kinds
// when the plugin declared one that NormalizeDefaults kept (a float default
// that is not finite never counts).
func hasDefault(it Item) bool {
	switch d := it.InputType.Default.(type) {
	case nil:
		return it.InputType.Type == Files || it.InputType.Type == Directories || it.InputType.Type == Dropdown
	case float32:
		return finite(d)
	}
	return true
}

// Default returns the default value of an item, as Chipmunk's UI computes
// it: the schema default, an empty list for files and directories, and for
// a dropdown its default if it is one of the options, else the first option.
// For an item without a usable default (see NormalizeDefaults) it returns
// the zero value of the item's type.
func Default(it Item) Value {
	t := it.InputType
	v := Value{Type: t.Type}
	switch t.Type {
	case Boolean:
		v.Bool, _ = t.Default.(bool)
	case Integer:
		v.Int, _ = t.Default.(int32)
	case Float:
		v.Float, _ = t.Default.(float32)
	case Text:
		v.Text, _ = t.Default.(string)
	case Files, Directories:
		v.Paths = []string{}
	case Dropdown:
		d, _ := t.Default.(string)
		v.Text = d
		if len(t.Options) > 0 && !contains(t.Options, d) {
			v.Text = t.Options[0]
		}
	}
	return v
}

// Complete returns one setting per item, in schema order (as Chipmunk
// delivers them to init): the given value, or the default when absent.
// Given values for unknown ids are errors, and so is a missing value for an
// item without a usable default.
func Complete(items []Item, given map[string]Value) ([]Setting, error) {
	var errs Errors
	known := map[string]bool{}
	out := make([]Setting, 0, len(items))
	for _, it := range items {
		known[it.ID] = true
		v, ok := given[it.ID]
		switch {
		case !ok && !hasDefault(it):
			errs = append(errs, FieldError{Field: it.ID, Message: "no value given, and the plugin declares no usable default"})
		case !ok:
			v = Default(it)
		default:
			if err := Check(it, v); err != nil {
				errs = append(errs, FieldError{Field: it.ID, Message: err.Error()})
			}
		}
		out = append(out, Setting{ID: it.ID, Value: v})
	}
	for id := range given {
		if !known[id] {
			errs = append(errs, FieldError{Field: id, Message: msgNoSuchItem})
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errs
	}
	return out, nil
}

func sortErrors(es Errors) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Field < es[j-1].Field; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// Check validates a value against its item: the type must match, a float
// must be finite, a dropdown value must be one of the options, every path of
// a files or directories value must exist and be a regular file or a
// directory, and files must carry one of the allowed extensions
// (case-insensitive; none listed = any).
//
// Check is the one validation of configuration values: the CLI (through
// ValuesFromText) and the server (through ValuesFromJSON) both use it, and
// Complete applies it to every value it is given.
func Check(it Item, v Value) error {
	t := it.InputType
	if v.Type != t.Type {
		return fmt.Errorf("want a %s value, found %s", t.Type, v.Type)
	}
	switch t.Type {
	case Float:
		if !finite(v.Float) {
			return fmt.Errorf("want a finite number")
		}
	case Dropdown:
		if !contains(t.Options, v.Text) {
			return fmt.Errorf("%q is not one of the options %q", v.Text, t.Options)
		}
	case Files, Directories:
		for _, p := range v.Paths {
			if err := checkPath(p, t.Type == Directories); err != nil {
				return err
			}
			if t.Type == Files && len(t.Extensions) > 0 && !hasExtension(p, t.Extensions) {
				return fmt.Errorf("file %q does not have one of the extensions %q", p, t.Extensions)
			}
		}
	}
	return nil
}

// checkPath checks that path exists and is a directory (dir) or a regular
// file (!dir). A named pipe or a device is refused: the plugin would open it
// through WASI, where an open or read that blocks cannot be interrupted.
func checkPath(path string, dir bool) error {
	if path == "" {
		return errors.New("empty path")
	}
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s does not exist", path)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case dir && !fi.IsDir():
		return fmt.Errorf("%s is not a directory", path)
	case !dir && fi.IsDir():
		return fmt.Errorf("%s is a directory, want a file", path)
	case !dir && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (a named pipe or a device could block the plugin)", path)
	}
	return nil
}

func hasExtension(path string, exts []string) bool {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return false
	}
	ext := path[i+1:]
	for _, e := range exts {
		if strings.EqualFold(strings.TrimPrefix(e, "."), ext) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// msgNoSuchItem is the error of a value given for an id the plugin does not
// declare.
const msgNoSuchItem = "no such configuration item"

// ValuesFromText decodes command-line configuration values, each "id=value"
// (see ParseText), into values for Complete, and checks each with Check, as
// ValuesFromJSON does for the server. Files and directories items may be
// given several times, each time with one more path; any other item once.
// Unknown ids and malformed pairs are errors. All problems are reported
// together as Errors, in the order given.
func ValuesFromText(items []Item, pairs []string) (map[string]Value, error) {
	byID := make(map[string]Item, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	out := make(map[string]Value, len(pairs))
	var errs Errors
	for _, pair := range pairs {
		id, text, ok := strings.Cut(pair, "=")
		if !ok {
			errs = append(errs, FieldError{Field: id, Message: "want id=value"})
			continue
		}
		it, ok := byID[id]
		if !ok {
			errs = append(errs, FieldError{Field: id, Message: msgNoSuchItem})
			continue
		}
		v, err := ParseText(it, text)
		if err == nil {
			err = Check(it, v)
		}
		if err != nil {
			errs = append(errs, FieldError{Field: id, Message: err.Error()})
			continue
		}
		prev, seen := out[id]
		switch {
		case seen && (v.Type == Files || v.Type == Directories):
			v.Paths = append(prev.Paths, v.Paths...)
		case seen:
			errs = append(errs, FieldError{Field: id, Message: "given more than once (only files and directories items take several values)"})
			continue
		}
		out[id] = v
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// ParseText parses a command-line value ("id=value") for an item: true or
// false, a 32-bit integer, a number, text, a dropdown option, or one path
// for files and directories (repeat the flag to give several).
func ParseText(it Item, text string) (Value, error) {
	v := Value{Type: it.InputType.Type}
	switch v.Type {
	case Boolean:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return v, fmt.Errorf("want true or false, found %q", text)
		}
		v.Bool = b
	case Integer:
		n, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return v, fmt.Errorf("want a 32-bit integer, found %q", text)
		}
		v.Int = int32(n)
	case Float:
		f, err := strconv.ParseFloat(text, 32)
		if err != nil {
			return v, fmt.Errorf("want a number, found %q", text)
		}
		v.Float = float32(f)
	case Text, Dropdown:
		v.Text = text
	case Files, Directories:
		v.Paths = []string{text}
	default:
		return v, fmt.Errorf("unknown input type %q", v.Type)
	}
	return v, nil
}
