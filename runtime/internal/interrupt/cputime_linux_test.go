package interrupt

import (
	"context"
	"os"
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

// TestSumBytesCPURatios measures what BenchmarkSumBytes measures, in thread CPU time
// instead of wall time, with the three modes interleaved call by call. On a shared VM
// whose load swings, wall-time medians of separate runs differ by 2×; CPU time of
// interleaved calls gives stable ratios. Run with INTERRUPT_CPU_RATIOS=1 and -v.
func TestSumBytesCPURatios(t *testing.T) {
	if os.Getenv("INTERRUPT_CPU_RATIOS") == "" {
		t.Skip("set INTERRUPT_CPU_RATIOS=1 to measure")
	}
	runtime.LockOSThread() // wazero runs the guest on the calling thread
	defer runtime.UnlockOSThread()
	for _, g := range guestBuilds() {
		bin := g.build(t)
		inst, _, err := Instrument(bin)
		if err != nil {
			t.Fatal(err)
		}
		instantiate := instantiateWASI
		if g.name == "hand" {
			instantiate = instantiateCfg
		}
		cfg := wazero.NewRuntimeConfigCompiler()
		guests := []benchGuest{
			g.prep(t, instantiate(t, cfg, bin)),
			g.prep(t, instantiate(t, cfg, inst)),
			g.prep(t, instantiate(t, cfg.WithCloseOnContextDone(true), bin)),
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
				t0 := threadCPU(t)
				if err := bg.fn.CallWithStack(ctx, stack); err != nil {
					t.Fatal(err)
				}
				ns[k] = append(ns[k], float64(threadCPU(t)-t0))
				if stack[0] != bg.want {
					t.Fatalf("%s mode %d: sum = %d, want %d", g.name, k, stack[0], bg.want)
				}
			}
		}
		cancel()
		med := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
		plain, instr, cod := med(ns[0]), med(ns[1]), med(ns[2])
		mbs := func(ns float64) float64 { return benchBytes / ns * 1e3 }
		t.Logf("%s: plain %.0f MB/s, instrumented %.0f MB/s, closeOnDone %.0f MB/s; instrumented/plain %.2f, closeOnDone/plain %.3f",
			g.name, mbs(plain), mbs(instr), mbs(cod), plain/instr, plain/cod)
	}
}
