package wasip2

import (
	"fmt"
	"io"
	"time"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/wit"
)

// Env is what the runtime gives one instance.
type Env struct {
	Stdout, Stderr io.Writer   // the instance's log writers
	Environ        [][2]string // the allowed host variables
	Args           []string
	Random         io.Reader
	// Sleep blocks for ns nanoseconds; it panics when the call is
	// interrupted (deadline, cancellation, Close), which ends the call.
	Sleep func(ns int64)
	// Refused reports a path the guest tried to leave its preopen with.
	Refused func(op, name, reason string)
}

// ExitError is returned (and traps the guest) when the plugin calls
// wasi:cli/exit.exit: the instance ends.
type ExitError struct {
	Failed bool // exit(err) rather than exit(ok)
}

func (e *ExitError) Error() string {
	if e.Failed {
		return "the plugin called wasi:cli/exit.exit with an error status"
	}
	return "the plugin called wasi:cli/exit.exit with a success status"
}

// Instance is the WASI state of one plugin instance: its handle tables and
// the host objects behind the handles. Not safe for concurrent use (an
// instance runs one call at a time).
type Instance struct {
	Tables abi.Tables
	env    Env
	start  time.Time // base of the monotonic clock
	objs   map[uint32]any
	next   uint32

	preopens []Preopen
	buf      []byte // see readBuffer
}

// NewInstance returns the WASI state of a new instance.
func NewInstance(env Env) *Instance {
	w := &Instance{env: env, start: time.Now(), objs: map[uint32]any{}}
	w.Tables.Destroy = func(_ *wit.Type, rep uint32) { w.release(rep) }
	return w
}

// Live returns the number of host objects the guest (or the host on its
// behalf) still holds.
func (w *Instance) Live() int { return len(w.objs) }

// Close releases every resource the guest still holds.
func (w *Instance) Close() { w.Tables.Close() }

// hold stores a host object and returns its rep.
func (w *Instance) hold(o any) abi.Value {
	w.next++
	for w.objs[w.next] != nil || w.next == 0 {
		w.next++
	}
	w.objs[w.next] = o
	return abi.Value{Num: uint64(w.next)}
}

// release ends a host object: an open file is closed, a file stream is
// no longer counted by its descriptor.
func (w *Instance) release(rep uint32) {
	switch o := w.objs[rep].(type) {
	case *descriptor:
		if o.file != nil {
			o.file.Close()
		}
	case *fileInput:
		o.parent.streams--
	case *outputStream:
		if f, ok := o.w.(*fileWriter); ok {
			f.parent.streams--
		}
	}
	delete(w.objs, rep)
}

// object returns the host object of rep as a T.
func object[T any](w *Instance, rep uint64, what string) (T, error) {
	o, ok := w.objs[uint32(rep)].(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%s: no such %s (rep %d)", what, what, rep)
	}
	return o, nil
}

// nanotime is the monotonic clock: nanoseconds since the instance started.
func (w *Instance) nanotime() uint64 { return uint64(time.Since(w.start)) }
