package bench

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/chiphost/chiphost/internal/benchkit"
)

// loopPasses is how many times the loop plugin hashes its input per call,
// so that the copy into the guest is a small part of a call.
const loopPasses = 8

// loopC is the source of the tight-loop parser (see its comment).
//
//go:embed scripts/loop.c
var loopC string

// buildLoop compiles loopC with clang-19 into dir/loop.wasm.
func buildLoop(ctx context.Context, dir string) (string, error) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		return "", fmt.Errorf("clang-19 not found: %w", err)
	}
	src := filepath.Join(dir, "loop.c")
	out := filepath.Join(dir, "loop.wasm")
	if err := os.WriteFile(src, []byte(loopC), 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, clang, "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", fmt.Sprintf("-DPASSES=%d", loopPasses), "-o", out, src)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("clang-19: %v: %s", err, b)
	}
	return out, nil
}

// directLoop runs the loop module's parse on wazero directly (no chiphost),
// with or without WithCloseOnContextDone, under a cancellable context.
type directLoop struct {
	rt    wazero.Runtime
	parse api.Function
	stack []uint64
	n     int
}

func newDirectLoop(ctx context.Context, bin, input []byte, closeOnDone bool) (*directLoop, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(closeOnDone))
	mod, err := rt.Instantiate(ctx, bin)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	res, err := mod.ExportedFunction("cabi_realloc").Call(ctx, 0, 0, 1, uint64(len(input)))
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	if !mod.Memory().Write(uint32(res[0]), input) {
		rt.Close(ctx)
		return nil, fmt.Errorf("write out of range")
	}
	return &directLoop{rt: rt, parse: mod.ExportedFunction(iface + "parse"), stack: []uint64{res[0], uint64(len(input)), 0, 0}, n: len(input)}, nil
}

func (d *directLoop) run(calls int) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ptr := d.stack[0]
		return benchkit.Timed(func() (sample, error) {
			for i := 0; i < calls; i++ {
				d.stack[0], d.stack[1], d.stack[2], d.stack[3] = ptr, uint64(d.n), 0, 0
				if err := d.parse.CallWithStack(ctx, d.stack); err != nil {
					return sample{}, err
				}
			}
			return sample{Bytes: uint64(calls * d.n * loopPasses), Calls: uint64(calls)}, nil
		})
	}
}
