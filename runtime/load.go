package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/runtime/internal/component"
	"github.com/chiphost/chiphost/runtime/internal/interrupt"
	"github.com/chiphost/chiphost/wit"
)

// compiledPlugin is a checked, instrumented and compiled plugin binary,
// shared by every instance of it.
type compiledPlugin struct {
	name   string
	kind   PluginKind
	api    *apiVersion
	iface  *wit.Interface
	plan   *component.Plan
	module wazero.CompiledModule
	funcs  map[string]*exportFunc // by WIT function name
	memory string                 // main-module memory export
	// realloc is the main module's realloc export used for import results
	// ("" when the plugin imports nothing that needs it).
	realloc string
	// importSigs holds the signatures of the host imports that the plugin
	// lowers with a string encoding other than utf8, by interface and
	// function name; nil for most plugins.
	importSigs map[[2]string]*abi.Signature
	loops      int // loop headers instrumented for interruption
}

// exportFunc is one function of the plugin's exported interface.
type exportFunc struct {
	wit  *wit.Func
	sig  abi.Signature
	lift *component.Lift
}

// prepare decodes the binary, checks it against the supported WIT and the
// host's imports, instruments it for interruption and compiles it.
func (h *Host) prepare(ctx context.Context, name, hash string, bin []byte) (*compiledPlugin, error) {
	fail := func(kind ErrorKind, err error) error {
		return &Error{Kind: kind, Plugin: name, Op: "load", Err: err}
	}
	plan, err := component.Decode(bin)
	var refused *component.ImportsError
	if errors.As(err, &refused) {
		return nil, fail(KindUnsupported, importsError(bin, refused.Core, decoderRefusals(refused.Imports)))
	}
	if err != nil {
		// Not Wasm, malformed or a shape chiphost cannot run: unsupported
		// (abi is for a plugin that breaks the ABI while it runs).
		return nil, fail(KindUnsupported, err)
	}
	if len(plan.Exports) == 0 {
		return nil, fail(KindUnsupported, errors.New("the binary exports no interface (want chipmunk:parser/parser@0.1.0, chipmunk:bytesource/byte-source@0.1.0 or chipmunk:producer/producer@0.1.0)"))
	}
	exp := plan.Exports[0]
	kind, a, err := h.resolveExport(exp.Name)
	if err != nil {
		return nil, fail(KindUnsupported, err)
	}
	cp := &compiledPlugin{name: name, kind: kind, api: a, iface: a.exports[kind], plan: plan, funcs: map[string]*exportFunc{}}

	lifts := map[string]*component.Lift{}
	for _, l := range exp.Funcs {
		lifts[l.Name] = l
	}
	for _, f := range cp.iface.Funcs {
		l := lifts[f.Name]
		if l == nil {
			return nil, fail(KindUnsupported, fmt.Errorf("export %s: function %s is missing", exp.Name, f.Name))
		}
		if l.Type != nil {
			if d := wit.DiffFunc(f, l.Type); d != "" {
				return nil, fail(KindUnsupported, fmt.Errorf("export %s: function %s: %s", exp.Name, f.Name, d))
			}
		}
		if l.Memory != "" {
			cp.memory = l.Memory
		}
		sig := abi.ExportSignature(f)
		sig.Encoding = abiEncoding(l.Encoding)
		cp.funcs[f.Name] = &exportFunc{wit: f, sig: sig, lift: l}
	}

	// Host imports: every lowered import must be one we provide, with the
	// signature our WIT gives it.
	var unsupported []RefusedImport
	lowered := map[[2]string]*wit.Func{}
	for _, ci := range plan.CoreImports {
		if ci.Kind != component.Lowered {
			continue
		}
		l := ci.Lower
		iface := a.imports[l.Interface]
		var f *wit.Func
		if iface != nil {
			f = iface.Func(l.Func)
		} else if name, ok := component.WASIModule(l.Interface); ok {
			f = h.wasi.Func(name, l.Func)
		}
		if f == nil {
			unsupported = append(unsupported, RefusedImport{Interface: ci.Module, Name: ci.Name})
			continue
		}
		if l.Type != nil {
			if d := wit.DiffFunc(f, l.Type); d != "" {
				return nil, fail(KindUnsupported, fmt.Errorf("import %s.%s: %s", l.Interface, l.Func, d))
			}
		}
		if l.Realloc != "" {
			cp.realloc = l.Realloc
		}
		if l.Memory != "" && cp.memory == "" {
			cp.memory = l.Memory
		}
		lowered[[2]string{ci.Module, ci.Name}] = f
		if l.Encoding != component.UTF8 {
			sig := abi.ImportSignature(f)
			sig.Encoding = abiEncoding(l.Encoding)
			if cp.importSigs == nil {
				cp.importSigs = map[[2]string]*abi.Signature{}
			}
			host := l.Interface // the host module serving it
			if name, ok := component.WASIModule(l.Interface); ok {
				host = name + component.WASIHostVersion
			}
			cp.importSigs[[2]string{host, f.Name}] = &sig
		}
	}
	if len(unsupported) > 0 {
		return nil, fail(KindUnsupported, importsError(bin, plan.Core, unsupported))
	}

	core, loops, err := h.coreModule(hash, plan.Core)
	if err != nil {
		return nil, fail(KindUnsupported, err)
	}
	cp.loops = loops
	mod, err := h.rt.CompileModule(ctx, core)
	if err != nil {
		return nil, fail(KindUnsupported, fmt.Errorf("compile main module: %w", err))
	}
	if loops >= 0 {
		// Written only now that the code is compiled (and in wazero's
		// cache): its presence tells coreCached that a load is warm.
		h.saveCore(hash, core)
	}
	if err := cp.checkCoreSignatures(mod, lowered); err != nil {
		mod.Close(ctx)
		return nil, fail(KindUnsupported, err)
	}
	if cp.memory == "" {
		if _, ok := mod.ExportedMemories()["memory"]; ok {
			cp.memory = "memory"
		}
	}
	if _, ok := mod.ExportedMemories()[cp.memory]; !ok {
		mod.Close(ctx)
		return nil, fail(KindUnsupported, fmt.Errorf("main module exports no memory %q", cp.memory))
	}
	cp.module = mod
	h.log.Debug().Str("plugin", name).Str("kind", string(kind)).Int("loops", loops).Msg("compiled plugin")
	return cp, nil
}

