package component

import (
	"regexp"
)

// dedupSuffix matches the " [vN]" suffix wit-component gives the second and
// later imports of the same WASI function (a Go wasip1 module imports
// fd_write twice, for example); the adapter would resolve them all to the
// same function.
var dedupSuffix = regexp.MustCompile(` \[v[0-9]+\]$`)

// NormalizeWASIImports returns core with every `wasi_snapshot_preview1`
// import named "f [vN]" renamed to "f", so that the host's WASI module
// satisfies it (core wasm allows duplicate imports). It returns core itself
// when nothing needs renaming.
func NormalizeWASIImports(core []byte) ([]byte, error) {
	if len(core) < 8 {
		return nil, ErrNotWasm
	}
	r := newReader(core, 0)
	r.pos = 8
	for !r.eof() {
		start := r.pos
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		body, err := r.bytes(int(size))
		if err != nil {
			return nil, err
		}
		if id != 2 {
			continue
		}
		newBody, changed, err := renameImports(body, start)
		if err != nil || !changed {
			return core, err
		}
		out := make([]byte, 0, len(core))
		out = append(out, core[:start]...)
		out = append(out, 2)
		out = appendU32(out, uint32(len(newBody)))
		out = append(out, newBody...)
		out = append(out, core[r.pos:]...)
		return out, nil
	}
	return core, nil
}

func renameImports(body []byte, base int) ([]byte, bool, error) {
	r := newReader(body, base)
	n, err := r.count(3)
	if err != nil {
		return nil, false, err
	}
	out := appendU32(make([]byte, 0, len(body)), uint32(n))
	changed := false
	for i := 0; i < n; i++ {
		mod, err := r.name()
		if err != nil {
			return nil, false, err
		}
		name, err := r.name()
		if err != nil {
			return nil, false, err
		}
		descStart := r.pos
		if err := skipImportDesc(r); err != nil {
			return nil, false, err
		}
		if mod == "wasi_snapshot_preview1" && dedupSuffix.MatchString(name) {
			name = dedupSuffix.ReplaceAllString(name, "")
			changed = true
		}
		out = appendName(out, mod)
		out = appendName(out, name)
		out = append(out, body[descStart:r.pos]...)
	}
	return out, changed, nil
}

func skipImportDesc(r *reader) error {
	kind, err := r.byte()
	if err != nil {
		return err
	}
	switch kind {
	case 0x00: // func: type index
		return r.skipLEB()
	case 0x01: // table: reftype, limits
		if _, err := r.byte(); err != nil {
			return err
		}
		return skipLimits(r)
	case 0x02: // memory: limits
		return skipLimits(r)
	case 0x03: // global: valtype, mutability
		if _, err := r.byte(); err != nil {
			return err
		}
		_, err := r.byte()
		return err
	case 0x04: // tag: attribute, type index
		if _, err := r.byte(); err != nil {
			return err
		}
		return r.skipLEB()
	}
	return r.errf("unknown import kind 0x%02x", kind)
}

func skipLimits(r *reader) error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if err := r.skipLEB(); err != nil {
		return err
	}
	if flags&1 != 0 {
		return r.skipLEB()
	}
	return nil
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}
