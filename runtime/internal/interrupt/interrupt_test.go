package interrupt

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/chiphost/chiphost/internal/testutil"
	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// Types shared by the hand-assembled modules.
var (
	typeVoid   = fnType(nil, nil)                      // 0: () -> ()
	typeUnary  = fnType([]byte{i32}, []byte{i32})      // 1: (i32) -> i32
	typeBinary = fnType([]byte{i32, i32}, []byte{i32}) // 2: (i32, i32) -> i32
	threeTypes = sec(secType, vec(typeVoid, typeUnary, typeBinary))
)

// spinBody loops forever.
func spinBody() []byte { return body(0, opLoop, opEmpty, br(0), opEnd) }

// sumBody returns 0 + 1 + … + (n-1) with a while loop: locals 1 (i) and 2 (acc).
func sumBody() []byte {
	return body(2,
		opBlock, opEmpty, opLoop, opEmpty,
		lget(1), lget(0), opI32GeU, brIf(1),
		lget(2), lget(1), opI32Add, lset(2),
		incr(1),
		br(0),
		opEnd, opEnd,
		lget(2))
}

// nestedBody counts a*b with two nested loops: locals 2 (i), 3 (j), 4 (count).
func nestedBody() []byte {
	return body(3,
		opBlock, opEmpty, opLoop, opEmpty,
		lget(2), lget(0), opI32GeU, brIf(1),
		i32c(0), lset(3),
		opBlock, opEmpty, opLoop, opEmpty,
		lget(3), lget(1), opI32GeU, brIf(1),
		incr(4), incr(3),
		br(0),
		opEnd, opEnd,
		incr(2),
		br(0),
		opEnd, opEnd,
		lget(4))
}

// countdownBody carries the counter on the operand stack through a loop typed
// (i32) -> i32 (type index 1) and returns the number of iterations: locals 1 (iterations)
// and 2 (scratch).
func countdownBody() []byte {
	return body(2,
		lget(0),
		opLoop, 0x01,
		incr(1),
		i32c(1), opI32Sub, ltee(2), lget(2), brIf(0),
		opEnd,
		opDrop,
		lget(1))
}

// basicModule has no global section: spin, sum, nested and countdown.
func basicModule() []byte {
	return wasmModule(
		threeTypes,
		sec(secFunction, vec(u32(0), u32(1), u32(2), u32(1))),
		sec(secExport, vec(
			exportEntry("spin", kindFunc, 0),
			exportEntry("sum", kindFunc, 1),
			exportEntry("nested", kindFunc, 2),
			exportEntry("countdown", kindFunc, 3))),
		sec(secCode, vec(spinBody(), sumBody(), nestedBody(), countdownBody())),
	)
}

// globalsModule has defined globals (0: mutable counter, 1: const step) and a custom
// section between export and code. bump(n) adds step to counter n times.
func globalsModule() []byte {
	bump := body(1,
		opBlock, opEmpty, opLoop, opEmpty,
		lget(1), lget(0), opI32GeU, brIf(1),
		gget(0), gget(1), opI32Add, gset(0),
		incr(1),
		br(0),
		opEnd, opEnd,
		gget(0))
	return wasmModule(
		sec(secCustom, str("leading"), "kept"),
		threeTypes,
		sec(secFunction, vec(u32(0), u32(1))),
		sec(secMemory, vec(cat(0x00, u32(1)))),
		sec(secGlobal, vec(globalEntry(i32, true, 0), globalEntry(i32, false, 7))),
		sec(secExport, vec(
			exportEntry("spin", kindFunc, 0),
			exportEntry("bump", kindFunc, 1),
			exportEntry("counter", kindGlobal, 0),
			exportEntry("memory", kindMemory, 0))),
		sec(secCustom, str("between"), "kept too"),
		sec(secCode, vec(spinBody(), bump)),
	)
}

