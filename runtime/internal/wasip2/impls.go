package wasip2

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/wit"
)

// pollable becomes ready at a monotonic-clock instant (0: at once).
type pollable struct{ at uint64 }

type inputStream struct{}

type outputStream struct{ w io.Writer }

type streamError struct{ msg string }

// MaxRandomBytes bounds one get-random-bytes call: a guest asking for more
// traps (the function may not return fewer bytes than asked for).
const MaxRandomBytes = 1 << 20

// MaxReadBytes bounds what one read (input-stream.read, blocking-read, skip,
// splice, descriptor.read) returns: WASI lets reads return fewer bytes than
// asked for, so a guest asking for 2^64-1 bytes gets at most this many, read
// into the instance's one reusable buffer, whatever it asks for.
const MaxReadBytes = 1 << 20

// writeBudget is what check-write grants: writes go to the log writers and
// never block.
const writeBudget = 1 << 20

var (
	ok0    = abi.Value{}                                     // result::ok with no payload
	closed = abi.Value{Num: 1, Elems: []abi.Value{{Num: 1}}} // result::err(stream-error::closed)
	none   = abi.Value{}                                     // option::none
)

func ok(v abi.Value) abi.Value { return abi.Value{Elems: []abi.Value{v}} }

func okU64(n uint64) abi.Value { return ok(abi.Value{Num: n}) }

// impls maps "wasi:iface.function" to its implementation.
var impls = map[string]Func{
	// wasi:io
	"wasi:io/error.[method]error.to-debug-string": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		e, err := object[*streamError](w, a[0].Num, "error")
		return abi.Value{Str: e.msg}, err
	},
	"wasi:io/poll.[method]pollable.ready": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		p, err := object[*pollable](w, a[0].Num, "pollable")
		if err != nil {
			return abi.Value{}, err
		}
		return boolValue(w.nanotime() >= p.at), nil
	},
	"wasi:io/poll.[method]pollable.block": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		p, err := object[*pollable](w, a[0].Num, "pollable")
		if err != nil {
			return abi.Value{}, err
		}
		w.sleepUntil(p.at)
		return abi.Value{}, nil
	},
	"wasi:io/poll.poll":                                  poll,
	"wasi:io/streams.[method]input-stream.read":          read,
	"wasi:io/streams.[method]input-stream.blocking-read": read,
	"wasi:io/streams.[method]input-stream.skip":          skip,
	"wasi:io/streams.[method]input-stream.blocking-skip": skip,
	"wasi:io/streams.[method]input-stream.subscribe":     readyPollable,
	"wasi:io/streams.[method]output-stream.check-write": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		_, err := object[*outputStream](w, a[0].Num, "output-stream")
		return okU64(writeBudget), err
	},
	"wasi:io/streams.[method]output-stream.write":                           write,
	"wasi:io/streams.[method]output-stream.blocking-write-and-flush":        write,
	"wasi:io/streams.[method]output-stream.flush":                           flush,
	"wasi:io/streams.[method]output-stream.blocking-flush":                  flush,
	"wasi:io/streams.[method]output-stream.subscribe":                       readyPollable,
	"wasi:io/streams.[method]output-stream.write-zeroes":                    writeZeroes,
	"wasi:io/streams.[method]output-stream.blocking-write-zeroes-and-flush": writeZeroes,
	"wasi:io/streams.[method]output-stream.splice":                          splice,
	"wasi:io/streams.[method]output-stream.blocking-splice":                 splice,

	// wasi:clocks
	"wasi:clocks/monotonic-clock.now": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		return abi.Value{Num: w.nanotime()}, nil
	},
	"wasi:clocks/monotonic-clock.resolution": func(context.Context, *Instance, []abi.Value) (abi.Value, error) {
		return abi.Value{Num: 1}, nil
	},
	"wasi:clocks/monotonic-clock.subscribe-instant": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		return w.hold(&pollable{at: a[0].Num}), nil
	},
	"wasi:clocks/monotonic-clock.subscribe-duration": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		at := w.nanotime() + a[0].Num
		if at < a[0].Num { // overflow: never
			at = ^uint64(0)
		}
		return w.hold(&pollable{at: at}), nil
	},
	"wasi:clocks/wall-clock.now": func(context.Context, *Instance, []abi.Value) (abi.Value, error) {
		now := time.Now()
		return datetime(uint64(now.Unix()), uint64(now.Nanosecond())), nil
	},
	"wasi:clocks/wall-clock.resolution": func(context.Context, *Instance, []abi.Value) (abi.Value, error) {
		return datetime(0, 1), nil
	},

	// wasi:random
	"wasi:random/random.get-random-bytes":            randomBytes,
	"wasi:random/random.get-random-u64":              randomU64,
	"wasi:random/insecure.get-insecure-random-bytes": randomBytes,
	"wasi:random/insecure.get-insecure-random-u64":   randomU64,
	"wasi:random/insecure-seed.insecure-seed": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		a, err := w.u64()
		if err != nil {
			return abi.Value{}, err
		}
		b, err := w.u64()
		return abi.Value{Elems: []abi.Value{{Num: a}, {Num: b}}}, err
	},

	// wasi:cli
	"wasi:cli/environment.get-environment": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		out := make([]abi.Value, len(w.env.Environ))
		for i, kv := range w.env.Environ {
			out[i] = abi.Value{Elems: []abi.Value{{Str: kv[0]}, {Str: kv[1]}}}
		}
		return abi.Value{Elems: out}, nil
	},
	"wasi:cli/environment.get-arguments": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		out := make([]abi.Value, len(w.env.Args))
		for i, s := range w.env.Args {
			out[i] = abi.Value{Str: s}
		}
		return abi.Value{Elems: out}, nil
	},
	"wasi:cli/environment.initial-cwd": func(context.Context, *Instance, []abi.Value) (abi.Value, error) {
		return none, nil
	},
	"wasi:cli/exit.exit": func(_ context.Context, _ *Instance, a []abi.Value) (abi.Value, error) {
		return abi.Value{}, &ExitError{Failed: a[0].Num != 0}
	},
	"wasi:cli/stdin.get-stdin": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		return w.hold(&inputStream{}), nil
	},
	"wasi:cli/stdout.get-stdout": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		return w.hold(&outputStream{w: w.env.Stdout}), nil
	},
	"wasi:cli/stderr.get-stderr": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		return w.hold(&outputStream{w: w.env.Stderr}), nil
	},
	"wasi:cli/terminal-stdin.get-terminal-stdin":   noTerminal,
	"wasi:cli/terminal-stdout.get-terminal-stdout": noTerminal,
	"wasi:cli/terminal-stderr.get-terminal-stderr": noTerminal,

	// wasi:sockets: a network to deny operations on (see denied).
	"wasi:sockets/instance-network.instance-network": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		return w.hold(&network{}), nil
	},

	// wasi:filesystem (the rest is in fs.go)
	"wasi:filesystem/types.filesystem-error-code": func(context.Context, *Instance, []abi.Value) (abi.Value, error) {
		return none, nil
	},
}

