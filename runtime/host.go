package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/chiphost/chiphost/internal/procdir"
	"github.com/chiphost/chiphost/runtime/internal/sandboxfs"
	"github.com/chiphost/chiphost/runtime/internal/wasip2"
)

// Options configure a Host. A nil *Options or a zero field means the
// documented default.
type Options struct {
	// Logger receives chiphost's own diagnostics and, at debug level, plugin
	// log lines. Default: discard.
	Logger *zerolog.Logger
	// OnLog receives every plugin log line (log import, stdout and stderr
	// lines). It is called from the goroutine running the plugin and must
	// not block for long. Host.SetLogSink replaces it after construction.
	OnLog func(LogRecord)
	// CacheDir holds the compiled-module cache and the metadata cache.
	// Default: <user cache dir>/chiphost; when there is no user cache
	// directory ($XDG_CACHE_HOME and $HOME unset) the caches are off, with
	// a warning, rather than put in a shared directory. NoCache disables
	// both. The directory must belong to the user and not be writable by
	// others (NewHost fails otherwise): it holds code that gets executed.
	CacheDir string
	NoCache  bool
	// MemoryLimit caps each instance's linear memory in bytes
	// (default 512 MiB; rounded down to 64 KiB pages).
	MemoryLimit uint64
	// MaxTotalMemory caps the linear memory of all instances together
	// (default 4 GiB). Creating an instance that would pass it fails with
	// KindLimit (Code "memory"), and so does a call whose memory cannot
	// grow because of it.
	MaxTotalMemory uint64
	// MaxOpenFiles caps the files one instance has open at once, through
	// WASI preview 1 and WASI 0.2 together (default 256). Past it, opening
	// a file fails: EIO for preview 1 (which has no "too many open files"
	// here), error-code quota for WASI 0.2; the host log says why.
	MaxOpenFiles int
	// MaxTotalOpenFiles caps the files all instances have open at once
	// (default: half the process's open-file limit, at most 4096), so that
	// plugins cannot use up the descriptors the host needs for new
	// instances, sessions and its own files.
	MaxTotalOpenFiles int
	// CallTimeout bounds every call into a plugin (default 60 s; negative:
	// no deadline). A call that overruns is interrupted and its instance
	// discarded.
	CallTimeout time.Duration
	// Env lists the host environment variables a plugin may see (by name).
	// Default: none, unlike Chipmunk which passes the whole environment.
	Env []string
	// ParentDirAccess grants read access to the parent directory of every
	// file or directory in a plugin's configuration, as Chipmunk does.
	// Default: access to exactly the configured files and directories.
	ParentDirAccess bool
	// TempRoot is the shared parent of the hosts' private temporary
	// directories (default: <os temp dir>/chiphost-<uid>). It must belong
	// to the user and not be writable by others (NewHost fails otherwise).
	// Each Host makes its own directory in it, <pid>-<random>, which holds
	// every instance's temporary directory and is removed by Close (and
	// TempRoot with it once empty); NewHost removes the directories that
	// hosts of processes that died left behind.
	TempRoot string
	// Interpreter runs plugins with wazero's interpreter instead of its
	// compiler (about 30× slower; for platforms without the compiler).
	Interpreter bool
	// NoInterruptChecks leaves plugins uninstrumented: a call that loops
	// can then not be stopped by its deadline or by cancellation. It exists
	// to measure what the checks cost; do not use it otherwise.
	NoInterruptChecks bool
}

const (
	defaultMemoryLimit    = 512 << 20
	defaultMaxTotalMemory = 4 << 30
	defaultCallTimeout    = 60 * time.Second
	defaultMaxOpenFiles   = 256
	maxTotalOpenFiles     = 4096
)

