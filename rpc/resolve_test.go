package rpc

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
	"github.com/chiphost/chiphost/runtime"
)

// TestResolveErrors maps each way runtime.Host.Resolve can refuse a
// reference onto its protocol error. The file descriptor case is the one
// TestDescriptorLimit meets only when no descriptor at all is left: the
// resolver's first open of the .wasm file fails, and that is the
// descriptor limit, not a missing plugin.
func TestResolveErrors(t *testing.T) {
	emfile := &runtime.Error{Kind: runtime.KindNotFound, Plugin: "p.wasm", Err: &fs.PathError{Op: "open", Path: "/plugins/p.wasm", Err: syscall.EMFILE}}
	for _, c := range []struct {
		name string
		err  error
		code jsonrpc2.Code
		msg  string
	}{
		{"descriptors", emfile, protocol.CodeLimitReached, "too many open files"},
		{"no such name", &runtime.Error{Kind: runtime.KindNotFound, Plugin: "nope", Err: errors.New("not a file, and no plugin roots to look in")}, protocol.CodeNotFound, `plugin "nope": no such plugin: not a file`},
		{"no such file", &runtime.Error{Kind: runtime.KindNotFound, Plugin: "nope", Err: errors.New("no such file")}, protocol.CodeNotFound, `plugin "nope": no such file`},
		{"wrong kind", &runtime.Error{Kind: runtime.KindUnsupported, Plugin: "file_source", Err: &runtime.WrongKindError{Got: runtime.ByteSource, Want: runtime.Parser}}, protocol.CodeInvalidParams, "plugin file_source is a bytesource, want a parser"},
		{"not wasm", &runtime.Error{Kind: runtime.KindUnsupported, Plugin: "README.md", Err: errors.New("not a WebAssembly binary")}, protocol.CodeUnsupported, "not a WebAssembly binary"},
	} {
		err := toWire(context.Background(), resolveError("nope", c.err), "")
		var we *jsonrpc2.Error
		if !errors.As(err, &we) || we.Code != c.code || !strings.Contains(we.Message, c.msg) {
			t.Errorf("%s: %v, want code %d with %q", c.name, err, c.code, c.msg)
		}
	}
}
