package component

import (
	"errors"
	"regexp"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// dedupSuffix matches the " [vN]" suffix wit-component gives the second and
// later imports of the same WASI function (a Go wasip1 module imports
// fd_write twice, for example); the adapter would resolve them all to the
// same function.
var dedupSuffix = regexp.MustCompile(` \[v[0-9]+\]$`)

// errFound stops the section walk at the import section.
var errFound = errors.New("import section found")

// WASIHostVersion is the version suffix of the host modules that serve WASI
// 0.2 imports: NormalizeWASIImports renames "wasi:io/poll@0.2.10" to
// "wasi:io/poll@0.2", so that one host module serves every 0.2.x version.
const WASIHostVersion = "@0.2"

// NormalizeWASIImports returns core with every `wasi_snapshot_preview1`
// import named "f [vN]" renamed to "f", so that the host's WASI module
// satisfies it (core wasm allows duplicate imports), and every import from a
// WASI 0.2.x interface moved to its "@0.2" host module. It returns core
// itself when nothing needs renaming.
func NormalizeWASIImports(core []byte) ([]byte, error) {
	if len(core) < wasmbin.Header {
		return nil, ErrNotWasm
	}
	var imports wasmbin.Section
	err := wasmbin.Walk(wasmbin.NewReader(core[wasmbin.Header:], wasmbin.Header), wasmbin.CoreSectionName,
		func(s wasmbin.Section) error {
			if s.ID != wasmbin.SecImport {
				return nil
			}
			imports = s
			return errFound
		})
	if err == nil {
		return core, nil // no import section
	}
	if err != errFound {
		return nil, markMalformed(err)
	}
	payload, changed, err := renameImports(imports)
	if err != nil || !changed {
		return core, markMalformed(err)
	}
	out := make([]byte, 0, len(core))
	out = append(out, core[:imports.Start]...)
	out = append(out, wasmbin.SecImport)
	out = wasmbin.AppendU32(out, uint32(len(payload)))
	out = append(out, payload...)
	return append(out, core[imports.End():]...), nil
}

// renameImports returns the payload of the import section s with the WASI
// names normalized, and whether any changed.
func renameImports(s wasmbin.Section) ([]byte, bool, error) {
	r := s.Reader()
	n, err := r.Count(3)
	if err != nil {
		return nil, false, err
	}
	out := wasmbin.AppendU32(make([]byte, 0, len(s.Payload)), uint32(n))
	changed := false
	for i := 0; i < n; i++ {
		mod, err := r.Name()
		if err != nil {
			return nil, false, err
		}
		name, err := r.Name()
		if err != nil {
			return nil, false, err
		}
		descStart := r.Pos()
		if _, err := r.ImportDesc(); err != nil {
			return nil, false, err
		}
		if mod == wasiPreview1 && dedupSuffix.MatchString(name) {
			name = dedupSuffix.ReplaceAllString(name, "")
			changed = true
		}
		if iface, ok := WASIModule(mod); ok && mod != iface+WASIHostVersion {
			mod = iface + WASIHostVersion
			changed = true
		}
		out = wasmbin.AppendName(out, mod)
		out = wasmbin.AppendName(out, name)
		out = append(out, s.Payload[descStart:r.Pos()]...)
	}
	return out, changed, nil
}
