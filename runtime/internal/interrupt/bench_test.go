package interrupt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// benchBytes is the size of the guest buffer the tight loop sums.
const benchBytes = 16 << 20

// sumModule sums n bytes from address p with a do-while loop: one load, two adds, one
// compare and one back edge per byte. Memory: 257 pages, exported.
func sumModule() []byte {
	sum := body(2,
		lget(0), lget(1), opI32Add, lset(2),
		opLoop, opEmpty,
		lget(3), lget(0), opI32Ld8U, 0x00, 0x00, opI32Add, lset(3),
		lget(0), i32c(1), opI32Add, ltee(0),
		lget(2), opI32LtU, brIf(0),
		opEnd,
		lget(3))
	return wasmModule(
		threeTypes,
		sec(secFunction, vec(u32(2))),
		sec(secMemory, vec(cat(0x00, u32(benchBytes>>16+1)))),
		sec(secExport, vec(exportEntry("sum_bytes", kindFunc, 0), exportEntry("memory", kindMemory, 0))),
		sec(secCode, vec(sum)),
	)
}

// benchGuest is one instantiated guest ready to sum benchBytes bytes.
type benchGuest struct {
	fn   api.Function
	args []uint64 // arguments of fn
	want uint64   // expected sum
}

// guestBuilds are the guests of BenchmarkSumBytes. Each returns the module and a
// function that prepares an instance: fills benchBytes bytes and returns the call.
func guestBuilds() []struct {
	name  string
	build func(testing.TB) []byte
	prep  func(testing.TB, api.Module) benchGuest
} {
	return []struct {
		name  string
		build func(testing.TB) []byte
		prep  func(testing.TB, api.Module) benchGuest
	}{
		{"hand", func(testing.TB) []byte { return sumModule() }, prepHand},
		{"c-O2", func(t testing.TB) []byte { return buildCGuest(t, "-O2") }, prepC},
		{"go", buildGoGuest, prepGo},
	}
}

// wantSum is the sum of byte(i*7) for i < benchBytes, as the guests fill their buffers.
func wantSum() uint64 {
	var s uint64
	for i := 0; i < benchBytes; i++ {
		s += uint64(byte(i * 7))
	}
	return s
}

func prepHand(t testing.TB, mod api.Module) benchGuest {
	data := make([]byte, benchBytes)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if !mod.Memory().Write(0, data) {
		t.Fatal("memory write out of range")
	}
	return benchGuest{fn: mod.ExportedFunction("sum_bytes"), args: []uint64{0, benchBytes}, want: wantSum() & 0xffffffff}
}

func prepC(t testing.TB, mod api.Module) benchGuest {
	p, err := mod.ExportedFunction("fill").Call(context.Background(), benchBytes)
	if err != nil {
		t.Fatal(err)
	}
	return benchGuest{fn: mod.ExportedFunction("sum_bytes"), args: []uint64{p[0], benchBytes}, want: wantSum() & 0xffffffff}
}

func prepGo(t testing.TB, mod api.Module) benchGuest {
	if _, err := mod.ExportedFunction("fill").Call(context.Background(), benchBytes); err != nil {
		t.Fatal(err)
	}
	return benchGuest{fn: mod.ExportedFunction("sum_buf"), want: wantSum()}
}

// BenchmarkSumBytes sums 16 MiB of guest memory in a tight loop, three ways: the plain
// module, the instrumented module with the flag never set, and the plain module under
// WithCloseOnContextDone(true). Every call gets a cancellable context. Compare the MB/s
// of the modes of one guest from the same run.
func BenchmarkSumBytes(b *testing.B) {
	for _, g := range guestBuilds() {
		// The guest level has sub-benchmarks, so it runs once per -count and its
		// instances live until all three modes are measured.
		b.Run(g.name, func(b *testing.B) {
			bin := g.build(b)
			inst, _, err := Instrument(bin)
			if err != nil {
				b.Fatal(err)
			}
			instantiate := instantiateWASI
			if g.name == "hand" {
				instantiate = instantiateCfg
			}
			cfg := wazero.NewRuntimeConfigCompiler()
			modes := []struct {
				name  string
				guest benchGuest
			}{
				{"plain", g.prep(b, instantiate(b, cfg, bin))},
				{"instrumented", g.prep(b, instantiate(b, cfg, inst))},
				{"closeOnDone", g.prep(b, instantiate(b, cfg.WithCloseOnContextDone(true), bin))},
			}
			for _, m := range modes {
				b.Run(m.name, func(b *testing.B) { benchCall(b, m.guest) })
			}
		})
	}
}

// benchCall calls g b.N times with a cancellable context and checks the last result.
func benchCall(b *testing.B, g benchGuest) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stack := make([]uint64, 2)
	b.SetBytes(benchBytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(stack, g.args)
		if err := g.fn.CallWithStack(ctx, stack); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if stack[0] != g.want {
		b.Fatalf("sum = %d, want %d", stack[0], g.want)
	}
}

// instantiateCfg instantiates a module without imports on a runtime with cfg.
func instantiateCfg(t testing.TB, cfg wazero.RuntimeConfig, bin []byte) api.Module {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, bin)
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	return mod
}

// BenchmarkInstrument measures the rewrite itself on the Go wasip1 guest (about 2 MB).
func BenchmarkInstrument(b *testing.B) {
	bin := buildGoGuest(b)
	b.SetBytes(int64(len(bin)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Instrument(bin); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInstrumentFixture measures the rewrite on committed bare core modules built
// by clang (testdata/plugins/core), so that it needs no toolchain.
func BenchmarkInstrumentFixture(b *testing.B) {
	for _, name := range []string{"string_parser.core.wasm", "file_source.core.wasm"} {
		bin, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "plugins", "core", name))
		if err != nil {
			b.Fatalf("committed fixture: %v", err)
		}
		b.Run(strings.TrimSuffix(name, ".core.wasm"), func(b *testing.B) {
			b.SetBytes(int64(len(bin)))
			for b.Loop() {
				if _, _, err := Instrument(bin); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
