package component

import (
	"fmt"
	"strings"
)

// RefusedImport is one import of the main core module that the decoder
// cannot serve: a direct WASI preview 2 import, a resource function, a
// world-level function, a non-function import, and the like.
type RefusedImport struct {
	Module string // core import module: an interface name such as "wasi:io/streams@0.2.10", or "$root"
	Name   string // core import name: a function such as "[method]output-stream.write"
	Why    string // what is not supported, e.g. "WASI version other than 0.2.x"
}

// ImportsError lists every main-module import the decoder refuses. It
// matches ErrUnsupported; the runtime turns it into a summary a person can
// act on.
type ImportsError struct {
	Module  int    // index of the main core module
	Core    []byte // the main core module's bytes (for its producers section)
	Imports []RefusedImport
}

func (e *ImportsError) Error() string {
	parts := make([]string, len(e.Imports))
	for i, im := range e.Imports {
		parts[i] = fmt.Sprintf("%q %q (%s)", im.Module, im.Name, im.Why)
	}
	return fmt.Sprintf("component: core module %d: unsupported imports: %s", e.Module, strings.Join(parts, ", "))
}

// Is makes ImportsError match ErrUnsupported.
func (e *ImportsError) Is(target error) bool { return target == ErrUnsupported }
