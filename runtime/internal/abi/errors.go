package abi

import (
	"fmt"
	"strconv"
)

// Error is a canonical-ABI violation (when lifting from a guest), an invalid
// host value (when lowering), a malformed type, or a JSON value that does
// not match its type. Path names the value that failed, from the outermost
// value inwards: record fields and case names are separated by dots, list
// indexes are in brackets, tuple fields are numbered
// (e.g. "result.ok[3].value.some.message.columns[1]"). Path is "" when the
// outermost value itself failed.
type Error struct {
	Path string
	Msg  string
	Err  error // the cause, when the failure came from a call (realloc); may be nil
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "abi: " + e.Msg
	}
	return "abi: " + e.Path + ": " + e.Msg
}

// errorf builds an *Error with an empty path; callers on the way out prepend
// their path segments with [wrap] and [wrapIndex], so building paths costs
// nothing unless something fails.
func errorf(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// wrap prepends the name segment seg to err's path.
func wrap(err error, seg string) error {
	e, ok := err.(*Error)
	if !ok || seg == "" {
		return err
	}
	switch {
	case e.Path == "":
		e.Path = seg
	case e.Path[0] == '[':
		e.Path = seg + e.Path
	default:
		e.Path = seg + "." + e.Path
	}
	return err
}

// wrapIndex prepends the list index segment "[i]" to err's path.
func wrapIndex(err error, i int) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	seg := "[" + strconv.Itoa(i) + "]"
	if e.Path == "" || e.Path[0] == '[' {
		e.Path = seg + e.Path
	} else {
		e.Path = seg + "." + e.Path
	}
	return err
}

// causef builds an *Error for a failure of something the package called
// (the guest's realloc), keeping the cause for errors.Is and errors.As.
func causef(cause error, format string, args ...any) *Error {
	e := errorf(format, args...)
	e.Msg += ": " + cause.Error()
	e.Err = cause
	return e
}

// Unwrap returns the cause of the error, if any (for example the trap
// returned by the guest's realloc).
func (e *Error) Unwrap() error { return e.Err }
