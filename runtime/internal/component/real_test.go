package component

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/wit"
)

const pluginsDir = "../../../testdata/plugins"

// realFixtures lists every *.wasm under testdata/plugins (built by
// testdata/plugins/build.sh with foreign toolchains).
func realFixtures(t testing.TB) []string {
	var files []string
	_ = filepath.WalkDir(pluginsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "tools" || d.Name() == "oracle") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".wasm") {
			files = append(files, path)
		}
		return nil
	})
	return files
}

// negativeWant maps a keyword of a negative fixture's file name to the
// message Decode must give.
var negativeWant = []struct{ key, want string }{
	{"qjs", "composed component"},
	{"composed", "composed component"},
	{"memory64", "64-bit memory"},
	{"resource", "not supported"},
}

func TestRealComponents(t *testing.T) {
	files := realFixtures(t)
	if len(files) == 0 {
		t.Fatalf("no fixtures under %s: the committed test plugins are missing", pluginsDir)
	}
	res, err := wit.Load("0.1.0")
	if err != nil {
		t.Fatalf("loading the embedded WIT: %v", err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(pluginsDir, f)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			bin, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Decode(bin)
			if strings.HasPrefix(filepath.ToSlash(rel), "negative/") {
				checkNegative(t, filepath.Base(f), p, err)
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkPositive(t, rel, bin, p, res)
		})
	}
}

func checkNegative(t *testing.T, base string, p *Plan, err error) {
	for _, n := range negativeWant {
		if strings.Contains(base, n.key) {
			if err == nil {
				t.Fatalf("Decode succeeded, want %q", n.want)
			}
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), n.want) {
				t.Fatalf("error %q, want ErrUnsupported with %q", err, n.want)
			}
			t.Logf("rejected: %v", err)
			return
		}
	}
	// A negative fixture for a runtime rule (e.g. post-return calling an
	// import) decodes fine; say what happened.
	t.Logf("no decode expectation for %s: err=%v", base, err)
}

