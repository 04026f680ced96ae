package runtime

import (
	"fmt"
	"slices"
	"strings"

	"github.com/chiphost/chiphost/runtime/internal/component"
)

// RefusedImport is one import of a plugin's code that chiphost does not
// provide.
type RefusedImport struct {
	// Interface is the interface the function belongs to, with its version
	// ("wasi:io/streams@0.2.10"); "" for a world-level function.
	Interface string
	// Name is the function as the component names it
	// ("[method]output-stream.write", "poll").
	Name string
	// Reason says what is not supported when it is more than "chiphost
	// does not provide it" (e.g. "exported resources are not supported");
	// "" otherwise.
	Reason string
}

// ImportsError is the Err of a KindUnsupported *Error (Op "load") when a
// plugin's code imports functions chiphost does not provide. Its message is
// one summary line (how many imports, of what kind), then the imports
// grouped by interface, then a hint when one is known to help.
type ImportsError struct {
	Imports []RefusedImport
	// Toolchain says what built the plugin, from its producers sections
	// (may be empty); it selects the hint.
	Toolchain Toolchain
}

// Toolchain is what a plugin's producers sections say about its build.
type Toolchain struct {
	Languages   []string // of the component and of its main core module ("JavaScript", "Rust 1.88.0")
	ProcessedBy []string // of the component ("ComponentizeJS 0.23.0", "wit-component 0.259.0")
}

// ImportGroup is the refused imports of one interface that share a reason.
type ImportGroup struct {
	Interface string   // with its version; "" for world-level functions
	Kind      string   // ImportKind of Interface
	Reason    string   // the imports' Reason
	Names     []string // function names, in import order
}

// Bounds of the message, whatever the binary holds: at most
// maxImportLines interfaces of at most maxImportLine bytes each, every name
// printable and cut to maxImportName bytes.
const (
	maxImportLines = 40
	maxImportLine  = 1000
	maxImportName  = 120
)