// Host loads and runs plugins. It owns one wazero runtime; every plugin
// instance runs in it with its own memory and WASI configuration.
//
// # Notes
//
//   - A Host is safe for concurrent use. Close it to release the runtime;
//     instances still open become unusable.
type Host struct {
	opts Options
	log  zerolog.Logger
	rt   wazero.Runtime
	apis map[string]*apiVersion // by API version string
	wasi *wasip2.Host           // the WASI 0.2 interfaces served
	meta *metaCache
	temp *procdir.Dir // this host's private directory under TempRoot

	nextInstance atomic.Uint64
	memory       memoryPool          // guest memory of all instances
	openFiles    sandboxfs.OpenFiles // files all instances have open
	// logSink receives plugin log lines (Options.OnLog, or SetLogSink's).
	logSink atomic.Pointer[func(LogRecord)]

	// codeCached is set when wazero keeps compiled code on disk (the
	// compiler with a working compilation cache).
	codeCached bool

	mu       sync.Mutex
	compiled map[string]*compileEntry // by content hash
	// compiling counts the compiles running (see runCompile), closed is
	// set by Close: the runtime is closed by the last compile to end.
	compiling int
	closed    bool
}

// compileEntry lets concurrent loads of one binary share a single compile,
// while loads of other binaries proceed in parallel. cp and err are set
// before done is closed.
type compileEntry struct {
	done chan struct{}
	cp   *compiledPlugin
	err  error
	// cold is set when the compile does real work (nothing on disk to
	// reuse): callers are told through their CompileTrace.
	cold bool
}

// NewHost creates a Host.
func NewHost(ctx context.Context, opts *Options) (*Host, error) {
	h := &Host{compiled: map[string]*compileEntry{}}
	if opts != nil {
		h.opts = *opts
	}
	if h.opts.Logger != nil {
		h.log = *h.opts.Logger
	} else {
		h.log = zerolog.Nop()
	}
	if h.opts.MemoryLimit == 0 {
		h.opts.MemoryLimit = defaultMemoryLimit
	}
	if h.opts.MaxTotalMemory == 0 {
		h.opts.MaxTotalMemory = defaultMaxTotalMemory
	}
	h.memory.limit = h.opts.MaxTotalMemory
	if h.opts.MaxOpenFiles <= 0 {
		h.opts.MaxOpenFiles = defaultMaxOpenFiles
	}
	if h.opts.MaxTotalOpenFiles <= 0 {
		h.opts.MaxTotalOpenFiles = defaultMaxTotalOpenFiles()
	}
	h.openFiles.Max = int64(h.opts.MaxTotalOpenFiles)
	h.SetLogSink(h.opts.OnLog)
	if h.opts.CallTimeout == 0 {
		h.opts.CallTimeout = defaultCallTimeout
	}
	if h.opts.TempRoot == "" {
		h.opts.TempRoot = procdir.Parent(os.TempDir())
	}
	apis, err := loadAPIs()
	if err != nil {
		return nil, err
	}
	h.apis = apis
	if h.wasi, err = wasip2.Load(); err != nil {
		return nil, fmt.Errorf("load the WASI 0.2 WIT: %w", err)
	}
	if err := h.openTempDir(); err != nil {
		return nil, err
	}

	var cfg wazero.RuntimeConfig
	if h.opts.Interpreter {
		cfg = wazero.NewRuntimeConfigInterpreter()
	} else {
		cfg = wazero.NewRuntimeConfigCompiler()
	}
	if err := h.resolveCacheDir(); err != nil {
		h.temp.Close()
		return nil, err
	}
	if !h.opts.NoCache {
		dir := h.opts.CacheDir
		cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "wazero"))
		if err != nil {
			h.log.Warn().Err(err).Str("dir", dir).Msg("compilation cache disabled")
		} else {
			cfg = cfg.WithCompilationCache(cache)
			h.codeCached = !h.opts.Interpreter
		}
		h.meta = &metaCache{dir: filepath.Join(dir, "metadata"), build: buildKey("metadata v" + metaFormat)}
	}
	// Memory limits are enforced per instance by our allocator (sandbox.go),
	// which records a refused growth so that the failure is reported as
	// KindOOM; wazero's own page limit stays at the wasm32 maximum.
	h.rt = wazero.NewRuntimeWithConfig(ctx, cfg)

	// WASI preview 1 for the plugins' main modules (the component's adapter
	// is skipped). The listener enforces the canonical ABI rule that a
	// post-return function may not call imports.
	wctx := experimental.WithFunctionListenerFactory(ctx, postReturnGuard{})
	if _, err := wasi_snapshot_preview1.Instantiate(wctx, h.rt); err != nil {
		h.rt.Close(ctx)
		h.temp.Close()
		return nil, fmt.Errorf("instantiate wasi: %w", err)
	}
	if err := h.instantiateHostImports(ctx); err != nil {
		h.rt.Close(ctx)
		h.temp.Close()
		return nil, err
	}
	return h, nil
}

