package wasip2

import (
	"context"
	"slices"
	"strings"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/runtime/internal/sandboxfs"
	"github.com/chiphost/chiphost/wit"
)

func load(t *testing.T) *Host {
	t.Helper()
	h, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestErrorCodeIndexes checks the hand-written case numbers of fs.go against
// the enums and flags of wit/wasip2.
func TestErrorCodeIndexes(t *testing.T) {
	h := load(t)
	types := h.ifaces["wasi:filesystem/types"].Types
	codes := types["error-code"].Cases
	name := func(i uint64) string { return codes[i].Name }
	want := map[experimentalsys.Errno]string{
		experimentalsys.EACCES: "access", experimentalsys.EAGAIN: "would-block", experimentalsys.EBADF: "bad-descriptor",
		experimentalsys.EEXIST: "exist", experimentalsys.EINTR: "interrupted", experimentalsys.EINVAL: "invalid",
		experimentalsys.EIO: "io", experimentalsys.EISDIR: "is-directory", experimentalsys.ELOOP: "loop",
		experimentalsys.ENAMETOOLONG: "name-too-long", experimentalsys.ENOENT: "no-entry", experimentalsys.ENOTDIR: "not-directory",
		experimentalsys.ENOTEMPTY: "not-empty", experimentalsys.ENOSYS: "unsupported", experimentalsys.ENOTSUP: "unsupported",
		experimentalsys.EPERM: "not-permitted", experimentalsys.EROFS: "read-only",
		sandboxfs.ErrTooManyOpenFiles: "quota",
	}
	for errno, n := range want {
		if got := name(errorCodes[errno]); got != n {
			t.Errorf("%v maps to %s, want %s", errno, got, n)
		}
	}
	for c, n := range map[uint64]string{codeBadDescriptor: "bad-descriptor", codeIO: "io", codeNotPermitted: "not-permitted",
		codeUnsupported: "unsupported", 33: "read-only", 36: "cross-device"} {
		if name(c) != n {
			t.Errorf("case %d is %s, want %s", c, name(c), n)
		}
	}
	dt := types["descriptor-type"].Cases
	for c, n := range map[int]string{typeUnknown: "unknown", typeDirectory: "directory", typeSymlink: "symbolic-link", typeRegularFile: "regular-file"} {
		if dt[c].Name != n {
			t.Errorf("descriptor-type %d is %s, want %s", c, dt[c].Name, n)
		}
	}
	bit := func(flags []string, n string) uint64 { return 1 << slices.Index(flags, n) }
	df, of, pf := types["descriptor-flags"].Flags, types["open-flags"].Flags, types["path-flags"].Flags
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"read", flagRead, bit(df, "read")}, {"write", flagWrite, bit(df, "write")},
		{"mutate-directory", flagMutateDirectory, bit(df, "mutate-directory")},
		{"create", openCreate, bit(of, "create")}, {"directory", openDirectory, bit(of, "directory")},
		{"exclusive", openExclusive, bit(of, "exclusive")}, {"truncate", openTruncate, bit(of, "truncate")},
		{"symlink-follow", pathSymlinkFollow, bit(pf, "symlink-follow")},
	} {
		if c.got != c.want {
			t.Errorf("flag %s: bit %#x, WIT says %#x", c.name, c.got, c.want)
		}
	}
}

// TestEveryFunctionServed: every function of every served interface has an
// implementation, except the methods of sockets and name-lookup streams
// (which no guest can hold: creating them is denied).
func TestEveryFunctionServed(t *testing.T) {
	h := load(t)
	var missing []string
	for _, iface := range h.Interfaces() {
		for _, f := range h.Funcs(iface) {
			if strings.HasPrefix(f.Name, "[resource-drop]") {
				continue
			}
			if impls[iface+"."+f.Name] == nil && !(strings.HasPrefix(iface, "wasi:sockets/") && denied(f) != nil) {
				missing = append(missing, iface+"."+f.Name)
			}
		}
	}
	for _, m := range missing {
		sockets := strings.HasPrefix(m, "wasi:sockets/")
		method := strings.Contains(m, ".[method]tcp-socket.") || strings.Contains(m, ".[method]udp-socket.") ||
			strings.Contains(m, "-datagram-stream.") || strings.Contains(m, ".[method]resolve-address-stream.")
		if !sockets || !method {
			t.Errorf("%s has no implementation", m)
		}
	}
	if f := h.Func("wasi:io/poll", "[resource-drop]pollable"); f == nil || f.Params[0].Type.Kind != wit.Own {
		t.Errorf("[resource-drop]pollable: %+v", f)
	}
}

// TestDeniedSockets: the sockets functions that return result<_, error-code>
// give err(access-denied).
func TestDeniedSockets(t *testing.T) {
	h := load(t)
	w := NewInstance(Env{})
	for _, c := range []struct{ iface, fn string }{
		{"wasi:sockets/tcp-create-socket", "create-tcp-socket"},
		{"wasi:sockets/udp-create-socket", "create-udp-socket"},
		{"wasi:sockets/ip-name-lookup", "resolve-addresses"},
		{"wasi:sockets/tcp", "[method]tcp-socket.start-connect"},
	} {
		f := h.Func(c.iface, c.fn)
		v, err := h.Impl(c.iface, f)(context.Background(), w, make([]abi.Value, len(f.Params)))
		if err != nil || v.Num != 1 || f.Result.Err.Cases[v.Elems[0].Num].Name != "access-denied" {
			t.Errorf("%s.%s: %+v, %v", c.iface, c.fn, v, err)
		}
	}
}