func (e *ImportsError) Error() string {
	var b strings.Builder
	b.WriteString(e.Summary())
	groups := e.Groups()
	for i, g := range groups {
		if i == maxImportLines {
			fmt.Fprintf(&b, "\n  … %d more", len(groups)-i)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(cutText(g.String(), maxImportLine))
	}
	if h := e.Hint(); h != "" {
		b.WriteString("\nhint: ")
		b.WriteString(h)
	}
	return b.String()
}

// Summary is the first line of the message: how many imports chiphost
// does not provide, of which kind, from how many interfaces. For example
// "54 WASI 0.2 imports that chiphost does not provide (6 interfaces)".
func (e *ImportsError) Summary() string {
	kinds := map[string]int{}
	ifaces := map[string]bool{}
	var order []string
	for _, im := range e.Imports {
		k := ImportKind(im.Interface)
		if kinds[k] == 0 {
			order = append(order, k)
		}
		kinds[k]++
		ifaces[im.Interface] = true
	}
	n := len(e.Imports)
	plural := func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	where := plural(len(ifaces), "interface", "interfaces")
	if len(order) == 1 {
		return fmt.Sprintf("%s that chiphost does not provide (%s)", plural(n, order[0]+" import", order[0]+" imports"), where)
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%d %s", kinds[k], k)
	}
	return fmt.Sprintf("%s that chiphost does not provide (%s; %s)", plural(n, "import", "imports"), strings.Join(parts, ", "), where)
}

// ImportKind names the kind of an interface for people: "WASI 0.2" (the
// WASI release its version belongs to), "Chipmunk API", "world-level" for
// functions outside any interface, "other" for the rest.
func ImportKind(iface string) string {
	switch {
	case iface == "" || iface == "$root":
		return "world-level"
	case strings.HasPrefix(iface, "wasi:"):
		_, v, ok := strings.Cut(iface, "@")
		if major, rest, ok2 := strings.Cut(v, "."); ok && ok2 {
			minor, _, _ := strings.Cut(rest, ".")
			return "WASI " + major + "." + minor
		}
		return "WASI"
	case strings.HasPrefix(iface, "chipmunk:"):
		return "Chipmunk API"
	}
	return "other"
}

// Groups returns the imports grouped by interface and reason, in the order
// the interfaces first appear.
func (e *ImportsError) Groups() []ImportGroup {
	var groups []ImportGroup
	at := map[[2]string]int{}
	for _, im := range e.Imports {
		key := [2]string{im.Interface, im.Reason}
		i, ok := at[key]
		if !ok {
			i = len(groups)
			at[key] = i
			groups = append(groups, ImportGroup{Interface: im.Interface, Kind: ImportKind(im.Interface), Reason: im.Reason})
		}
		groups[i].Names = append(groups[i].Names, im.Name)
	}
	return groups
}

// String renders the group compactly: plain functions first, then each
// resource with its members, for example
// "wasi:io/poll@0.2.10: poll, pollable{block, drop}".
func (g ImportGroup) String() string {
	iface := cutText(g.Interface, maxImportName)
	if iface == "" || iface == "$root" {
		iface = "world"
	}
	var plain, resources []string
	members := map[string][]string{}
	for _, n := range g.Names {
		res, member := splitResourceFunc(cutText(n, maxImportName))
		if res == "" {
			plain = append(plain, n)
			continue
		}
		if members[res] == nil {
			resources = append(resources, res)
		}
		members[res] = append(members[res], member)
	}
	items := plain
	for _, r := range resources {
		items = append(items, r+"{"+strings.Join(members[r], ", ")+"}")
	}
	s := iface + ": " + strings.Join(items, ", ")
	if g.Reason != "" {
		s += " (" + cutText(g.Reason, maxImportName) + ")"
	}
	return s
}

// splitResourceFunc splits a component function name of a resource
// ("[method]R.f", "[static]R.f", "[constructor]R", "[resource-drop]R", and
// the async forms) into the resource and the member ("f", "constructor",
// "drop"); res is "" for plain functions.
func splitResourceFunc(name string) (res, member string) {
	if !strings.HasPrefix(name, "[") {
		return "", name
	}
	prefix, rest, ok := strings.Cut(name[1:], "]")
	if !ok {
		return "", name
	}
	switch prefix {
	case "constructor":
		return rest, "constructor"
	case "resource-drop", "resource-new", "resource-rep":
		return rest, strings.TrimPrefix(prefix, "resource-")
	}
	if r, m, ok := strings.Cut(rest, "."); ok {
		return r, m
	}
	return "", name
}

// importHint is advice shown when a refusal matches it. Hints must stay
// true of this host: when chiphost comes to provide a family of
// interfaces, the hint that tells people to avoid it goes.
type importHint struct {
	applies func(e *ImportsError) bool
	text    string
}

// importHints are tried in order; the first that applies is shown.
var importHints = []importHint{
	{
		applies: func(e *ImportsError) bool {
			return e.Toolchain.is("ComponentizeJS", "JavaScript") && e.onlyWASI("http")
		},
		text: "built with componentize-js? disable the http and fetch-event features (-d http fetch-event); -d http alone still imports wasi:http/types",
	},
	{
		applies: func(e *ImportsError) bool { return e.Toolchain.is("ComponentizeJS", "JavaScript") && e.anyWASI() },
		text: "built with componentize-js? chiphost serves WASI 0.2 cli, io, clocks, random and filesystem, not the interfaces " +
			"above: disable the features that import them (http: -d http fetch-event)",
	},
	{
		applies: func(e *ImportsError) bool { return e.Toolchain.is("", "Rust") && e.anyWASI() },
		text: "Rust? chiphost serves WASI 0.2 cli, io, clocks, random and filesystem, not the interfaces above: drop the " +
			"dependency that imports them, or build for wasm32-wasip1 (as cargo-component does) with the wasi_snapshot_preview1 reactor adapter",
	},
	{
		applies: (*ImportsError).anyWASI,
		text: "chiphost serves WASI preview 1 (through the adapter) and WASI 0.2 cli, io, clocks, random and filesystem, " +
			"not the interfaces above: build without them",
	},
}

// Hint returns advice for the refusal, or "".
func (e *ImportsError) Hint() string {
	for _, h := range importHints {
		if h.applies(e) {
			return h.text
		}
	}
	return ""
}

// anyWASI reports whether any refused import is a WASI one.
func (e *ImportsError) anyWASI() bool {
	for _, im := range e.Imports {
		if strings.HasPrefix(im.Interface, "wasi:") {
			return true
		}
	}
	return false
}

// onlyWASI reports whether every refused import is from one of the WASI
// packages named (wasi:PKG/...).
func (e *ImportsError) onlyWASI(pkgs ...string) bool {
	for _, im := range e.Imports {
		ns, _, _ := strings.Cut(strings.TrimPrefix(im.Interface, "wasi:"), "/")
		if !strings.HasPrefix(im.Interface, "wasi:") || !slices.Contains(pkgs, ns) {
			return false
		}
	}
	return len(e.Imports) > 0
}

// is reports whether the toolchain was processed by tool, or (when tool
// is "" or absent) names language.
func (t Toolchain) is(tool, language string) bool {
	for _, p := range t.ProcessedBy {
		if tool != "" && (p == tool || strings.HasPrefix(p, tool+" ")) {
			return true
		}
	}
	for _, l := range t.Languages {
		if l == language || strings.HasPrefix(l, language+" ") {
			return true
		}
	}
	return false
}

// importsError builds the ImportsError of a plugin binary bin whose main
// core module core imports refused.
func importsError(bin, core []byte, refused []RefusedImport) *ImportsError {
	outer, main := component.ReadProducers(bin), component.ReadProducers(core)
	tc := Toolchain{ProcessedBy: outer.Component["processed-by"]}
	tc.Languages = append(slices.Clip(outer.Component["language"]), main.Component["language"]...)
	return &ImportsError{Imports: refused, Toolchain: tc}
}

// decoderRefusals converts the decoder's refused imports.
func decoderRefusals(in []component.RefusedImport) []RefusedImport {
	out := make([]RefusedImport, len(in))
	for i, im := range in {
		out[i] = RefusedImport{Interface: im.Module, Name: im.Name, Reason: im.Why}
		if im.Module == "$root" {
			out[i].Interface = ""
		}
	}
	return out
}