// network is the wasi:sockets network resource: the right to use a network
// that every operation then denies.
type network struct{}

// denied implements a wasi:sockets function that returns
// result<_, error-code>: always err(access-denied). Other functions (the
// methods of sockets, which no guest can create) get nil.
func denied(f *wit.Func) Func {
	r := f.Result
	if r == nil || r.Kind != wit.Result || r.Err == nil || r.Err.Kind != wit.Enum {
		return nil
	}
	for i, c := range r.Err.Cases {
		if c.Name == "access-denied" {
			v := abi.Value{Num: 1, Elems: []abi.Value{{Num: uint64(i)}}}
			return func(context.Context, *Instance, []abi.Value) (abi.Value, error) { return v, nil }
		}
	}
	return nil
}

func boolValue(b bool) abi.Value {
	if b {
		return abi.Value{Num: 1}
	}
	return abi.Value{}
}

func datetime(s, ns uint64) abi.Value { return abi.Value{Elems: []abi.Value{{Num: s}, {Num: ns}}} }

func noTerminal(context.Context, *Instance, []abi.Value) (abi.Value, error) { return none, nil }

// sleepUntil blocks until the monotonic clock reaches at.
func (w *Instance) sleepUntil(at uint64) {
	if now := w.nanotime(); at > now && w.env.Sleep != nil {
		d := at - now
		if d > 1<<62 {
			d = 1 << 62
		}
		w.env.Sleep(int64(d))
	}
}

// poll waits until at least one pollable is ready and returns the indexes of
// the ready ones.
func poll(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	ps := a[0].Elems
	if len(ps) == 0 {
		return abi.Value{}, fmt.Errorf("poll: empty list of pollables")
	}
	earliest := ^uint64(0)
	for _, v := range ps {
		p, err := object[*pollable](w, v.Num, "pollable")
		if err != nil {
			return abi.Value{}, err
		}
		earliest = min(earliest, p.at)
	}
	w.sleepUntil(earliest)
	now := w.nanotime()
	var ready []abi.Value
	for i, v := range ps {
		if p := w.objs[uint32(v.Num)].(*pollable); now >= p.at {
			ready = append(ready, abi.Value{Num: uint64(i)})
		}
	}
	return abi.Value{Elems: ready}, nil
}

