package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/runtime/internal/interrupt"
	"github.com/chiphost/chiphost/runtime/internal/sandboxfs"
	"github.com/chiphost/chiphost/runtime/internal/wasip2"
)

// instanceKey marks call contexts with the instance being called, so that
// host imports know which instance called them.
type instanceKey struct{}

// Interrupt reasons.
const (
	notInterrupted int32 = iota
	interruptedByDeadline
	interruptedByCancel
)

// instance is one wasm instance of a plugin. All calls go through call,
// which serialises them, enforces the deadline and the post-return rule,
// and discards the instance after any failure.
type instance struct {
	host *Host
	cp   *compiledPlugin
	id   uint64
	mod  api.Module
	mem  api.Memory

	funcs     map[string]*boundFunc
	realloc   api.Function
	interrupt api.MutableGlobal
	callCtx   context.Context

	lifter       *abi.Lifter // results of exports; valid until the next call
	importLifter *abi.Lifter // parameters of host imports
	lowerer      abi.Lowerer
	stack        []uint64
	wasi         *wasip2.Instance // WASI 0.2 resources and handle tables

	logTag string // InitOptions.LogTag
	memory *limitedMemory
	stdout *lineWriter
	stderr *lineWriter
	temp   tempDir
	roots  []*sandboxfs.FS // confined mounts, released with the instance
	// openFiles counts the files the plugin has open (Options.MaxOpenFiles).
	openFiles sandboxfs.OpenFiles
	// refusals counts file-system operations the sandbox refused.
	refusals atomic.Uint64
	// stderrX is what the plugin wrote to stderr during the current call.
	stderrX stderrExcerpt

	mu           sync.Mutex // one call at a time
	dead         *Error     // set once the instance may not be entered again
	inPostReturn bool
	inRealloc    bool   // the host is in the guest's realloc (lowering a value)
	hostErr      *Error // set by a host import or guard before it traps the guest

	// Interruption: fire sets the guest's interrupt global when the call of
	// generation gen overruns or is cancelled.
	fireMu      sync.Mutex
	gen         uint64
	interrupted int32
	callStart   time.Time // zero when no call is running
	timer       *time.Timer
	stopCancel  func() bool
	wake        chan struct{} // closed when the call is interrupted (made by a sleeping guest)
}

type boundFunc struct {
	*exportFunc
	fn   api.Function
	post api.Function
}

// mounts are the host paths an instance may read.
type mounts struct {
	dirs  []string            // directories mounted read-only at their own path
	files map[string][]string // parent directory → file names visible in it
}

// dropCoveredFiles removes the file grants that a granted directory already
// covers. Each file grant is a mount of the file's directory that shows only
// the named files; mounted inside a granted directory, it would hide the
// rest of that directory from the plugin.
func (m *mounts) dropCoveredFiles() {
	for dir := range m.files {
		for _, d := range m.dirs {
			if rel, err := filepath.Rel(d, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				delete(m.files, dir)
				break
			}
		}
	}
}

