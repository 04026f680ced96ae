package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/chiphost/chiphost/runtime"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

const iface = "chipmunk:parser/parser@0.1.0#"

// guestParser runs the string_parser core module directly on wazero,
// without chiphost's lift: each call copies the window in, runs the guest
// parse, reads only the consumed field of each record (the least a host
// must read to advance) and calls the post-return. Comparing it with the
// full runtime parse isolates the host side (lift, item building, driver).
type guestParser struct {
	rt                   wazero.Runtime
	mod                  api.Module
	realloc, parse, post api.Function
	stack                []uint64
	items                []runtime.Item
}

// stubImports defines every non-WASI function import of compiled as a
// host function that does nothing (results zero).
func stubImports(ctx context.Context, rt wazero.Runtime, compiled wazero.CompiledModule) error {
	byMod := map[string][]api.FunctionDefinition{}
	for _, f := range compiled.ImportedFunctions() {
		m, _, _ := f.Import()
		if m != wasi_snapshot_preview1.ModuleName {
			byMod[m] = append(byMod[m], f)
		}
	}
	for m, fs := range byMod {
		hb := rt.NewHostModuleBuilder(m)
		for _, f := range fs {
			_, name, _ := f.Import()
			hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
				clear(stack)
			}), f.ParamTypes(), f.ResultTypes()).Export(name)
		}
		if _, err := hb.Instantiate(ctx); err != nil {
			return err
		}
	}
	return nil
}

func newGuestParser(ctx context.Context, path string) (*guestParser, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	g := &guestParser{rt: rt, stack: make([]uint64, 4)}
	if err := g.init(ctx, bin); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return g, nil
}

func (g *guestParser) init(ctx context.Context, bin []byte) error {
	wasi_snapshot_preview1.MustInstantiate(ctx, g.rt)
	compiled, err := g.rt.CompileModule(ctx, bin)
	if err != nil {
		return err
	}
	if err := stubImports(ctx, g.rt, compiled); err != nil {
		return err
	}
	mod, err := g.rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		return err
	}
	g.mod = mod
	g.realloc = mod.ExportedFunction("cabi_realloc")
	g.parse = mod.ExportedFunction(iface + "parse")
	g.post = mod.ExportedFunction("cabi_post_" + iface + "parse")
	initFn := mod.ExportedFunction(iface + "init")
	if g.realloc == nil || g.parse == nil || g.post == nil || initFn == nil {
		return fmt.Errorf("%s: missing parser exports", mod.Name())
	}
	// init(level, list<config-item>): lossy = true, prefix = "".
	str := func(s string) (uint32, error) {
		p, err := g.alloc(ctx, uint32(len(s)), 1)
		if err == nil && !mod.Memory().WriteString(p, s) {
			err = fmt.Errorf("write out of range")
		}
		return p, err
	}
	items, err := g.alloc(ctx, 40, 4)
	if err != nil {
		return err
	}
	item := make([]byte, 40)
	for i, it := range []struct {
		id   string
		disc byte
	}{{"lossy", 0}, {"prefix", 3}} {
		p, err := str(it.id)
		if err != nil {
			return err
		}
		o := 20 * i
		binary.LittleEndian.PutUint32(item[o:], p)
		binary.LittleEndian.PutUint32(item[o+4:], uint32(len(it.id)))
		item[o+8] = it.disc
		if it.disc == 0 {
			item[o+12] = 1
		} else {
			binary.LittleEndian.PutUint32(item[o+12:], 1) // empty string: dummy pointer
		}
	}
	mod.Memory().Write(items, item)
	res, err := initFn.Call(ctx, 2, uint64(items), 2)
	if err != nil {
		return err
	}
	if b, _ := mod.Memory().ReadByte(uint32(res[0])); b != 0 {
		return fmt.Errorf("init returned an error")
	}
	return nil
}

func (g *guestParser) alloc(ctx context.Context, n, align uint32) (uint32, error) {
	g.stack[0], g.stack[1], g.stack[2], g.stack[3] = 0, 0, uint64(align), uint64(n)
	if err := g.realloc.CallWithStack(ctx, g.stack); err != nil {
		return 0, err
	}
	return uint32(g.stack[0]), nil
}

// call parses one window and reports each record's consumed bytes.
func (g *guestParser) call(ctx context.Context, data []byte, each func(consumed uint64)) error {
	p, err := g.alloc(ctx, uint32(len(data)), 1)
	if err != nil {
		return err
	}
	mem := g.mod.Memory()
	if !mem.Write(p, data) {
		return fmt.Errorf("write out of range")
	}
	g.stack[0], g.stack[1], g.stack[2], g.stack[3] = uint64(p), uint64(len(data)), 0, 0
	if err := g.parse.CallWithStack(ctx, g.stack); err != nil {
		return err
	}
	ret := uint32(g.stack[0])
	hdr, _ := mem.Read(ret, 12)
	if hdr[0] == 0 {
		list, n := binary.LittleEndian.Uint32(hdr[4:]), binary.LittleEndian.Uint32(hdr[8:])
		recs, ok := mem.Read(list, 96*n)
		if !ok {
			return fmt.Errorf("list out of range")
		}
		for i := uint32(0); i < n; i++ {
			each(binary.LittleEndian.Uint64(recs[96*i+88:]))
		}
	}
	g.stack[0] = uint64(ret)
	return g.post.CallWithStack(ctx, g.stack)
}

// Parse implements driver.Parser, so that driver.Run feeds the guest
// exactly as it feeds a plugin instance: each record becomes an Item with
// only its Consumed set (the driver counts those as skipped bytes).
func (g *guestParser) Parse(ctx context.Context, data []byte, _ *uint64) ([]runtime.Item, error) {
	g.items = g.items[:0]
	if err := g.call(ctx, data, func(consumed uint64) {
		g.items = append(g.items, runtime.Item{Consumed: consumed})
	}); err != nil {
		return nil, err
	}
	return g.items, nil
}

func (g *guestParser) close() { g.rt.Close(context.Background()) }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
