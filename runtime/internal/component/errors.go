package component

import (
	"errors"
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// Sentinel errors. Decode wraps them with the location of the failure, for
// example `component: section 8 (canon) entry 3: canon opcode 0x06: unsupported`,
// so callers test with errors.Is.
var (
	// ErrNotWasm: the input is neither a component (layer 1, version 0x0d)
	// nor a core module (layer 0, version 1).
	ErrNotWasm = errors.New("not a WebAssembly component or core module")

	// ErrMalformed: the binary is truncated, has a bad LEB128, a section
	// size that overruns its parent, or an index out of range. Every
	// *wasmbin.Error that Decode returns matches it.
	ErrMalformed = errors.New("malformed")

	// ErrUnsupported: the binary is well formed but uses a feature or shape
	// chiphost cannot run (composed components, exported resources, async,
	// WASI versions other than 0.2.x, memory64, ...).
	ErrUnsupported = errors.New("unsupported")
)

// unsupportedError carries a complete message and matches ErrUnsupported,
// so messages read "export parse: own<…> resource handle is not supported"
// rather than ending in a bare ": unsupported".
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string        { return e.msg }
func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupported }

func unsupported(format string, args ...any) error {
	return &unsupportedError{msg: fmt.Sprintf(format, args...)}
}

func isUnsupported(err error) bool {
	var u *unsupportedError
	return errors.As(err, &u)
}

// markMalformed makes an error of the binary reader match ErrMalformed, and
// end in ": malformed". The decoder reports what is wrong with the bytes as
// *wasmbin.Error; this is the one place that classifies them.
func markMalformed(err error) error {
	if err == nil || errors.Is(err, ErrMalformed) {
		return err
	}
	var e *wasmbin.Error
	if !errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%w: %w", err, ErrMalformed)
}
