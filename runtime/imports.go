package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/runtime/internal/component"
	"github.com/chiphost/chiphost/runtime/internal/wasip2"
	"github.com/chiphost/chiphost/wit"
)

// hostFunc implements one imported WIT function. It runs on the goroutine
// of the guest call that invoked it.
type hostFunc func(ctx context.Context, in *instance, args []abi.Value) (abi.Value, error)

// hostFuncs maps "interface.function" (unversioned interface name) to its
// implementation. Every import of every supported API version must be here.
func hostFuncs() map[string]hostFunc {
	return map[string]hostFunc{
		"chipmunk:shared/logging.log":            logImport,
		"chipmunk:shared/sandbox.temp-directory": tempDirectoryImport,
	}
}

// instantiateHostImports registers one host module per imported interface
// of every supported API version. Lifting the arguments and lowering the
// results is generic: it follows the WIT signature through the canonical ABI.
func (h *Host) instantiateHostImports(ctx context.Context) error {
	impls := hostFuncs()
	done := map[string]bool{}
	for _, a := range h.apis {
		for qname, iface := range a.imports {
			if done[qname] || len(iface.Funcs) == 0 {
				continue
			}
			done[qname] = true
			unversioned, _, _ := strings.Cut(qname, "@")
			b := h.rt.NewHostModuleBuilder(qname)
			for _, f := range iface.Funcs {
				impl := impls[unversioned+"."+f.Name]
				if impl == nil {
					return fmt.Errorf("host import %s.%s has no implementation", qname, f.Name)
				}
				sig := abi.ImportSignature(f)
				b.NewFunctionBuilder().
					WithGoModuleFunction(importTrampoline(qname, f, sig, impl), sig.Params, sig.Results).
					WithName(f.Name).
					Export(f.Name)
			}
			if _, err := b.Instantiate(ctx); err != nil {
				return fmt.Errorf("instantiate host module %s: %w", qname, err)
			}
		}
	}
	return h.instantiateWASIImports(ctx)
}

// instantiateWASIImports registers one host module per WASI 0.2 interface,
// named "<interface>@0.2": the main module's imports of any 0.2.x version
// are renamed to it before compiling (component.NormalizeWASIImports).
func (h *Host) instantiateWASIImports(ctx context.Context) error {
	for _, iface := range h.wasi.Interfaces() {
		b := h.rt.NewHostModuleBuilder(iface + component.WASIHostVersion)
		for _, f := range h.wasi.Funcs(iface) {
			impl := h.wasi.Impl(iface, f)
			sig := abi.ImportSignature(f)
			wasiImpl := func(ctx context.Context, in *instance, args []abi.Value) (abi.Value, error) {
				return impl(ctx, in.wasi, args)
			}
			b.NewFunctionBuilder().
				WithGoModuleFunction(importTrampoline(iface+component.WASIHostVersion, f, sig, wasiImpl), sig.Params, sig.Results).
				WithName(f.Name).
				Export(f.Name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("instantiate host module %s: %w", iface, err)
		}
	}
	return nil
}

// importTrampoline adapts impl to the core calling convention. sig is the
// function's utf8 signature; a plugin that lowers the import with another
// string encoding has its own in cp.importSigs.
func importTrampoline(qname string, f *wit.Func, sig abi.Signature, impl hostFunc) api.GoModuleFunction {
	key := [2]string{qname, f.Name}
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		in, _ := ctx.Value(instanceKey{}).(*instance)
		if in == nil {
			panic(fmt.Errorf("import %s called outside a chiphost call", f.Name))
		}
		fail := func(err error) {
			in.hostErr = &Error{Kind: KindABI, Plugin: in.cp.name, Err: fmt.Errorf("import %s: %w", f.Name, err)}
			var exit *ExitError
			if errors.As(err, &exit) {
				in.hostErr = &Error{Kind: KindTrap, Plugin: in.cp.name, Err: exit}
			}
			panic(in.hostErr)
		}
		if in.wasi != nil {
			defer in.wasi.Tables.EndCall()
		}
		if in.inPostReturn {
			fail(errImportInPostReturn)
		}
		if in.inRealloc {
			fail(errImportInRealloc)
		}
		s := &sig
		if in.cp.importSigs != nil {
			if p := in.cp.importSigs[key]; p != nil {
				s = p
			}
		}
		in.importLifter.Reset()
		args, err := in.importLifter.LiftParams(in.mem, s, stack[:len(sig.Params)])
		if err != nil {
			fail(err)
		}
		res, err := impl(ctx, in, args)
		if err != nil {
			fail(err)
		}
		if _, err := in.lowerer.LowerResult(ctx, s, res, stack[:len(sig.Params)], stack[:0]); err != nil {
			if in.hostErr != nil { // the guest's realloc called an import (trapped there)
				panic(in.hostErr)
			}
			fail(err)
		}
	})
}

