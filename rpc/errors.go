package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"

	"github.com/chiphost/chiphost/rpc/internal/quote"
	"github.com/chiphost/chiphost/rpc/protocol"
)

// Limits named in the data.code of CodeLimitReached errors.
const (
	limitSessions    = "sessions"
	limitMemory      = "memory"
	limitDescriptors = "descriptors"
	limitSearches    = "searches"
)

// limitError is CodeLimitReached for the named limit.
func limitError(which, msg string) *jsonrpc2.Error {
	return wireError(protocol.CodeLimitReached, msg, &protocol.ErrorData{Kind: string(runtime.KindLimit), Code: which, Detail: msg})
}

// outOfDescriptors reports whether err says the process (EMFILE) or the
// system (ENFILE) has no file descriptor left. Some layers (wazero) keep only
// the message of the error they report, so the message is checked too.
func outOfDescriptors(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		strings.Contains(err.Error(), "too many open files")
}

// descriptorsDetail explains a descriptor shortage without host paths.
func descriptorsDetail() string {
	msg := "too many open files: chiphost has used up its file descriptors"
	if n := descriptorLimit(); n > 0 {
		msg += fmt.Sprintf(" (ulimit -n %d)", n)
	}
	return msg + "; close sessions or raise the limit"
}

// fileOpenError maps the failure to open a file named in field: no
// descriptor left, or not found.
func fileOpenError(field string, err error) *jsonrpc2.Error {
	if outOfDescriptors(err) {
		return limitError(limitDescriptors, descriptorsDetail())
	}
	return notFound("%s: %v", field, pathError(err))
}

// Bounds of error texts. A value from the client quoted in a message is cut
// to maxEcho bytes (echo); every text of an error on the wire (message,
// detail, field errors) is cut to maxErrorText as a backstop for texts that
// embed input or plugin output, and data.errors keeps maxFieldErrors
// entries.
const (
	maxEcho        = quote.Max
	maxErrorText   = 4096
	maxFieldErrors = 20
)

// clip is quote.Clip: s cut to n bytes, the cut marked.
func clip(s string, n int) string { return quote.Clip(s, n) }

// echo is quote.Value: a client's value quoted, cut to maxEcho bytes.
func echo(v string) string { return quote.Value(v) }

// pathError bounds the path an *fs.PathError carries (the client's path for
// a source file); other errors are returned as they are.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && len(pe.Path) > maxEcho {
		return &fs.PathError{Op: pe.Op, Path: clip(pe.Path, maxEcho), Err: pe.Err}
	}
	return err
}

// bounded returns d with every text cut to the bounds above (d itself is
// not modified: its errors may be shared).
func bounded(d *protocol.ErrorData) *protocol.ErrorData {
	if d == nil {
		return nil
	}
	b := *d
	b.Plugin = clip(b.Plugin, maxEcho)
	b.Code = clip(b.Code, maxEcho)
	b.Detail = clip(b.Detail, maxErrorText)
	b.Hint = clip(b.Hint, maxErrorText)
	b.Imports = boundedImports(d.Imports)
	if len(d.Errors) > 0 {
		n := len(d.Errors)
		if n > maxFieldErrors {
			n = maxFieldErrors - 1 // and one entry counting the rest
		}
		b.Errors = make([]schema.FieldError, n, n+1)
		for i, fe := range d.Errors[:n] {
			b.Errors[i] = schema.FieldError{Field: clip(fe.Field, maxEcho), Message: clip(fe.Message, 2*maxEcho)}
		}
		if more := len(d.Errors) - n; more > 0 {
			b.Errors = append(b.Errors, schema.FieldError{Field: "…", Message: strconv.Itoa(more) + " more errors"})
		}
	}
	return &b
}

// Bounds of data.imports: at most maxImportGroups groups of at most
// maxImportFuncs functions each (the last one then counts the rest).
const (
	maxImportGroups = 64
	maxImportFuncs  = 100
)

// importGroups is the refused imports of ie for the wire.
func importGroups(ie *runtime.ImportsError) []protocol.ImportGroup {
	groups := ie.Groups()
	out := make([]protocol.ImportGroup, len(groups))
	for i, g := range groups {
		out[i] = protocol.ImportGroup{Interface: g.Interface, Kind: g.Kind, Reason: g.Reason, Functions: g.Names}
	}
	return out
}

