package wasip2

import (
	"context"
	"fmt"
	"strings"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/wit"
)

// Func implements one WASI function for one instance.
type Func func(ctx context.Context, w *Instance, args []abi.Value) (abi.Value, error)

// Host is the set of WASI 0.2 interfaces chiphost serves.
type Host struct {
	ifaces map[string]*wit.Interface // unversioned name -> WIT (0.2.0)
	order  []string
}

// Load parses the embedded WASI WIT.
func Load() (*Host, error) {
	res, err := wit.LoadWASI()
	if err != nil {
		return nil, err
	}
	h := &Host{ifaces: map[string]*wit.Interface{}}
	for _, w := range res.World("chiphost:wasip2/host").Imports {
		name, _, _ := strings.Cut(w.QualifiedName(), "@")
		h.ifaces[name] = w
		h.order = append(h.order, name)
	}
	return h, nil
}

// ModuleName is the core module name the host module of interface iface
// ("wasi:io/poll") has: the runtime renames every 0.2.x import to it.
func ModuleName(iface string) string { return iface + "@0.2" }

// Interfaces lists the unversioned names of the served interfaces.
func (h *Host) Interfaces() []string { return h.order }

// Funcs lists the functions of interface iface: those of its WIT, then a
// "[resource-drop]r" for each resource it defines.
func (h *Host) Funcs(iface string) []*wit.Func {
	it := h.ifaces[iface]
	if it == nil {
		return nil
	}
	out := append([]*wit.Func(nil), it.Funcs...)
	for _, n := range it.TypeNames {
		if t := it.Types[n]; t.Kind == wit.Resource && t.Owner == it.QualifiedName() {
			out = append(out, dropFunc(t))
		}
	}
	return out
}

func dropFunc(res *wit.Type) *wit.Func {
	return &wit.Func{Name: "[resource-drop]" + res.Name,
		Params: []wit.Param{{Name: "self", Type: &wit.Type{Kind: wit.Own, Elem: res}}}}
}

// Func returns the function name of interface iface, or nil.
func (h *Host) Func(iface, name string) *wit.Func {
	for _, f := range h.Funcs(iface) {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Impl returns the implementation of function f of interface iface.
// Functions without one (descriptor methods, which no guest can reach while
// no directory is preopened) fail with an error, which traps the guest.
func (h *Host) Impl(iface string, f *wit.Func) Func {
	if strings.HasPrefix(f.Name, "[resource-drop]") {
		return dropImpl
	}
	if impl := impls[iface+"."+f.Name]; impl != nil {
		return impl
	}
	if strings.HasPrefix(iface, "wasi:sockets/") {
		if impl := denied(f); impl != nil {
			return impl
		}
	}
	return func(context.Context, *Instance, []abi.Value) (abi.Value, error) {
		return abi.Value{}, fmt.Errorf("%s.%s is not implemented by chiphost", iface, f.Name)
	}
}

// dropImpl ends a resource the guest dropped: lifting its own handle moved
// it out of the guest's table, so the host now releases it. A descriptor
// dropped while streams on its file live traps, as in wasmtime (the
// streams would read and write a closed file).
func dropImpl(_ context.Context, w *Instance, args []abi.Value) (abi.Value, error) {
	rep := uint32(args[0].Num)
	d, isDescriptor := w.objs[rep].(*descriptor)
	if isDescriptor && d.streams > 0 {
		n := d.streams
		w.release(rep) // the handle has left the table: nothing else would close the file
		return abi.Value{}, fmt.Errorf("descriptor dropped while %d of its streams are alive: drop the streams first", n)
	}
	w.release(rep)
	return abi.Value{}, nil
}