// importsModule imports two globals and one function from "env", defines one global and
// has no export section of its own besides its functions. The interrupt global must get
// index 3. scaled(n) returns base + n*step, counting in a loop, plus the defined global.
func importsModule() []byte {
	scaled := body(2,
		opBlock, opEmpty, opLoop, opEmpty,
		lget(1), lget(0), opI32GeU, brIf(1),
		lget(2), gget(1), opI32Add, lset(2),
		incr(1),
		br(0),
		opEnd, opEnd,
		lget(2), gget(0), opI32Add, gget(2), opI32Add)
	return wasmModule(
		threeTypes,
		sec(secImport, vec(
			importGlobal("env", "base", i32, false),
			cat(str("env"), str("noop"), kindFunc, u32(0)),
			importGlobal("env", "step", i32, true))),
		sec(secFunction, vec(u32(0), u32(1))),
		sec(secGlobal, vec(globalEntry(i32, false, 1000))),
		sec(secExport, vec(exportEntry("spin", kindFunc, 1), exportEntry("scaled", kindFunc, 2))),
		sec(secCode, vec(spinBody(), scaled)),
	)
}

// envModule provides the imports of importsModule.
func envModule() []byte {
	return wasmModule(
		sec(secType, vec(typeVoid)),
		sec(secFunction, vec(u32(0))),
		sec(secGlobal, vec(globalEntry(i32, false, 100), globalEntry(i32, true, 3))),
		sec(secExport, vec(
			exportEntry("base", kindGlobal, 0),
			exportEntry("step", kindGlobal, 1),
			exportEntry("noop", kindFunc, 0))),
		sec(secCode, vec(body(0))),
	)
}

// noExportsModule has a start section but neither globals nor exports: Instrument must
// create both sections before the start section.
func noExportsModule() []byte {
	return wasmModule(
		threeTypes,
		sec(secFunction, vec(u32(0))),
		sec(secStart, u32(0)),
		sec(secCode, vec(body(0))),
	)
}

type call struct {
	fn   string
	args []uint64
	want uint64
}

func TestInstrumentRun(t *testing.T) {
	tests := []struct {
		name      string
		bin       []byte
		env       bool // instantiate envModule as "env" first
		wantStats Stats
		wantIndex uint32 // index of the interrupt global
		calls     []call
		spin      string // export that loops forever, or ""
	}{
		{
			name:      "no global section",
			bin:       basicModule(),
			wantStats: Stats{Functions: 4, Loops: 5},
			wantIndex: 0,
			calls: []call{
				{"sum", []uint64{0}, 0},
				{"sum", []uint64{10}, 45},
				{"sum", []uint64{100000}, 704982704}, // 4999950000 mod 2^32
				{"nested", []uint64{7, 13}, 91},
				{"nested", []uint64{0, 13}, 0},
				{"countdown", []uint64{5}, 5},
			},
			spin: "spin",
		},
		{
			name:      "defined globals",
			bin:       globalsModule(),
			wantStats: Stats{Functions: 2, Loops: 2},
			wantIndex: 2,
			calls:     []call{{"bump", []uint64{6}, 42}},
			spin:      "spin",
		},
		{
			name:      "imported globals",
			bin:       importsModule(),
			env:       true,
			wantStats: Stats{Functions: 2, Loops: 2},
			wantIndex: 3,
			calls:     []call{{"scaled", []uint64{5}, 1115}},
			spin:      "spin",
		},
		{
			name:      "no export section",
			bin:       noExportsModule(),
			wantStats: Stats{},
			wantIndex: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stats, err := Instrument(tc.bin)
			if err != nil {
				t.Fatalf("Instrument: %v", err)
			}
			if stats != tc.wantStats {
				t.Errorf("stats = %+v, want %+v", stats, tc.wantStats)
			}
			if idx, ok := exportedGlobalIndex(t, out); !ok || idx != tc.wantIndex {
				t.Errorf("interrupt global index = %d (found %v), want %d", idx, ok, tc.wantIndex)
			}
			if _, _, err := Instrument(out); err == nil || !strings.Contains(err.Error(), "already exports") {
				t.Errorf("Instrument(instrumented) error = %v, want already exports", err)
			}

			ctx := context.Background()
			plain := instantiate(t, tc.bin, tc.env)
			inst := instantiate(t, out, tc.env)
			g, ok := inst.ExportedGlobal(ExportName).(api.MutableGlobal)
			if !ok {
				t.Fatalf("%s is not an exported mutable global", ExportName)
			}
			if g.Type() != api.ValueTypeI32 || g.Get() != 0 {
				t.Fatalf("%s: type %v value %d, want i32 0", ExportName, g.Type(), g.Get())
			}
			for _, c := range tc.calls {
				want, err := plain.ExportedFunction(c.fn).Call(ctx, c.args...)
				if err != nil || want[0] != c.want {
					t.Fatalf("plain %s%v = %v, %v; want %d", c.fn, c.args, want, err, c.want)
				}
				got, err := inst.ExportedFunction(c.fn).Call(ctx, c.args...)
				if err != nil || got[0] != c.want {
					t.Errorf("instrumented %s%v = %v, %v; want %d", c.fn, c.args, got, err, c.want)
				}
			}
			if tc.spin != "" {
				assertInterrupts(t, inst, tc.spin)
			}
		})
	}
}

