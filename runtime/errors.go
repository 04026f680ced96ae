package runtime

import "errors"

// ErrorKind classifies an [Error] so that callers can act on it.
type ErrorKind string

// Error kinds. The first five are how a plugin can fail at run time; the
// others describe problems with a request or the environment.
const (
	KindTrap        ErrorKind = "trap"         // the guest trapped (unreachable, out-of-bounds access, stack overflow, …)
	KindTimeout     ErrorKind = "timeout"      // a call overran its deadline or its context was cancelled, and was interrupted
	KindOOM         ErrorKind = "oom"          // the guest hit its memory cap
	KindABI         ErrorKind = "abi"          // the guest broke the canonical ABI (bad pointer, invalid UTF-8, bad discriminant, import in post-return, …)
	KindPluginError ErrorKind = "plugin-error" // the plugin reported an error through its API (init-error, parse-error, source-error)
	KindConfig      ErrorKind = "config"       // a configuration value is invalid
	KindIO          ErrorKind = "io"           // reading or writing host files failed
	KindUnsupported ErrorKind = "unsupported"  // the binary uses a feature or shape chiphost does not support
	KindNotFound    ErrorKind = "not-found"    // no such plugin or file
	KindCancelled   ErrorKind = "cancelled"    // the caller's context was cancelled between calls
	KindClosed      ErrorKind = "closed"       // the instance was closed (after a trap, a timeout or Close)
	// KindLimit: a host-wide limit was reached (Error.Code names it: "memory"
	// for Options.MaxTotalMemory, "descriptors" for the process's open-file
	// limit); it goes away when instances or sessions are closed.
	KindLimit ErrorKind = "limit"
)

// Error is the error type of this package: it says which plugin failed, in
// which operation, and how.
type Error struct {
	Kind   ErrorKind
	Plugin string // plugin name (or path) the error is about, "" if none
	Op     string // operation, e.g. "parse", "init", "load"
	// Code is the plugin's own error case for KindPluginError
	// ("unrecoverable", "parse", "incomplete", "eof" for parse errors;
	// "config", "io", "unsupported", "other" for init and source errors),
	// and the limit reached for KindLimit.
	Code string
	Err  error
}

func (e *Error) Error() string {
	s := "plugin"
	if e.Plugin != "" {
		s += " " + e.Plugin
	}
	if e.Op != "" {
		s += ": " + e.Op
	}
	s += ": " + string(e.Kind)
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of the first *Error in err's chain, or "" if none.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// PluginErrorCode returns the plugin's error case (e.g. "incomplete") when err
// is a KindPluginError, or "".
func PluginErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind == KindPluginError {
		return e.Code
	}
	return ""
}