func readyPollable(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	if _, ok := w.objs[uint32(a[0].Num)]; !ok {
		return abi.Value{}, fmt.Errorf("subscribe: no such stream (rep %d)", a[0].Num)
	}
	return w.hold(&pollable{}), nil
}

// inputClosed serves stdin, which is always at its end.
func inputClosed(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	_, err := object[*inputStream](w, a[0].Num, "input-stream")
	return closed, err
}

// read reads from an input stream: stdin (at its end) or a file.
func read(ctx context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	f, isFile := w.objs[uint32(a[0].Num)].(*fileInput)
	if !isFile {
		return inputClosed(ctx, w, a)
	}
	buf := w.readBuffer(a[1].Num)
	n, errno := f.file.Pread(buf, f.off)
	if errno != 0 {
		return w.lastOperationFailed(errno), nil
	}
	if n == 0 && len(buf) > 0 {
		return closed, nil
	}
	f.off += int64(n)
	return ok(abi.Value{Bytes: buf[:n]}), nil
}

// skip skips bytes of an input stream.
func skip(ctx context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	r, err := read(ctx, w, a)
	if err != nil || r.Num != 0 {
		return r, err
	}
	return okU64(uint64(len(r.Elems[0].Bytes))), nil
}

// lastOperationFailed is result::err(stream-error::last-operation-failed)
// with an error resource saying why.
func (w *Instance) lastOperationFailed(err error) abi.Value {
	return abi.Value{Num: 1, Elems: []abi.Value{{Num: 0, Elems: []abi.Value{w.hold(&streamError{msg: err.Error()})}}}}
}

// readBuffer returns the instance's read buffer, n bytes long but at most
// MaxReadBytes. Results that point into it are lowered into the guest
// before the next import call (an import called from the guest's realloc
// while the host lowers traps), so one buffer serves every call.
func (w *Instance) readBuffer(n uint64) []byte {
	n = min(n, MaxReadBytes)
	if uint64(cap(w.buf)) < n {
		w.buf = make([]byte, n)
	}
	return w.buf[:n]
}

func write(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	s, err := object[*outputStream](w, a[0].Num, "output-stream")
	if err != nil {
		return abi.Value{}, err
	}
	if len(a[1].Bytes) > writeBudget {
		return abi.Value{}, fmt.Errorf("output-stream.write of %d bytes, more than check-write granted (%d)", len(a[1].Bytes), writeBudget)
	}
	return s.write(w, a[1].Bytes), nil
}

// write writes b to the stream's writer: a failed write (of a file) is
// last-operation-failed.
func (s *outputStream) write(w *Instance, b []byte) abi.Value {
	if s.w == nil {
		return ok0
	}
	if _, err := s.w.Write(b); err != nil {
		return w.lastOperationFailed(err)
	}
	return ok0
}

func flush(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	_, err := object[*outputStream](w, a[0].Num, "output-stream")
	return ok0, err
}

func writeZeroes(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	s, err := object[*outputStream](w, a[0].Num, "output-stream")
	if err != nil {
		return abi.Value{}, err
	}
	if a[1].Num > writeBudget {
		return abi.Value{}, fmt.Errorf("output-stream.write-zeroes of %d bytes, more than check-write granted (%d)", a[1].Num, writeBudget)
	}
	zeroes := w.readBuffer(a[1].Num)
	clear(zeroes)
	return s.write(w, zeroes), nil
}

// splice from an input stream: every input stream here is at its end.
func splice(ctx context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	s, err := object[*outputStream](w, a[0].Num, "output-stream")
	if err != nil {
		return abi.Value{}, err
	}
	r, err := read(ctx, w, a[1:])
	if err != nil || r.Num != 0 {
		return r, err
	}
	b := r.Elems[0].Bytes
	if res := s.write(w, b); res.Num != 0 {
		return res, nil
	}
	return okU64(uint64(len(b))), nil
}

func randomBytes(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	n := a[0].Num
	if n > MaxRandomBytes {
		return abi.Value{}, fmt.Errorf("get-random-bytes(%d): more than the %d bytes chiphost gives at once", n, MaxRandomBytes)
	}
	b := w.readBuffer(n)
	if _, err := io.ReadFull(w.random(), b); err != nil {
		return abi.Value{}, err
	}
	return abi.Value{Bytes: b}, nil
}

func randomU64(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
	n, err := w.u64()
	return abi.Value{Num: n}, err
}

func (w *Instance) random() io.Reader {
	if w.env.Random != nil {
		return w.env.Random
	}
	return rand.Reader
}

func (w *Instance) u64() (uint64, error) {
	var b [8]byte
	_, err := io.ReadFull(w.random(), b[:])
	return binary.LittleEndian.Uint64(b[:]), err
}