// boundedImports returns groups cut to the bounds above, every text cut to
// maxEcho bytes.
func boundedImports(groups []protocol.ImportGroup) []protocol.ImportGroup {
	if groups == nil {
		return nil
	}
	n := min(len(groups), maxImportGroups)
	out := make([]protocol.ImportGroup, n)
	for i, g := range groups[:n] {
		fns := g.Functions
		if len(fns) > maxImportFuncs {
			fns = append(slices.Clip(fns[:maxImportFuncs-1]), strconv.Itoa(len(fns)-maxImportFuncs+1)+" more")
		}
		out[i] = protocol.ImportGroup{Interface: clip(g.Interface, maxEcho), Kind: g.Kind, Reason: clip(g.Reason, maxEcho), Functions: make([]string, len(fns))}
		for j, f := range fns {
			out[i].Functions[j] = clip(f, maxEcho)
		}
	}
	return out
}

// kindInternal is the error kind of chiphost's own bugs.
const kindInternal = "internal"

// wireError builds a JSON-RPC error with structured data.
// Every text is bounded (see bounded).
func wireError(code jsonrpc2.Code, msg string, data *protocol.ErrorData) *jsonrpc2.Error {
	e := jsonrpc2.NewError(code, clip(msg, maxErrorText))
	if data != nil {
		if b, err := json.Marshal(bounded(data)); err == nil {
			e.Data = b
		}
	}
	return e
}

// invalidParams is -32602 with a detail.
func invalidParams(format string, args ...any) *jsonrpc2.Error {
	msg := fmt.Sprintf(format, args...)
	return wireError(protocol.CodeInvalidParams, msg, &protocol.ErrorData{Kind: string(runtime.KindConfig), Detail: msg})
}

// notFound is CodeNotFound with a detail.
func notFound(format string, args ...any) *jsonrpc2.Error {
	msg := fmt.Sprintf(format, args...)
	return wireError(protocol.CodeNotFound, msg, &protocol.ErrorData{Kind: string(runtime.KindNotFound), Detail: msg})
}

// errorData describes err for the wire (error data and failed sessions).
// plugin names the plugin concerned when err does not.
func errorData(err error, plugin string) *protocol.ErrorData {
	if err == nil {
		return nil
	}
	d := &protocol.ErrorData{Kind: kindInternal, Plugin: plugin, Detail: err.Error()}
	var re *runtime.Error
	if errors.As(err, &re) {
		d.Kind = string(re.Kind)
		d.Code = re.Code
		if re.Plugin != "" {
			d.Plugin = re.Plugin
		}
	}
	var ie *runtime.ImportsError
	if errors.As(err, &ie) {
		d.Imports, d.Hint = importGroups(ie), ie.Hint()
	}
	var fe schema.Errors
	if errors.As(err, &fe) {
		d.Kind = string(runtime.KindConfig)
		d.Errors = fe
	}
	if outOfDescriptors(err) {
		d.Kind, d.Code, d.Detail = string(runtime.KindLimit), limitDescriptors, descriptorsDetail()
	}
	switch {
	case errors.Is(err, context.Canceled):
		if d.Kind == kindInternal {
			d.Kind = string(runtime.KindCancelled)
		}
	}
	return bounded(d)
}

// toWire maps any handler error onto its JSON-RPC error: this is the one
// place where runtime errors, config errors and cancellation get their
// codes. ctx is the request context: a request whose context was cancelled
// is answered with -32800 whatever the error.
func toWire(ctx context.Context, err error, plugin string) error {
	if err == nil {
		return nil
	}
	var we *jsonrpc2.Error
	if errors.As(err, &we) {
		return err // already coded; jsonrpc2 keeps the code and data through wrapping
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return wireError(protocol.CodeRequestCancelled, "request cancelled", &protocol.ErrorData{Kind: string(runtime.KindCancelled), Plugin: plugin, Detail: err.Error()})
	}
	d := errorData(err, plugin)
	code, msg := protocol.CodeInternalError, err.Error()
	switch d.Kind {
	case string(runtime.KindConfig):
		code = protocol.CodeInvalidParams
	case string(runtime.KindTrap), string(runtime.KindTimeout), string(runtime.KindOOM), string(runtime.KindABI), string(runtime.KindPluginError):
		code = protocol.CodePluginFailed
		if d.Code == "config" { // init-error.config: the plugin rejected its configuration
			code = protocol.CodeInvalidParams
		}
	case string(runtime.KindNotFound):
		code = protocol.CodeNotFound
	case string(runtime.KindIO):
		code = protocol.CodeIO
	case string(runtime.KindUnsupported):
		code = protocol.CodeUnsupported
		if d.Imports != nil {
			msg, _, _ = strings.Cut(msg, "\n") // the summary line; detail has the rest
		}
	case string(runtime.KindClosed):
		code = protocol.CodeSessionClosed
	case string(runtime.KindCancelled):
		code = protocol.CodeRequestCancelled
	case string(runtime.KindLimit):
		code, msg = protocol.CodeLimitReached, d.Detail
	}
	return wireError(code, msg, d)
}
