package component

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// externdesc kinds: what an import or an instance type export declares.
const (
	externCoreModule = 0x00
	externFunc       = 0x01
	externValue      = 0x02
	externType       = 0x03
	externComponent  = 0x04
	externInstance   = 0x05
)

// externName reads an importname' or exportname' (0x00 name, or 0x01 name
// followed by a version suffix, which is ignored).
func externName(r *wasmbin.Reader) (string, error) {
	at := r.Offset()
	tag, err := r.Byte()
	if err != nil {
		return "", err
	}
	switch tag {
	case 0x00:
		return r.Name()
	case 0x01:
		n, err := r.Name()
		if err != nil {
			return "", err
		}
		_, err = r.Name()
		return n, err
	}
	return "", wasmbin.Errorf(at, "unknown import/export name tag 0x%02x", tag)
}

// importSection decodes the import section.
func (d *decoder) importSection(r *wasmbin.Reader) error {
	return r.Vec(3, func(int) error {
		at := r.Offset()
		name, err := externName(r)
		if err != nil {
			return err
		}
		kind, t, err := d.scope.externdesc(r)
		if err != nil {
			return fmt.Errorf("import %q: %w", name, err)
		}
		d.imports = append(d.imports, &importEntry{name: name, kind: kind, t: t})
		return d.addImport(at, name, kind, t)
	})
}

// addImport adds an import to the index space of its kind.
func (d *decoder) addImport(at int, name string, kind byte, t *ctype) error {
	switch kind {
	case externCoreModule:
		d.modules = append(d.modules, modEntry{})
	case externFunc:
		d.funcs = append(d.funcs, &compFunc{kind: fImport, name: name})
	case externValue:
		return unsupported("import %q: value imports are not supported", name)
	case externType:
		d.scope.types = append(d.scope.types, t)
	case externComponent:
		d.comps = append(d.comps, nestedComp{of: -1})
	case externInstance:
		if t.kind != ctInstance {
			return wasmbin.Errorf(at, "import %q: type is not an instance type", name)
		}
		d.insts = append(d.insts, &compInst{kind: iImport, name: name, t: t})
	}
	return nil
}

// exportSection decodes the export section.
func (d *decoder) exportSection(r *wasmbin.Reader) error {
	return r.Vec(3, func(int) error {
		at := r.Offset()
		name, err := externName(r)
		if err != nil {
			return err
		}
		srt, err := readSort(r)
		if err != nil {
			return err
		}
		idx, err := d.sortIdx(r, srt)
		if err != nil {
			return fmt.Errorf("export %q: %w", name, err)
		}
		if err := d.scope.optExterndesc(r); err != nil {
			return fmt.Errorf("export %q: %w", name, err)
		}
		d.exports = append(d.exports, inlineExport{name, srt, idx})
		return d.addExport(at, name, srt, idx)
	})
}

// addExport adds an export, which is also a definition, to the index space of
// its sort.
func (d *decoder) addExport(at int, name string, srt, idx int) error {
	switch srt {
	case sortFunc:
		d.funcs = append(d.funcs, &compFunc{kind: fExport, of: idx})
	case sortInstance:
		d.insts = append(d.insts, &compInst{kind: iExport, of: idx})
	case sortType:
		d.scope.types = append(d.scope.types, named(d.scope.types[idx], name))
	case sortComponent:
		d.comps = append(d.comps, nestedComp{of: idx})
	case sortCoreModule:
		d.modules = append(d.modules, modEntry{})
	default:
		return wasmbin.Errorf(at, "export %q of %s", name, sortName(srt))
	}
	return nil
}

// named returns a value type under a new name, or t itself if it is not a
// value type.
func named(t *ctype, name string) *ctype {
	if t.kind == ctResource && t.res != nil && t.res.Name == "" {
		t.res.Name = name // a resource is named by its first export
	}
	if t.kind != ctVal || t.val == nil {
		return t
	}
	c := *t.val
	c.Name = name
	return &ctype{kind: ctVal, val: &c}
}
