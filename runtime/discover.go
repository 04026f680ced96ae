package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Entry is one plugin directory found by Discover, valid or not.
type Entry struct {
	ID          string     // the plugin directory's absolute path (Chipmunk's plugin id)
	Name        string     // directory name
	Kind        PluginKind // from the parent directory (parsers/, bytesources/ or producers/)
	Dir         string
	WasmPath    string
	Title       string  // metadata title, or the directory name (see Metadata)
	Description *string // metadata description
	Readme      string  // path of README.md when present and at most 1 MiB
	Plugin      *Plugin // nil when invalid
	Err         error   // why the plugin is invalid
	Warnings    []string
}

// Valid reports whether the plugin loaded and passed validation.
func (e *Entry) Valid() bool { return e.Err == nil && e.Plugin != nil }

// kindDirs maps Chipmunk's type directories to plugin kinds.
var kindDirs = [...]struct {
	dir  string
	kind PluginKind
}{{"parsers", Parser}, {"bytesources", ByteSource}, {"producers", Producer}}

// kindOrder is the position of kind's type directory in kindDirs.
func kindOrder(kind PluginKind) int {
	for i, kd := range kindDirs {
		if kd.kind == kind {
			return i
		}
	}
	return len(kindDirs)
}

// DefaultRoot returns Chipmunk's plugin root, ~/.chipmunk/plugins.
func DefaultRoot() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".chipmunk", "plugins"), nil
}

// maxReadmeBytes is Chipmunk's limit for a plugin's README.md.
const maxReadmeBytes = 1 << 20

// Discover scans each root with Chipmunk's layout
// (<root>/parsers/<name>/<name>.wasm, optional <name>.toml and README.md;
// the same under bytesources/ and producers/) and loads every plugin it finds. Invalid
// plugins are returned with Err set, never hidden. Missing roots or type
// directories yield no entries. Unlike Chipmunk, hidden directories are
// skipped and the order is sorted by kind and name.
func (h *Host) Discover(ctx context.Context, roots []string) []*Entry {
	jobs := PluginDirs(roots, "")
	// Load in parallel, one worker per CPU: compiling dominates.
	out := make([]*Entry, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(goruntime.GOMAXPROCS(0), len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := jobs[i]
				out[i] = h.loadEntry(ctx, j.Path, j.Name, j.Kind)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	sort.SliceStable(out, func(i, j int) bool {
		if ki, kj := kindOrder(out[i].Kind), kindOrder(out[j].Kind); ki != kj {
			return ki < kj // parsers, byte sources, producers
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// PluginDir is a plugin directory found with Chipmunk's layout.
type PluginDir struct {
	Path string     // <root>/<type directory>/<name>
	Name string     // the directory's name: the plugin's name
	Kind PluginKind // from the type directory
}

// PluginDirs lists the plugin directories under roots with Chipmunk's
// layout (<root>/parsers/<name>/, <root>/bytesources/<name>/,
// <root>/producers/<name>/; of kind, when
// not ""), in root order, without loading anything. Missing roots or type
// directories, hidden directories and files are skipped. Discover loads
// these; a caller that watches roots for changes can list their files.
func PluginDirs(roots []string, kind PluginKind) []PluginDir {
	var out []PluginDir
	for _, root := range roots {
		for _, kd := range kindDirs {
			if kind != "" && kd.kind != kind {
				continue
			}
			dir := filepath.Join(root, kd.dir)
			des, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, de := range des {
				name := de.Name()
				if p := filepath.Join(dir, name); !strings.HasPrefix(name, ".") && isDir(p) {
					out = append(out, PluginDir{p, name, kd.kind})
				}
			}
		}
	}
	return out
}

func (h *Host) loadEntry(ctx context.Context, dir, name string, kind PluginKind) *Entry {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	e := &Entry{ID: abs, Name: name, Kind: kind, Dir: abs, Title: name}
	if !utf8.ValidString(name) {
		e.Err = &Error{Kind: KindUnsupported, Plugin: name, Op: "discover", Err: errors.New("plugin directory name is not valid UTF-8")}
		return e
	}
	e.WasmPath = filepath.Join(abs, name+".wasm")
	md := ReadMetadata(e.WasmPath)
	e.Title, e.Description = md.Title, md.Description
	e.Warnings = append(e.Warnings, md.Warnings...)
	if md.Missing {
		e.Warnings = append(e.Warnings, "metadata file not found: "+name+".toml")
	}
	if st, err := os.Stat(filepath.Join(abs, "README.md")); err == nil && st.Mode().IsRegular() && st.Size() <= maxReadmeBytes {
		e.Readme = filepath.Join(abs, "README.md")
	}
	if _, err := os.Stat(e.WasmPath); err != nil {
		e.Err = &Error{Kind: KindNotFound, Plugin: name, Op: "discover", Err: fmt.Errorf("plugin wasm file not found: %s", e.WasmPath)}
		return e
	}
	p, err := h.Load(ctx, e.WasmPath)
	if err != nil {
		e.Err = err
		return e
	}
	p.Name = name
	if p.Kind != kind {
		e.Err = &Error{Kind: KindUnsupported, Plugin: name, Op: "discover", Err: fmt.Errorf("plugin in %s/ exports a %s interface", kindDirName(kind), p.Kind)}
		return e
	}
	e.Plugin = p
	e.Warnings = append(e.Warnings, p.Warnings...)
	return e
}

func kindDirName(k PluginKind) string {
	for _, kd := range kindDirs {
		if kd.kind == k {
			return kd.dir
		}
	}
	return string(k)
}