func TestInstrumentImportedGlobalsUntouched(t *testing.T) {
	out, _, err := Instrument(importsModule())
	if err != nil {
		t.Fatal(err)
	}
	inst, env := instantiateWithEnv(t, out, true)
	assertInterrupts(t, inst, "spin")
	// Had the export pointed at an imported global, setting it would show in env.
	if got := env.ExportedGlobal("step").Get(); got != 3 {
		t.Errorf("env step = %d after the interrupt, want 3", got)
	}
	if got := inst.ExportedGlobal(ExportName).Get(); got != 1 {
		t.Errorf("%s = %d, want 1", ExportName, got)
	}
	// The flag is read when the countdown runs out, every yieldInterval loop iterations.
	if got, err := inst.ExportedFunction("scaled").Call(context.Background(), 2*yieldInterval); err == nil {
		t.Errorf("scaled after the interrupt = %v, want a trap while the flag is set", got)
	}
}

// instantiate compiles and instantiates bin on a fresh compiler runtime, after "env"
// when withEnv is set. The runtime is closed when the test ends.
func instantiate(t testing.TB, bin []byte, withEnv bool) api.Module {
	t.Helper()
	mod, _ := instantiateWithEnv(t, bin, withEnv)
	return mod
}

// instantiateWithEnv is instantiate that also returns the "env" module, or nil. The
// module is watched for entries into its "spin" export (see assertInterrupts).
func instantiateWithEnv(t testing.TB, bin []byte, withEnv bool) (mod, env api.Module) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	t.Cleanup(func() { rt.Close(ctx) })
	var err error
	if withEnv {
		if env, err = rt.InstantiateWithConfig(ctx, envModule(), wazero.NewModuleConfig().WithName("env")); err != nil {
			t.Fatalf("instantiate env: %v", err)
		}
	}
	w := newSpinWatch()
	if mod, err = rt.InstantiateWithConfig(w.context(ctx), bin, wazero.NewModuleConfig().WithName("")); err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	return &watchedModule{Module: mod, spinEntered: w}, env
}

// spinWatch is a wazero function listener factory: it signals each entry into a
// function exported as "spin", the explicit sign that a call is running guest code.
type spinWatch chan struct{}

func newSpinWatch() spinWatch { return make(spinWatch, 1) }

// context returns ctx with the watch as the listener factory of modules compiled
// with it.
func (w spinWatch) context(ctx context.Context) context.Context {
	return experimental.WithFunctionListenerFactory(ctx, w)
}

func (w spinWatch) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	if slices.Contains(def.ExportNames(), "spin") {
		return w
	}
	return nil
}

func (w spinWatch) Before(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
	select {
	case w <- struct{}{}:
	default:
	}
}

func (w spinWatch) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (w spinWatch) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// watchedModule is a module compiled with a spinWatch.
type watchedModule struct {
	api.Module
	spinEntered spinWatch
}

