package runtime

import (
	"context"
	"os"
)

// CompileInfo describes a plugin compilation that is about to happen or has
// just ended.
type CompileInfo struct {
	// Plugin is the plugin's name (its file name without .wasm).
	Plugin string
	// Size is the size of the plugin's binary in bytes.
	Size int64
	// Cached says that the compiled code is kept in the on-disk cache, so
	// later processes do not compile this binary again; false when the
	// caches are off.
	Cached bool
}

// CompileTrace observes the compilations that a call triggers: Host.Load,
// Host.LoadBytes and Host.Discover compile a plugin whose metadata is not
// cached, and Plugin.NewParser or Plugin.NewSource compile one whose
// metadata came from the cache. Only compilations that do real work are
// reported: a binary whose instrumented code is in the on-disk cache loads
// in milliseconds and is not. A call that waits for a compilation another
// call started is told too, so each caller can say why it waits.
//
// Attach a trace to a context with WithCompileTrace; the callbacks run on
// the goroutine of the call and must not block for long. A nil field is
// skipped.
type CompileTrace struct {
	// Start is called before the compilation begins.
	Start func(CompileInfo)
	// Done is called when it has ended, or when the call stopped waiting
	// for it because its context was cancelled (err is then the call's
	// KindCancelled error; the compile goes on); err is nil on success.
	Done func(CompileInfo, error)
}

type compileTraceKey struct{}

// WithCompileTrace returns a context whose calls into the Host and its
// plugins report compilations to t (replacing a trace ctx already has).
// This is per call rather than a Host option so that a server can tell
// each request about the compilations it waits for.
func WithCompileTrace(ctx context.Context, t *CompileTrace) context.Context {
	return context.WithValue(ctx, compileTraceKey{}, t)
}

// CompileTraceFrom returns the trace attached to ctx, or nil.
func CompileTraceFrom(ctx context.Context) *CompileTrace {
	t, _ := ctx.Value(compileTraceKey{}).(*CompileTrace)
	return t
}

func (t *CompileTrace) start(info CompileInfo) {
	if t != nil && t.Start != nil {
		t.Start(info)
	}
}

func (t *CompileTrace) done(info CompileInfo, err error) {
	if t != nil && t.Done != nil {
		t.Done(info, err)
	}
}

// coreCached reports whether the instrumented main module of the binary
// with this hash is in the on-disk cache. It is written only after the
// module compiled (prepare), when wazero has put the compiled code in its
// own cache next to it, so its presence means that loading skips both the
// instrumentation and the compilation.
func (h *Host) coreCached(hash string) bool {
	p := h.corePath(hash)
	if p == "" {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}
