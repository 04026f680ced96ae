package component

import "github.com/chiphost/chiphost/runtime/internal/wasmbin"

// Tags of core instance and instance definitions.
const (
	instantiateTag   = 0x00 // instantiate a module or component with arguments
	inlineExportsTag = 0x01 // an instance made of exports of other items
)

// coreInstances decodes the core instance section.
func (d *decoder) coreInstances(r *wasmbin.Reader) error {
	return r.Vec(2, func(int) error {
		ci, err := d.coreInstance(r)
		if err != nil {
			return err
		}
		d.coreInsts = append(d.coreInsts, ci)
		return nil
	})
}

func (d *decoder) coreInstance(r *wasmbin.Reader) (*coreInst, error) {
	at := r.Offset()
	tag, err := r.Byte()
	if err != nil {
		return nil, err
	}
	ci := &coreInst{module: -1}
	switch tag {
	case instantiateTag:
		if ci.module, err = d.sortIdx(r, sortCoreModule); err != nil {
			return nil, err
		}
		ci.args, err = d.coreInstantiateArgs(r)
	case inlineExportsTag:
		ci.exports, err = d.inlineExports(r, (*wasmbin.Reader).Name, readCoreSort)
	default:
		return nil, wasmbin.Errorf(at, "unknown core instance tag 0x%02x", tag)
	}
	return ci, err
}

// coreInstantiateArgs reads the arguments of a module instantiation: core
// instances, by import module name.
func (d *decoder) coreInstantiateArgs(r *wasmbin.Reader) ([]instArg, error) {
	var args []instArg
	err := r.Vec(3, func(int) error {
		name, err := r.Name()
		if err != nil {
			return err
		}
		at := r.Offset()
		if b, err := r.Byte(); err != nil {
			return err
		} else if b != byte(sortCoreInst&0xff) {
			return wasmbin.Errorf(at, "instantiate argument %q: sort 0x%02x is not instance", name, b)
		}
		inst, err := d.sortIdx(r, sortCoreInst)
		if err != nil {
			return err
		}
		args = append(args, instArg{name, inst})
		return nil
	})
	return args, err
}

// inlineExports reads a vector of (name, sortidx): the exports of an inline
// instance or the arguments of an instantiation.
func (d *decoder) inlineExports(r *wasmbin.Reader, readName func(*wasmbin.Reader) (string, error),
	readSort func(*wasmbin.Reader) (int, error)) ([]inlineExport, error) {
	var out []inlineExport
	err := r.Vec(3, func(int) error {
		name, err := readName(r)
		if err != nil {
			return err
		}
		srt, err := readSort(r)
		if err != nil {
			return err
		}
		idx, err := d.sortIdx(r, srt)
		if err != nil {
			return err
		}
		out = append(out, inlineExport{name, srt, idx})
		return nil
	})
	return out, err
}

// instances decodes the instance section.
func (d *decoder) instances(r *wasmbin.Reader) error {
	return r.Vec(2, func(int) error {
		ci, err := d.instance(r)
		if err != nil {
			return err
		}
		d.insts = append(d.insts, ci)
		return nil
	})
}

func (d *decoder) instance(r *wasmbin.Reader) (*compInst, error) {
	at := r.Offset()
	tag, err := r.Byte()
	if err != nil {
		return nil, err
	}
	ci := &compInst{}
	switch tag {
	case instantiateTag:
		ci.kind = iInstantiate
		if ci.comp, err = d.sortIdx(r, sortComponent); err != nil {
			return nil, err
		}
		ci.args, err = d.inlineExports(r, (*wasmbin.Reader).Name, readSort)
	case inlineExportsTag:
		ci.kind = iSynthetic
		ci.exports, err = d.inlineExports(r, externName, readSort)
	default:
		return nil, wasmbin.Errorf(at, "unknown instance tag 0x%02x", tag)
	}
	return ci, err
}