// assertInterrupts calls fn ("spin", which must loop forever) and, once the call has
// entered the guest, checks two things while it runs. First, a garbage collection
// completes: a collection stops the world, which waits for the guest's goroutine, so
// the guest must keep visiting Go (if it does not, the whole process stops, timers
// included, and the test binary hangs instead of failing, so there is no time limit to
// put here). Second, setting the interrupt flag from another goroutine makes the call
// trap; without the flag it would never return.
func assertInterrupts(t testing.TB, mod api.Module, fn string, args ...uint64) {
	t.Helper()
	w, ok := mod.(*watchedModule)
	if !ok || fn != "spin" {
		t.Fatalf("assertInterrupts needs a module from the test helpers and the spin export (got %T, %q)", mod, fn)
	}
	g := mod.ExportedGlobal(ExportName).(api.MutableGlobal)
	done := make(chan error, 1)
	go func() {
		_, err := mod.ExportedFunction(fn).Call(context.Background(), args...)
		done <- err
	}()
	testutil.Await(t, w.spinEntered, fn+" to be entered")
	gcDone := make(chan struct{})
	go func() {
		runtime.GC()
		close(gcDone)
	}()
	testutil.Await(t, gcDone, "a garbage collection while "+fn+" loops")
	select {
	case err := <-done:
		t.Fatalf("%s returned before the interrupt: %v", fn, err)
	default:
	}
	g.Set(1)
	if err := testutil.Await(t, done, fn+" to trap after the interrupt"); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("%s after interrupt: error %v, want an unreachable trap", fn, err)
	}
}

// exportedGlobalIndex finds the global index exported as ExportName.
func exportedGlobalIndex(t testing.TB, bin []byte) (uint32, bool) {
	t.Helper()
	r := wasmbin.NewReader(bin[8:], 8)
	for !r.Done() {
		id, _ := r.Byte()
		size, _ := r.U32()
		content, err := r.Bytes(int(size))
		if err != nil {
			t.Fatalf("bad section: %v", err)
		}
		if id != secExport {
			continue
		}
		er := wasmbin.NewReader(content, 0)
		n, _ := er.U32()
		for i := uint32(0); i < n; i++ {
			name, _ := er.Name()
			kind, _ := er.Byte()
			idx, _ := er.U32()
			if name == ExportName && kind == kindGlobal {
				return idx, true
			}
		}
	}
	return 0, false
}

func TestInstrumentKeepsOtherSections(t *testing.T) {
	in := globalsModule()
	out, _, err := Instrument(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range [][]byte{
		sec(secCustom, str("leading"), "kept"),
		sec(secCustom, str("between"), "kept too"),
		threeTypes,
		sec(secMemory, vec(cat(0x00, u32(1)))),
	} {
		if !bytes.Contains(out, keep) {
			t.Errorf("output lost section % x", keep)
		}
	}
	wantGlobal := sec(secGlobal, vec(globalEntry(i32, true, 0), globalEntry(i32, false, 7),
		globalEntry(i32, true, 0), globalEntry(i32, true, yieldInterval)))
	if !bytes.Contains(out, wantGlobal) {
		t.Errorf("output lacks global section % x", wantGlobal)
	}
}

func TestInstrumentRejects(t *testing.T) {
	tests := []struct {
		name string
		bin  []byte
		want string
	}{
		{
			name: "already exported",
			bin: wasmModule(
				sec(secGlobal, vec(globalEntry(i32, true, 0))),
				sec(secExport, vec(exportEntry("x", kindGlobal, 0), exportEntry(ExportName, kindGlobal, 0)))),
			want: `interrupt: export section: export 1: module already exports "chiphost:interrupt" (instrumented twice?)`,
		},
		{
			name: "already exported as a function",
			bin: wasmModule(threeTypes, sec(secFunction, vec(u32(0))),
				sec(secExport, vec(exportEntry(ExportName, kindFunc, 0))), sec(secCode, vec(body(0)))),
			want: `interrupt: export section: export 0: module already exports "chiphost:interrupt" (instrumented twice?)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Instrument(tc.bin)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}