// ExitError is the cause of the KindTrap error of a call in which the
// plugin called wasi:cli/exit.exit: the instance ends, as after any trap.
type ExitError = wasip2.ExitError

var errImportInPostReturn = fmt.Errorf("called during post-return, where the canonical ABI forbids calling imports")

// errImportInRealloc traps an import called from the guest's realloc while
// the host lowers a value into the guest (the canonical ABI's may_leave is
// false then): a nested call would end the outer call's borrows and reuse
// the buffers the value being lowered lives in.
var errImportInRealloc = fmt.Errorf("called from the plugin's realloc while the host was lowering a value into the plugin, where the canonical ABI forbids calling imports")

// MaxImportBytes bounds what the host lifts from the plugin for one import
// call: the bytes of its strings and byte lists, plus 72 bytes (one lifted
// value) per element of other lists, field and payload. A call past it
// traps with an abi error instead of making the host allocate without
// bound (a poll over 10 million pollables lifted 3 GB). It admits poll
// over about 116,000 pollables and writes of 8 MiB.
const MaxImportBytes = 8 << 20

// logImport implements chipmunk:shared/logging.log(level, msg). The lifted
// string lives in the import lifter's arena, reused by the next import call:
// it is cloned before it leaves.
func logImport(_ context.Context, in *instance, args []abi.Value) (abi.Value, error) {
	in.emitLog(LogLevel(args[0].Num), FromLogImport, strings.Clone(args[1].Str))
	return abi.Value{}, nil
}

// tempDirectoryImport implements chipmunk:shared/sandbox.temp-directory():
// a per-instance directory, created on the first call, removed with the
// instance. Errors are returned to the plugin as result.err strings.
func tempDirectoryImport(_ context.Context, in *instance, _ []abi.Value) (abi.Value, error) {
	p, err := in.temp.get()
	if err != nil {
		return abi.Value{Num: 1, Elems: []abi.Value{{Str: err.Error()}}}, nil
	}
	return abi.Value{Num: 0, Elems: []abi.Value{{Str: p}}}, nil
}

// postReturnGuard is a listener on WASI functions that traps a guest
// calling WASI from a post-return function. It costs one check per WASI
// call and nothing elsewhere.
type postReturnGuard struct{}

func (postReturnGuard) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	return postReturnListener{paths: wasiPathParams[def.Name()]}
}

// postReturnListener also reports, for the functions that take paths, a
// path that climbs out of its directory: wazero's WASI layer refuses those
// itself (EPERM) before the sandbox's file system sees them, so without
// this the host log would not say what was refused.
type postReturnListener struct {
	paths [][2]int // (pointer, length) parameter indexes of the path arguments
}

func (l postReturnListener) Before(ctx context.Context, mod api.Module, def api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
	in, _ := ctx.Value(instanceKey{}).(*instance)
	if in != nil && in.inPostReturn {
		in.hostErr = &Error{Kind: KindABI, Plugin: in.cp.name, Err: fmt.Errorf("WASI function %s %w", def.Name(), errImportInPostReturn)}
		panic(in.hostErr)
	}
	if in != nil && len(l.paths) > 0 {
		for _, p := range l.paths {
			b, ok := mod.Memory().Read(uint32(params[p[0]]), uint32(params[p[1]]))
			if name := string(b); ok && !fs.ValidPath(path.Clean(name)) {
				in.refused(def.Name(), name, "the path climbs out of its directory")
			}
		}
	}
}

// wasiPathParams lists, for the WASI preview 1 functions that resolve
// paths, where their path arguments are (a symlink's target is checked by
// the sandbox's file system, not here).
var wasiPathParams = map[string][][2]int{
	"path_open":               {{2, 3}},
	"path_filestat_get":       {{2, 3}},
	"path_filestat_set_times": {{2, 3}},
	"path_create_directory":   {{1, 2}},
	"path_readlink":           {{1, 2}},
	"path_remove_directory":   {{1, 2}},
	"path_unlink_file":        {{1, 2}},
	"path_rename":             {{1, 2}, {4, 5}},
	"path_link":               {{2, 3}, {5, 6}},
	"path_symlink":            {{3, 4}},
}

func (postReturnListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (postReturnListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}