// checkCoreSignatures compares the core signatures of the exports and
// imports with what the canonical ABI derives from our WIT, so that a
// mismatch is reported with names instead of failing at instantiation.
func (cp *compiledPlugin) checkCoreSignatures(mod wazero.CompiledModule, lowered map[[2]string]*wit.Func) error {
	exports := mod.ExportedFunctions()
	for name, f := range cp.funcs {
		def, ok := exports[f.lift.Core]
		if !ok {
			return fmt.Errorf("export %s: core function %q not found in the main module", name, f.lift.Core)
		}
		if !sameTypes(def.ParamTypes(), f.sig.Params) || !sameTypes(def.ResultTypes(), f.sig.Results) {
			return fmt.Errorf("export %s: core function %q has type %s, want %s", name, f.lift.Core,
				sigString(def.ParamTypes(), def.ResultTypes()), sigString(f.sig.Params, f.sig.Results))
		}
		if f.lift.PostReturn != "" {
			if _, ok := exports[f.lift.PostReturn]; !ok {
				return fmt.Errorf("export %s: post-return function %q not found in the main module", name, f.lift.PostReturn)
			}
		}
	}
	for _, def := range mod.ImportedFunctions() {
		m, n, _ := def.Import()
		f, ok := lowered[[2]string{m, n}]
		if !ok {
			continue
		}
		sig := abi.ImportSignature(f)
		if !sameTypes(def.ParamTypes(), sig.Params) || !sameTypes(def.ResultTypes(), sig.Results) {
			return fmt.Errorf("import %s.%s has type %s, want %s", m, n,
				sigString(def.ParamTypes(), def.ResultTypes()), sigString(sig.Params, sig.Results))
		}
	}
	return nil
}

// abiEncoding is the canonical ABI's name for a canon option's string
// encoding.
func abiEncoding(e component.Encoding) abi.Encoding {
	switch e {
	case component.UTF16:
		return abi.UTF16
	case component.Latin1UTF16:
		return abi.Latin1UTF16
	}
	return abi.UTF8
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sigString(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, " ") + ")"
	}
	return names(params) + " -> " + names(results)
}

// coreModule returns the main module as chiphost runs it: WASI import names
// normalised and interrupt checks injected. prepare caches the result on
// disk by the plugin's hash once it compiled (saveCore), which saves the
// rewrite (about 15 ms for a 2 MB Go module) on every warm load; loops is
// -1 for a module read from that cache.
func (h *Host) coreModule(hash string, core []byte) ([]byte, int, error) {
	if p := h.corePath(hash); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			return b, -1, nil
		}
	}
	core, err := component.NormalizeWASIImports(core)
	if err != nil {
		return nil, 0, fmt.Errorf("main module imports: %w", err)
	}
	var stats interrupt.Stats
	if !h.opts.NoInterruptChecks {
		core, stats, err = interrupt.Instrument(core)
		if err != nil {
			return nil, 0, fmt.Errorf("instrument main module: %w", err)
		}
	}
	return core, stats.Loops, nil
}

// corePath is where the instrumented main module of the binary with this
// hash is cached ("" when the caches are off).
func (h *Host) corePath(hash string) string {
	if h.meta == nil {
		return ""
	}
	variant := fmt.Sprintf("interrupt-v%d", interrupt.Version)
	if h.opts.NoInterruptChecks {
		variant = "plain"
	}
	return filepath.Join(h.opts.CacheDir, "core", variant, hash+"-"+h.meta.build+".wasm")
}

// saveCore caches an instrumented main module (best effort), replacing
// what other builds cached for the same binary, so that the cache holds one
// module per plugin however many builds share it.
func (h *Host) saveCore(hash string, core []byte) {
	p := h.corePath(hash)
	if p == "" {
		return
	}
	writeFileAtomic(p, core)
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(p), hash+"-*.wasm"))
	for _, o := range old {
		if o != p {
			os.Remove(o)
		}
	}
}