// openTempDir creates the host's private directory under TempRoot, and
// logs what was removed of the directories of dead processes.
func (h *Host) openTempDir() error {
	d, err := procdir.Open(h.opts.TempRoot)
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	d.LogCleanup(&h.log)
	h.temp = d
	return nil
}

// resolveCacheDir fills in the default cache directory, or turns the
// caches off when there is none, and checks that the directory is private.
func (h *Host) resolveCacheDir() error {
	if h.opts.NoCache {
		return nil
	}
	if h.opts.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			h.log.Warn().Err(err).Msg("no user cache directory: the on-disk caches are off (give a cache directory to turn them on)")
			h.opts.NoCache = true
			return nil
		}
		h.opts.CacheDir = filepath.Join(base, "chiphost")
	}
	if err := procdir.EnsurePrivate(h.opts.CacheDir); err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	return nil
}

// TempDir returns the host's private temporary directory, which holds the
// temporary directory of every instance; it is removed by Close.
func (h *Host) TempDir() string { return h.temp.Path }

// Close releases the runtime and every compiled plugin, and removes the
// host's temporary directory. It does not wait for a compile still running
// (wazero cannot stop one, and a cold compile can take seconds): that
// compile's result is dropped and the runtime is closed when it ends; loads
// after Close fail with KindClosed.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	compiling := h.compiling > 0
	h.mu.Unlock()
	var err error
	if !compiling {
		err = h.rt.Close(ctx)
	}
	if terr := h.temp.Close(); err == nil {
		err = terr
	}
	return err
}

// Options returns the effective options (defaults filled in).
func (h *Host) Options() Options { return h.opts }

// SetLogSink makes sink receive every plugin log line from now on, in place
// of Options.OnLog (nil: none). It exists for the consumer that needs the
// Host to be built first, such as a server that forwards plugin logs to its
// client: create the Host, then the server, then attach the server's sink.
// It is safe to call at any time, while plugins run; the sink is called as
// OnLog is.
func (h *Host) SetLogSink(sink func(LogRecord)) {
	if sink == nil {
		h.logSink.Store(nil)
		return
	}
	h.logSink.Store(&sink)
}

// GuestMemory returns the linear memory held by the Host's open instances,
// in bytes (what Options.MaxTotalMemory bounds).
func (h *Host) GuestMemory() uint64 { return h.memory.used.Load() }

// Load loads the plugin at path (a component, or a bare core module with
// canonical-ABI export names) and reads its metadata. When the metadata of
// this exact binary is cached, compiling waits until the first instance is
// created, so listing many plugins stays fast.
func (h *Host) Load(ctx context.Context, path string) (*Plugin, error) {
	name := strings.TrimSuffix(filepath.Base(path), ".wasm")
	bin, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Kind: KindNotFound, Plugin: name, Op: "load", Err: err}
		}
		return nil, &Error{Kind: KindIO, Plugin: name, Op: "load", Err: err}
	}
	return h.LoadBytes(ctx, name, path, bin)
}

// LoadBytes is Load for a binary already in memory; path is informational.
func (h *Host) LoadBytes(ctx context.Context, name, path string, bin []byte) (*Plugin, error) {
	sum := sha256.Sum256(bin)
	hash := hex.EncodeToString(sum[:])
	if md, ok := h.meta.get(hash); ok {
		if kind, a, err := h.resolveExport(md.Export); err == nil && kind == md.Kind {
			p := &Plugin{Name: name, Path: path, Hash: hash, Kind: kind, APIVersion: a.version, host: h}
			if path == "" {
				p.bin = bin // nothing to read it back from
			}
			p.applyMetadata(md)
			h.logWarnings(p)
			return p, nil
		}
	}
	cp, err := h.compile(ctx, name, hash, bin)
	if err != nil {
		return nil, err
	}
	p := &Plugin{Name: name, Path: path, Hash: hash, Kind: cp.kind, APIVersion: cp.api.version, host: h, cp: cp}
	md, err := p.readMetadata(ctx)
	if err != nil {
		return nil, err
	}
	md.Kind, md.Export = cp.kind, cp.plan.Exports[0].Name
	h.meta.put(hash, md)
	p.applyMetadata(md)
	h.logWarnings(p)
	return p, nil
}

