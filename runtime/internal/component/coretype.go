package component

import "github.com/chiphost/chiphost/runtime/internal/wasmbin"

// Forms of core:type, and the declarators of a core module type.
const (
	coreModuleForm   = 0x50
	coreModuleImport = 0x00
	coreModuleType   = 0x01
	coreModuleAlias  = 0x02
	coreModuleExport = 0x03
)

// maxCoreTypeDepth bounds module types nested in module types.
const maxCoreTypeDepth = 2

// skipCoreType skips a core:type (functype or moduletype).
func skipCoreType(r *wasmbin.Reader, depth int) error {
	if depth > maxCoreTypeDepth {
		return r.Errorf("core module types nested too deep")
	}
	c, err := r.Byte()
	if err != nil {
		return err
	}
	switch c {
	case wasmbin.FuncForm:
		if _, err := r.SkipValTypes(); err != nil {
			return err
		}
		_, err := r.SkipValTypes()
		return err
	case coreModuleForm:
		return r.Vec(1, func(int) error { return skipModuleDecl(r, depth) })
	}
	return unsupported("core type 0x%02x (GC types) is not supported", c)
}

// skipModuleDecl skips one declaration of a core module type.
func skipModuleDecl(r *wasmbin.Reader, depth int) error {
	at := r.Offset()
	tag, err := r.Byte()
	if err != nil {
		return err
	}
	switch tag {
	case coreModuleImport: // module name, name, importdesc
		if _, err := r.Name(); err != nil {
			return err
		}
		return skipNamedDesc(r)
	case coreModuleExport: // name, importdesc
		return skipNamedDesc(r)
	case coreModuleType:
		return skipCoreType(r, depth+1)
	case coreModuleAlias:
		return skipCoreOuterAlias(r)
	}
	return wasmbin.Errorf(at, "unknown module type declaration 0x%02x", tag)
}

// skipNamedDesc skips a name and a core import descriptor.
func skipNamedDesc(r *wasmbin.Reader) error {
	if _, err := r.Name(); err != nil {
		return err
	}
	_, err := r.ImportDesc()
	return err
}

// skipCoreOuterAlias skips a core alias declarator: a sort, the outer target,
// a count and an index.
func skipCoreOuterAlias(r *wasmbin.Reader) error {
	if _, err := r.Byte(); err != nil {
		return err
	}
	at := r.Offset()
	if t, err := r.Byte(); err != nil {
		return err
	} else if t != 0x01 {
		return wasmbin.Errorf(at, "core alias target 0x%02x", t)
	}
	_, _, err := readOuter(r)
	return err
}