func checkPositive(t *testing.T, rel string, bin []byte, p *Plan, res *wit.Resolve) {
	if len(p.Exports) == 0 {
		t.Fatal("no exports")
	}
	kind := p.Exports[0].Name
	var wantFuncs []string
	switch {
	case strings.HasPrefix(kind, "chipmunk:parser/parser@"):
		wantFuncs = []string{"get-version", "get-config-schemas", "get-render-options", "init", "parse"}
		if strings.HasPrefix(rel, "bytesources") {
			t.Errorf("bytesource fixture exports %s", kind)
		}
	case strings.HasPrefix(kind, "chipmunk:bytesource/byte-source@"):
		wantFuncs = []string{"get-version", "get-config-schemas", "init", "read"}
		if strings.HasPrefix(rel, "parsers") {
			t.Errorf("parser fixture exports %s", kind)
		}
	case strings.HasPrefix(kind, "chipmunk:producer/producer@"):
		// Producers follow the producer draft's WIT layout.
		wantFuncs = []string{"get-version", "get-config-schemas", "get-render-options", "init", "produce-next"}
		if strings.HasPrefix(rel, "parsers") || strings.HasPrefix(rel, "bytesources") {
			t.Errorf("a parser or byte-source fixture exports %s", kind)
		}
		draft, err := wit.LoadProducerDraft()
		if err != nil {
			t.Fatal(err)
		}
		res = draft
	default:
		t.Fatalf("Exports[0] = %q: not a Chipmunk plugin interface", kind)
	}
	if p.IsCoreModule != strings.HasSuffix(rel, ".core.wasm") {
		t.Errorf("IsCoreModule = %v", p.IsCoreModule)
	}
	if len(p.Core) < 8 || string(p.Core[:4]) != "\x00asm" || p.Core[4] != 1 {
		t.Fatalf("Core is not a core module")
	}
	if m, err := parseCore(p.Core, 0); err != nil {
		t.Fatalf("Core does not parse: %v", err)
	} else if _, ok := m.export("memory"); !ok {
		t.Errorf("main module exports no memory")
	}
	mains := 0
	for _, m := range p.Modules {
		if m.Role == Main {
			mains++
			if m.Size != len(p.Core) {
				t.Errorf("main module size %d, Core %d", m.Size, len(p.Core))
			}
		}
	}
	if mains != 1 {
		t.Errorf("Modules = %+v: want exactly one main", p.Modules)
	}
	var iface *wit.Interface
	if res != nil {
		iface = res.Interface(kind)
		if iface == nil {
			t.Errorf("wit has no interface %s", kind)
		}
	}
	// Fixtures built with another string encoding say so in their names;
	// wit-component gives the option only to functions that have strings.
	wantEnc, withEnc := UTF8, 0
	switch {
	case strings.Contains(rel, "latin1"):
		wantEnc = Latin1UTF16
	case strings.Contains(rel, "utf16"):
		wantEnc = UTF16
	}
	for _, name := range wantFuncs {
		l := p.Exports[0].Func(name)
		if l == nil {
			t.Errorf("no lift for %s", name)
			continue
		}
		if l.Core == "" || l.Memory == "" || l.Encoding != wantEnc && l.Encoding != UTF8 {
			t.Errorf("lift %s = %+v", name, l)
		}
		if l.Encoding == wantEnc {
			withEnc++
		}
		if p.IsCoreModule {
			if l.Type != nil {
				t.Errorf("lift %s of a core module has a type", name)
			}
			continue
		}
		if l.Type == nil {
			t.Errorf("lift %s has no type", name)
			continue
		}
		if iface != nil {
			if wf := iface.Func(name); wf == nil {
				t.Errorf("wit %s has no function %s", kind, name)
			} else if d := wit.DiffFunc(wf, l.Type); d != "" {
				t.Errorf("lift %s: type differs from the WIT: %s", name, d)
			}
		}
	}
	if withEnc == 0 {
		t.Errorf("no lift has string-encoding=%s", wantEnc)
	}
	for _, ci := range p.CoreImports {
		switch ci.Kind {
		case WASI:
			if ci.Module != "wasi_snapshot_preview1" {
				t.Errorf("WASI import from %q", ci.Module)
			}
		case Lowered:
			if iface, ok := WASIModule(ci.Lower.Interface); ok {
				checkWASILower(t, ci, iface)
				continue
			}
			if !strings.HasPrefix(ci.Lower.Interface, "chipmunk:shared/") {
				t.Errorf("lowered import %+v", ci.Lower)
			}
			if p.IsCoreModule || res == nil {
				continue
			}
			if wi := res.Interface(ci.Lower.Interface); wi != nil {
				if wf := wi.Func(ci.Lower.Func); wf == nil || ci.Lower.Type == nil {
					t.Errorf("import %s %s: not in the WIT or untyped", ci.Module, ci.Name)
				} else if d := wit.DiffFunc(wf, ci.Lower.Type); d != "" {
					t.Errorf("import %s %s: %s", ci.Module, ci.Name, d)
				}
			}
			if ci.Lower.Memory == "" {
				t.Errorf("import %s %s: no memory option", ci.Module, ci.Name)
			}
		default:
			t.Errorf("core import %+v unclassified", ci)
		}
	}
	t.Logf("%s: %d modules, main %d bytes, %d core imports, initialize %q", kind, len(p.Modules), len(p.Core), len(p.CoreImports), p.Initialize)
}

// checkWASILower checks a lowered WASI 0.2 import against the WIT chiphost
// serves (wit/wasip2).
func checkWASILower(t *testing.T, ci CoreImport, iface string) {
	t.Helper()
	res, err := wit.LoadWASI()
	if err != nil {
		t.Fatal(err)
	}
	wi := res.Interface(iface + "@0.2.0")
	if wi == nil {
		t.Errorf("import %s %s: interface not in wit/wasip2", ci.Module, ci.Name)
		return
	}
	if ci.Lower.Type == nil { // a bare core module: the runtime checks the name, wazero the signature
		if wi.Func(ci.Name) == nil && !strings.HasPrefix(ci.Name, "[resource-drop]") {
			t.Errorf("import %s %s: not in wit/wasip2", ci.Module, ci.Name)
		}
		return
	}
	if r, ok := strings.CutPrefix(ci.Name, "[resource-drop]"); ok {
		p := ci.Lower.Type.Params
		if wi.Types[r] == nil || len(p) != 1 || p[0].Type.Kind != wit.Own || p[0].Type.Elem.Name != r {
			t.Errorf("import %s %s: %+v", ci.Module, ci.Name, ci.Lower.Type)
		}
		return
	}
	if wf := wi.Func(ci.Name); wf == nil {
		t.Errorf("import %s %s: not in wit/wasip2", ci.Module, ci.Name)
	} else if d := wit.DiffFunc(wf, ci.Lower.Type); d != "" {
		t.Errorf("import %s %s: %s", ci.Module, ci.Name, d)
	}
}