// logWarnings logs the metadata warnings of a plugin just loaded, so that
// they reach the user whichever command loaded it.
func (h *Host) logWarnings(p *Plugin) {
	for _, w := range p.Warnings {
		h.log.Warn().Str("plugin", p.Name).Msg(w)
	}
}

// compile decodes, checks, instruments and compiles a binary once per
// content hash. The compile runs on a goroutine of its own, detached from
// ctx: wazero cannot stop a compilation half-way, so a caller whose ctx is
// cancelled returns at once (KindCancelled) and the compile carries on; its
// result is kept for the next caller. A compile that does real work is
// reported to the CompileTrace of ctx, also when ctx only waits for
// another caller's.
func (h *Host) compile(ctx context.Context, name, hash string, bin []byte) (*compiledPlugin, error) {
	info := CompileInfo{Plugin: name, Size: int64(len(bin)), Cached: h.codeCached}
	trace := CompileTraceFrom(ctx)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, &Error{Kind: KindClosed, Plugin: name, Op: "load", Err: errHostClosed}
	}
	if e, ok := h.compiled[hash]; ok {
		h.mu.Unlock()
		return h.awaitCompile(ctx, e, info, trace)
	}
	if err := ctx.Err(); err != nil {
		h.mu.Unlock()
		return nil, &Error{Kind: KindCancelled, Plugin: name, Op: "load", Err: err}
	}
	e := &compileEntry{done: make(chan struct{}), cold: !h.codeCached || !h.coreCached(hash)}
	h.compiled[hash] = e
	h.compiling++
	h.mu.Unlock()
	if e.cold {
		h.log.Info().Str("plugin", name).Int64("bytes", info.Size).Bool("cached", info.Cached).Msg("compiling plugin")
		trace.start(info)
	}
	go h.runCompile(context.WithoutCancel(ctx), e, name, hash, bin)
	cp, err := waitCompile(ctx, e, name)
	if e.cold {
		trace.done(info, err)
	}
	return cp, err
}

// errHostClosed is the cause of the KindClosed error of a load after Close.
var errHostClosed = errors.New("the host is closed")

// runCompile compiles for e and publishes the result. Failures are not
// remembered: the next load tries again (Chipmunk keeps a plugin invalid
// until its file changes). When Close came first, the result is dropped
// and the last compile to end closes the runtime (see Close).
func (h *Host) runCompile(ctx context.Context, e *compileEntry, name, hash string, bin []byte) {
	cp, err := h.prepare(ctx, name, hash, bin)
	h.mu.Lock()
	h.compiling--
	closed := h.closed
	closeRuntime := closed && h.compiling == 0
	if closed && err == nil {
		cp.module.Close(ctx)
		cp, err = nil, &Error{Kind: KindClosed, Plugin: name, Op: "load", Err: errHostClosed}
	}
	if err != nil {
		delete(h.compiled, hash)
	}
	e.cp, e.err = cp, err
	h.mu.Unlock()
	close(e.done)
	if closeRuntime {
		if err := h.rt.Close(ctx); err != nil {
			h.log.Warn().Err(err).Msg("close the runtime after the last compile")
		}
	}
}

// waitCompile waits for e's compile, or until ctx is done. A compile that
// has ended wins over a cancellation that came at the same time.
func waitCompile(ctx context.Context, e *compileEntry, name string) (*compiledPlugin, error) {
	select {
	case <-e.done:
		return e.cp, e.err
	case <-ctx.Done():
	}
	select {
	case <-e.done:
		return e.cp, e.err
	default:
		return nil, &Error{Kind: KindCancelled, Plugin: name, Op: "load", Err: ctx.Err()}
	}
}

// awaitCompile waits for a compile another caller started, telling trace
// when that compile is a cold one still running.
func (h *Host) awaitCompile(ctx context.Context, e *compileEntry, info CompileInfo, trace *CompileTrace) (*compiledPlugin, error) {
	waiting := false
	select {
	case <-e.done:
	default:
		waiting = e.cold
	}
	if waiting {
		trace.start(info)
	}
	cp, err := waitCompile(ctx, e, info.Plugin)
	if waiting {
		trace.done(info, err)
	}
	return cp, err
}
