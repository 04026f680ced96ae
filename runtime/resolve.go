package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Resolve finds and loads the one plugin a user names, without loading any
// other. ref is, in this order:
//
//   - the path of an existing file (a .wasm binary; any other file is
//     refused with KindUnsupported, naming what it starts with) or of a
//     plugin directory (<dir>/<base>.wasm, as Chipmunk lays plugins out);
//   - the name of a plugin under one of roots with Chipmunk's layout
//     (<root>/parsers/<name>/<name>.wasm, or bytesources/ or producers/): the first root
//     that has it wins, and with kind set only that kind's directory is
//     looked at.
//
// The entry carries the plugin's metadata, as Discover's do. An entry whose
// plugin does not load is returned as an error. A name that matches nothing
// is a KindNotFound error that lists the names the roots hold (directory
// names only: nothing is loaded to list them). A plugin of another kind than
// kind (when kind is not "") is a KindUnsupported error that wraps a
// *WrongKindError.
func (h *Host) Resolve(ctx context.Context, ref string, roots []string, kind PluginKind) (*Entry, error) {
	if ref == "" {
		return nil, &Error{Kind: KindNotFound, Err: errors.New("no plugin named (want a .wasm path or a plugin name)")}
	}
	e, err := h.resolveEntry(ctx, ref, roots, kind)
	if err != nil {
		return nil, err
	}
	if e.Err != nil {
		return nil, e.Err
	}
	if kind != "" && e.Plugin.Kind != kind {
		return nil, &Error{Kind: KindUnsupported, Plugin: e.Name, Err: &WrongKindError{Got: e.Plugin.Kind, Want: kind}}
	}
	return e, nil
}

// WrongKindError is why Resolve refuses a plugin of another kind than the
// one asked for; it is the Err of an *Error of KindUnsupported.
type WrongKindError struct {
	Got, Want PluginKind
}

func (e *WrongKindError) Error() string {
	return fmt.Sprintf("it is a %s, want a %s", e.Got, e.Want)
}

func (h *Host) resolveEntry(ctx context.Context, ref string, roots []string, kind PluginKind) (*Entry, error) {
	if st, err := os.Stat(ref); err == nil {
		if st.IsDir() {
			return h.dirEntry(ctx, ref, kind)
		}
		return h.fileEntry(ctx, ref)
	}
	if looksLikePath(ref) {
		return nil, &Error{Kind: KindNotFound, Plugin: cutRef(ref), Err: errors.New("no such file")}
	}
	for _, root := range roots {
		for _, kd := range kindDirs {
			if kind != "" && kd.kind != kind {
				continue
			}
			dir := filepath.Join(root, kd.dir, ref)
			if st, err := os.Stat(dir); err == nil && st.IsDir() {
				return h.loadEntry(ctx, dir, ref, kd.kind), nil
			}
		}
	}
	return nil, notFoundIn(ref, roots, kind)
}

// looksLikePath reports whether ref names a file rather than a plugin.
func looksLikePath(ref string) bool {
	return strings.HasSuffix(ref, ".wasm") || strings.ContainsRune(ref, os.PathSeparator) || ref == "." || ref == ".."
}

// fileEntry loads a plugin from a file path, refusing a file that is not
// WebAssembly before handing it to the decoder.
func (h *Host) fileEntry(ctx context.Context, path string) (*Entry, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{Kind: KindIO, Op: "resolve", Err: err}
	}
	if err := checkWasmMagic(abs); err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(abs), ".wasm")
	e := &Entry{ID: abs, Name: name, Dir: filepath.Dir(abs), WasmPath: abs, Title: name}
	md := ReadMetadata(abs)
	e.Title, e.Description = md.Title, md.Description
	e.Warnings = append(e.Warnings, md.Warnings...)
	p, err := h.Load(ctx, abs)
	if err != nil {
		e.Err = err
		return e, nil
	}
	e.Plugin, e.Kind = p, p.Kind
	e.Warnings = append(e.Warnings, p.Warnings...)
	return e, nil
}

// dirEntry loads the plugin of a plugin directory (<dir>/<base>.wasm); its
// kind comes from the parent directory when that is a type directory.
func (h *Host) dirEntry(ctx context.Context, dir string, kind PluginKind) (*Entry, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &Error{Kind: KindIO, Op: "resolve", Err: err}
	}
	name := filepath.Base(abs)
	dirKind := kind
	for _, kd := range kindDirs {
		if filepath.Base(filepath.Dir(abs)) == kd.dir {
			dirKind = kd.kind
		}
	}
	if dirKind == "" {
		// No type directory to say: take the kind the binary exports.
		e, err := h.fileEntry(ctx, filepath.Join(abs, name+".wasm"))
		if err != nil {
			return nil, err
		}
		e.ID, e.Dir = abs, abs
		return e, nil
	}
	return h.loadEntry(ctx, abs, name, dirKind), nil
}

// checkWasmMagic refuses a file that does not start with Wasm's magic bytes.
func checkWasmMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &Error{Kind: KindNotFound, Plugin: cutRef(path), Err: err}
	}
	defer f.Close()
	var head [8]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && n == 0 {
		return &Error{Kind: KindUnsupported, Plugin: cutRef(path), Err: errors.New("the file is empty, not a WebAssembly binary")}
	}
	if n < 4 || string(head[:4]) != "\x00asm" {
		return &Error{Kind: KindUnsupported, Plugin: cutRef(path), Err: fmt.Errorf("not a WebAssembly binary: the file starts with %q, not \\0asm", head[:n])}
	}
	return nil
}

// maxListedNames bounds the names a not-found error lists.
const maxListedNames = 20

// notFoundIn is the error for a name no root holds: it lists the plugin
// names the roots have (of kind, when set), from directory names only.
func notFoundIn(ref string, roots []string, kind PluginKind) error {
	if kind != "" {
		for _, d := range PluginDirs(roots, "") {
			if d.Name == ref {
				// The name is a plugin of another kind: say so, as
				// Resolve does for a path to one.
				return &Error{Kind: KindUnsupported, Plugin: cutRef(ref), Err: &WrongKindError{Got: d.Kind, Want: kind}}
			}
		}
	}
	names := PluginNames(roots, kind)
	what := "plugins"
	if kind != "" {
		what = string(kind) + " plugins"
	}
	var msg string
	switch {
	case len(roots) == 0:
		msg = "not a file, and no plugin roots to look in"
	case len(names) == 0:
		msg = fmt.Sprintf("not a file, and no %s in %s", what, strings.Join(roots, ", "))
	default:
		more := ""
		if len(names) > maxListedNames {
			more = fmt.Sprintf(" and %d more", len(names)-maxListedNames)
			names = names[:maxListedNames]
		}
		msg = fmt.Sprintf("not a file, and not one of the %s in %s (%s%s)", what, strings.Join(roots, ", "), strings.Join(names, ", "), more)
	}
	return &Error{Kind: KindNotFound, Plugin: cutRef(ref), Err: errors.New(msg)}
}

// PluginNames returns the names of the plugin directories under roots with
// Chipmunk's layout (of kind, when not ""), sorted and without duplicates.
// Nothing is loaded.
func PluginNames(roots []string, kind PluginKind) []string {
	seen := map[string]bool{}
	for _, d := range PluginDirs(roots, kind) {
		seen[d.Name] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// cutRef bounds a user's reference in an error (printable, at most 200
// bytes).
func cutRef(ref string) string { return cutText(ref, 200) }

// cutText makes s printable (invalid UTF-8 and control characters become
// '?') and cuts it to at most max bytes, marking a cut with "…".
func cutText(s string, max int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}
