package interrupt

import (
	"context"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"github.com/tetratelabs/wazero"
)

// threadCPU returns the CPU time used so far by the calling OS thread.
func threadCPU(t testing.TB) int64 {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkSumBytesCPURatios measures what BenchmarkSumBytes measures, in thread CPU
// time instead of wall time, with the three modes interleaved call by call. On a shared
// VM whose load swings, wall-time medians of separate runs differ by 2×; CPU time of
// interleaved calls gives stable ratios. One iteration is the whole measurement:
//
//	go test -run '^$' -bench SumBytesCPURatios -benchtime 1x -v ./runtime/internal/interrupt
func BenchmarkSumBytesCPURatios(b *testing.B) {
	for range b.N {
		sumBytesCPURatios(b)
	}
}

func sumBytesCPURatios(b *testing.B) {
	runtime.LockOSThread() // wazero runs the guest on the calling thread
	defer runtime.UnlockOSThread()
	for _, g := range guestBuilds() {
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
		guests := []benchGuest{
			g.prep(b, instantiate(b, cfg, bin)),
			g.prep(b, instantiate(b, cfg, inst)),
			g.prep(b, instantiate(b, cfg.WithCloseOnContextDone(true), bin)),
		}
		ctx, cancel := context.WithCancel(context.Background())
		ns := make([][]float64, len(guests))
		for round := 0; round < 15; round++ {
			for k, bg := range guests {
				if k == 2 && round%3 != 0 {
					continue // close-on-done is 10× slower: sample it less
				}
				stack := make([]uint64, 2)
				copy(stack, bg.args)
				t0 := threadCPU(b)
				if err := bg.fn.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
				ns[k] = append(ns[k], float64(threadCPU(b)-t0))
				if stack[0] != bg.want {
					b.Fatalf("%s mode %d: sum = %d, want %d", g.name, k, stack[0], bg.want)
				}
			}
		}
		cancel()
		med := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
		plain, instr, cod := med(ns[0]), med(ns[1]), med(ns[2])
		mbs := func(ns float64) float64 { return benchBytes / ns * 1e3 }
		b.Logf("%s: plain %.0f MB/s, instrumented %.0f MB/s, closeOnDone %.0f MB/s; instrumented/plain %.2f, closeOnDone/plain %.3f",
			g.name, mbs(plain), mbs(instr), mbs(cod), plain/instr, plain/cod)
	}
}