func (h *Host) newInstance(ctx context.Context, cp *compiledPlugin, m mounts) (*instance, error) {
	in := &instance{
		host:         h,
		cp:           cp,
		id:           h.nextInstance.Add(1),
		funcs:        map[string]*boundFunc{},
		lifter:       abi.NewLifter(),
		importLifter: &abi.Lifter{MaxBytes: MaxImportBytes},
		memory:       &limitedMemory{limit: h.opts.MemoryLimit, pool: &h.memory},
	}
	if err := in.reserveMemory(); err != nil {
		return nil, err
	}
	in.openFiles = sandboxfs.OpenFiles{Max: int64(h.opts.MaxOpenFiles), Total: &h.openFiles}
	in.callCtx = context.WithValue(context.Background(), instanceKey{}, in)
	in.stdout = &lineWriter{in: in, source: FromStdout, level: LevelInfo}
	in.stderr = &lineWriter{in: in, source: FromStderr, level: LevelInfo}
	in.temp.path = filepath.Join(h.TempDir(), fmt.Sprintf("%s-%d-%s", cp.name, in.id, randomSuffix()))
	in.wasi = wasip2.NewInstance(in.wasiEnv())
	in.importLifter.Handles = &in.wasi.Tables

	// wazero needs a preopened directory to exist, so the sandbox directory
	// is created with the instance (not on the first temp-directory call).
	if _, err := in.temp.get(); err != nil {
		return nil, &Error{Kind: KindIO, Plugin: cp.name, Op: "instantiate", Err: fmt.Errorf("create temporary directory: %w", err)}
	}
	fsc, err := in.fsConfig(m)
	if err != nil {
		in.close()
		return nil, err
	}
	cfg := wazero.NewModuleConfig().
		WithName(fmt.Sprintf("%s#%d", cp.name, in.id)).
		WithStartFunctions().
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(rand.Reader).
		WithStdout(in.stdout).WithStderr(in.stderr).
		WithArgs(cp.name).
		WithFSConfig(fsc)
	for _, k := range h.opts.Env {
		if v, ok := os.LookupEnv(k); ok {
			cfg = cfg.WithEnv(k, v)
		}
	}
	// The guest's sleeps (poll_oneoff) end when its call is interrupted.
	cfg = cfg.WithNanosleep(in.sleep)
	ictx := experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(in.memory.allocate))
	mod, err := h.rt.InstantiateModule(ictx, cp.module, cfg)
	if err != nil {
		in.memory.Free()
		in.temp.remove()
		return nil, &Error{Kind: KindUnsupported, Plugin: cp.name, Op: "instantiate", Err: err}
	}
	in.mod = mod
	in.mem = mod.ExportedMemory(cp.memory)
	g, ok := mod.ExportedGlobal(interrupt.ExportName).(api.MutableGlobal)
	if !ok && !h.opts.NoInterruptChecks {
		in.close()
		return nil, &Error{Kind: KindUnsupported, Plugin: cp.name, Op: "instantiate", Err: errors.New("interrupt global missing after instrumentation")}
	}
	in.interrupt = g // nil without interrupt checks
	if cp.realloc != "" {
		in.realloc = mod.ExportedFunction(cp.realloc)
	}
	for name, f := range cp.funcs {
		b := &boundFunc{exportFunc: f, fn: mod.ExportedFunction(f.lift.Core)}
		if f.lift.PostReturn != "" {
			b.post = mod.ExportedFunction(f.lift.PostReturn)
		}
		if f.lift.Realloc != "" && in.realloc == nil {
			in.realloc = mod.ExportedFunction(f.lift.Realloc)
		}
		in.funcs[name] = b
	}
	in.lowerer = abi.Lowerer{Mem: in.mem, Realloc: in.callRealloc, Handles: &in.wasi.Tables}
	if init := cp.plan.Initialize; init != "" {
		if f := mod.ExportedFunction(init); f != nil {
			if err := in.run(ctx, "initialize", func() error { return f.CallWithStack(in.callCtx, nil) }); err != nil {
				return nil, err
			}
		}
	}
	return in, nil
}

// wasiEnv is what the instance's WASI 0.2 host sees: the same sandbox as
// its WASI preview 1 (allowed variables only, output to the log writers,
// sleeps that end when the call is interrupted).
func (in *instance) wasiEnv() wasip2.Env {
	env := wasip2.Env{Stdout: in.stdout, Stderr: in.stderr, Args: []string{in.cp.name}, Random: rand.Reader, Sleep: in.sleep, Refused: in.refused}
	for _, k := range in.host.opts.Env {
		if v, ok := os.LookupEnv(k); ok {
			env.Environ = append(env.Environ, [2]string{k, v})
		}
	}
	return env
}

// reserveMemory takes the module's initial memory from the host's total
// before instantiating: wazero cannot be refused the initial memory.
func (in *instance) reserveMemory() error {
	var initial uint64
	if md, ok := in.cp.module.ExportedMemories()[in.cp.memory]; ok {
		initial = uint64(md.Min()) << 16
	}
	h := in.host
	if initial > h.opts.MemoryLimit {
		return &Error{Kind: KindOOM, Plugin: in.cp.name, Op: "instantiate", Err: fmt.Errorf("the plugin starts with %s of memory, more than the limit of %s", mib(initial), mib(h.opts.MemoryLimit))}
	}
	if !h.memory.reserve(initial) {
		return &Error{Kind: KindLimit, Plugin: in.cp.name, Op: "instantiate", Code: "memory", Err: h.totalMemoryError()}
	}
	in.memory.reserved = initial
	return nil
}

// totalMemoryError says that the instances' memory together reached
// Options.MaxTotalMemory.
func (h *Host) totalMemoryError() error {
	return fmt.Errorf("the plugin instances together hold %s of memory, the limit for all of them is %s: close sessions (or raise the limit)", mib(h.memory.used.Load()), mib(h.opts.MaxTotalMemory))
}

// mib formats a byte count in MiB, with a decimal when it is not whole.
func mib(n uint64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// callRealloc calls the guest's realloc (used while lowering values).
func (in *instance) callRealloc(ctx context.Context, old, oldSize, align, newSize uint32) (uint32, error) {
	if in.realloc == nil {
		return 0, errors.New("the plugin exports no realloc function, but a value needs guest memory")
	}
	var stack [4]uint64
	stack[0], stack[1], stack[2], stack[3] = uint64(old), uint64(oldSize), uint64(align), uint64(newSize)
	in.inRealloc = true
	err := in.realloc.CallWithStack(in.callCtx, stack[:])
	in.inRealloc = false
	if err != nil {
		return 0, guestFailure{err}
	}
	return uint32(stack[0]), nil
}

// guestFailure marks an error that came out of the guest's own code (a trap
// in its realloc while lowering arguments), not from a host-side check.
type guestFailure struct{ err error }

func (g guestFailure) Error() string { return g.err.Error() }
func (g guestFailure) Unwrap() error { return g.err }

// call calls the exported function fname with args and returns its lifted
// result. The result (its strings, bytes and lists) is valid until the next
// call on this instance.
func (in *instance) call(ctx context.Context, fname string, args []abi.Value) (abi.Value, error) {
	f := in.funcs[fname]
	if f == nil {
		return abi.Value{}, &Error{Kind: KindUnsupported, Plugin: in.cp.name, Op: fname, Err: errors.New("the plugin does not export this function")}
	}
	return in.callFunc(ctx, fname, f, args)
}

// callFunc is call for a function already looked up (the parse hot path).
func (in *instance) callFunc(ctx context.Context, fname string, f *boundFunc, args []abi.Value) (abi.Value, error) {
	if v, _ := ctx.Value(instanceKey{}).(*instance); v == in {
		return abi.Value{}, &Error{Kind: KindABI, Plugin: in.cp.name, Op: fname, Err: errors.New("re-entrant call into the plugin from one of its own imports")}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	var result abi.Value
	err := in.run(ctx, fname, func() error {
		in.lifter.Reset()
		params, err := in.lowerer.LowerParams(in.callCtx, &f.sig, args, in.stack[:0])
		if err != nil {
			if in.hostErr == nil && !isGuestError(err) {
				in.hostErr = &Error{Kind: KindABI, Plugin: in.cp.name, Op: fname, Err: fmt.Errorf("lower arguments: %w", err)}
			}
			return err
		}
		n := max(len(params), len(f.sig.Results))
		if cap(params) < n {
			params = append(params, make([]uint64, n-len(params))...)
		}
		stack := params[:n]
		in.stack = stack[:0]
		if err := f.fn.CallWithStack(in.callCtx, stack); err != nil {
			return err
		}
		results := stack[:len(f.sig.Results)]
		result, err = in.lifter.LiftResult(in.mem, &f.sig, results)
		if err != nil {
			in.hostErr = &Error{Kind: KindABI, Plugin: in.cp.name, Op: fname, Err: fmt.Errorf("invalid result: %w", err)}
			return err
		}
		if f.post != nil {
			in.inPostReturn = true
			err := f.post.CallWithStack(in.callCtx, results)
			in.inPostReturn = false
			if err != nil {
				return err
			}
		}
		return nil
	})
	return result, err
}

// isGuestError reports whether err came out of the guest (a trap during a
// realloc call, such as running out of memory) rather than from a check on
// the host side.
func isGuestError(err error) bool {
	var g guestFailure
	return errors.As(err, &g)
}

// run runs body with the instance's deadline armed and turns a failure
// into a typed *Error; after a failure the instance is closed for good.
func (in *instance) run(ctx context.Context, op string, body func() error) error {
	if in.dead != nil {
		return &Error{Kind: KindClosed, Plugin: in.cp.name, Op: op, Err: in.dead}
	}
	if err := ctx.Err(); err != nil {
		return &Error{Kind: KindCancelled, Plugin: in.cp.name, Op: op, Err: err}
	}
	in.stderrX.reset()
	in.arm(ctx)
	err := body()
	reason := in.disarm()
	if err == nil {
		return nil
	}
	in.stderr.flush() // a last line without a newline belongs to the excerpt
	e := in.classify(op, err, reason)
	in.dead = e
	in.close()
	return e
}

// arm starts the deadline timer and the cancellation hook for one call.
// The timer is made once per instance and rescheduled for every call.
func (in *instance) arm(ctx context.Context) {
	in.fireMu.Lock()
	in.gen++
	gen := in.gen
	in.callStart = time.Now()
	in.fireMu.Unlock()
	if d := in.host.opts.CallTimeout; d > 0 {
		if in.timer == nil {
			in.timer = time.AfterFunc(d, in.onDeadline)
		} else {
			in.timer.Reset(d)
		}
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { in.fire(gen, interruptedByCancel) })
		in.stopCancel = stop
	}
}

// disarm stops the hooks and reports whether the call was interrupted.
// A hook that fires late sees a newer generation and does nothing.
func (in *instance) disarm() int32 {
	if in.timer != nil {
		in.timer.Stop()
	}
	if in.stopCancel != nil {
		in.stopCancel()
		in.stopCancel = nil
	}
	in.fireMu.Lock()
	defer in.fireMu.Unlock()
	in.gen++
	in.callStart = time.Time{}
	r := in.interrupted
	if r != notInterrupted {
		in.interrupted = notInterrupted
		if in.interrupt != nil {
			in.interrupt.Set(0)
		}
	}
	return r
}

// onDeadline runs when the deadline timer fires. A firing left over from an
// earlier call (its Stop came too late) finds no call running for long
// enough and does nothing; the timer was rescheduled for the current call.
func (in *instance) onDeadline() {
	in.fireMu.Lock()
	defer in.fireMu.Unlock()
	if in.callStart.IsZero() || time.Since(in.callStart) < in.host.opts.CallTimeout || in.interrupted != notInterrupted {
		return
	}
	in.interruptLocked(interruptedByDeadline)
}

func (in *instance) fire(gen uint64, reason int32) {
	in.fireMu.Lock()
	defer in.fireMu.Unlock()
	if gen != in.gen || in.interrupted != notInterrupted {
		return
	}
	in.interruptLocked(reason)
}

// interruptLocked (fireMu held) interrupts the running call: the guest traps
// at its next interrupt check, or at once if it sleeps.
func (in *instance) interruptLocked(reason int32) {
	in.interrupted = reason
	if in.interrupt != nil {
		in.interrupt.Set(1)
	}
	if in.wake != nil {
		close(in.wake)
		in.wake = nil
	}
}

// errSleepInterrupted ends a guest's sleep when its call is interrupted.
var errSleepInterrupted = errors.New("sleep cut short: the call was interrupted")

// sleep is the guest's WASI nanosleep (poll_oneoff clock subscriptions).
// wazero's own cannot be interrupted, so a plugin sleeping for minutes
// would outlive its deadline, its cancellation and Close. This one ends
// when the call is interrupted, by panicking: wazero turns a panic in a
// host function into a failure of the call, which run classifies by the
// interrupt's reason (timeout or cancelled), and the instance is discarded
// as after any interrupt.
func (in *instance) sleep(ns int64) {
	wake := in.wakeChannel()
	if wake == nil {
		panic(errSleepInterrupted) // interrupted before it slept
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-wake:
		panic(errSleepInterrupted)
	}
}

// wakeChannel returns the channel closed when the running call is
// interrupted, or nil if it already was.
func (in *instance) wakeChannel() chan struct{} {
	in.fireMu.Lock()
	defer in.fireMu.Unlock()
	if in.interrupted != notInterrupted {
		return nil
	}
	if in.wake == nil {
		in.wake = make(chan struct{})
	}
	return in.wake
}

// classify turns a failed call into a typed error.
func (in *instance) classify(op string, err error, reason int32) *Error {
	name := in.cp.name
	switch {
	case in.hostErr != nil:
		e := *in.hostErr
		e.Op = op
		return &e
	case reason == interruptedByDeadline:
		return &Error{Kind: KindTimeout, Plugin: name, Op: op, Err: fmt.Errorf("call did not finish within %s and was interrupted", in.host.opts.CallTimeout)}
	case reason == interruptedByCancel:
		return &Error{Kind: KindCancelled, Plugin: name, Op: op, Err: errors.New("call was cancelled and interrupted")}
	case in.memory.totalFailed.Load():
		return &Error{Kind: KindLimit, Plugin: name, Op: op, Code: "memory", Err: fmt.Errorf("memory could not grow: %w", in.host.totalMemoryError())}
	case in.memory.failed.Load() || in.stderrX.oom:
		return &Error{Kind: KindOOM, Plugin: name, Op: op, Err: in.oomError(err)}
	}
	if x := in.stderrX.String(); x != "" { // after the trap's first line, before its wasm stack trace
		first, rest, found := strings.Cut(err.Error(), "\n")
		msg := first + "; " + x
		if found {
			msg += "\n" + rest
		}
		err = &describedError{msg: msg, cause: err}
	}
	return &Error{Kind: KindTrap, Plugin: name, Op: op, Err: err}
}

// oomError describes a call that failed for lack of memory: the limit
// reached, the first line of the trap (not its wasm stack trace: the
// plugin's stderr says more) and what the plugin wrote to stderr.
func (in *instance) oomError(err error) error {
	msg := "the plugin ran out of memory"
	if in.memory.failed.Load() {
		msg = fmt.Sprintf("memory limit of %d MiB reached", in.host.opts.MemoryLimit>>20)
	}
	msg += " (" + firstLine(err) + ")"
	if x := in.stderrX.String(); x != "" {
		msg += "; " + x
	}
	return &describedError{msg: msg, cause: err}
}

// close releases the wasm instance and the temporary directory. It is
// idempotent.
func (in *instance) close() {
	if in.timer != nil {
		in.timer.Stop()
	}
	if in.mod != nil {
		in.mod.Close(context.Background())
	}
	in.wasi.Close()
	in.stdout.flush()
	in.stderr.flush()
	for _, r := range in.roots {
		r.Close()
	}
	in.roots = nil
	in.logRefusalCount()
	in.temp.remove()
}

// Close closes the instance; later calls fail with KindClosed. A call in
// progress on another goroutine is interrupted first (it fails with
// KindCancelled), so Close does not wait for a looping plugin.
func (in *instance) Close() {
	in.fireMu.Lock()
	gen := in.gen
	in.fireMu.Unlock()
	in.fire(gen, interruptedByCancel)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dead == nil {
		in.dead = &Error{Kind: KindClosed, Plugin: in.cp.name, Err: errors.New("instance closed")}
	}
	in.close()
}

// tempDir is an instance's sandbox directory, removed with the instance.
type tempDir struct {
	path    string
	created atomic.Bool
}

func (t *tempDir) get() (string, error) {
	if err := os.MkdirAll(t.path, 0o700); err != nil {
		return "", err
	}
	t.created.Store(true)
	return t.path, nil
}

func (t *tempDir) remove() {
	if t.created.Swap(false) {
		os.RemoveAll(t.path)
	}
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}
