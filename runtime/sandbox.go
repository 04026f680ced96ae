package runtime

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"

	"github.com/chiphost/chiphost/runtime/internal/sandboxfs"
	"github.com/chiphost/chiphost/runtime/internal/wasip2"
)

// lineWriter turns a plugin's stdout or stderr into log records, one per
// line (long lines are cut at maxLogLine bytes).
type lineWriter struct {
	in     *instance
	source LogSource
	level  LogLevel
	buf    []byte
}

const maxLogLine = 16 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLogLine {
				w.flush()
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineWriter) flush() {
	if len(w.buf) == 0 {
		return
	}
	line := string(bytes.ToValidUTF8(bytes.TrimSuffix(w.buf, []byte{'\r'}), []byte("\uFFFD")))
	w.buf = w.buf[:0]
	if w.source == FromStderr {
		w.in.stderrX.add(line)
	}
	w.in.emitLog(w.level, w.source, line)
}

// emitLog forwards one plugin log line to the Host's callback and logger.
func (in *instance) emitLog(level LogLevel, source LogSource, msg string) {
	h := in.host
	h.log.Debug().Str("plugin", in.cp.name).Uint64("instance", in.id).Str("level", level.String()).Str("from", string(source)).Msg(msg)
	if sink := h.logSink.Load(); sink != nil {
		(*sink)(LogRecord{Plugin: in.cp.name, Instance: in.id, Tag: in.logTag, Level: level, Source: source, Message: msg})
	}
}

// fileSubset is a read-only file system rooted at a host directory that
// shows only the named files: a plugin configured with one file sees that
// file, not its siblings.
type fileSubset struct {
	dir   string
	names map[string]bool
}

func newFileSubset(dir string, names []string) fs.FS {
	s := &fileSubset{dir: dir, names: map[string]bool{}}
	for _, n := range names {
		s.names[n] = true
	}
	return s
}

func (s *fileSubset) allowed(name string) bool {
	name = path.Clean(name)
	return name == "." || s.names[name]
}

// Open implements fs.FS.
func (s *fileSubset) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) || !s.allowed(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	// A configured file is what the user named: if it is a link, it is
	// followed here, on the host.
	f, err := sandboxfs.OpenRegular(filepath.Join(s.dir, filepath.FromSlash(path.Clean(name))))
	if err != nil {
		return nil, err
	}
	if name != "." {
		return f, nil
	}
	return &subsetDir{File: f, s: s}, nil
}

// subsetDir filters directory listings of the root.
type subsetDir struct {
	fs.File
	s *fileSubset
}

// ReadDir implements fs.ReadDirFile.
func (d *subsetDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rd, ok := d.File.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: ".", Err: fs.ErrInvalid}
	}
	all, err := rd.ReadDir(-1)
	var out []fs.DirEntry
	for _, e := range all {
		if d.s.names[e.Name()] {
			out = append(out, e)
		}
	}
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out, err
}

// fsConfig builds the instance's file system, for WASI preview 1 (wazero's
// mounts) and WASI 0.2 (the same file systems as wasi:filesystem
// preopens): its temporary directory read-write, the configured
// directories read-only, and for configured files only those names in
// their directories. Directories are confined
// with sandboxfs, so no path the guest resolves (through `..` or symbolic
// links, its own or planted by others) leaves them.
func (in *instance) fsConfig(m mounts) (wazero.FSConfig, error) {
	fsc := wazero.NewFSConfig()
	temp, err := sandboxfs.Open(in.temp.path, in.refused)
	if err != nil {
		return nil, &Error{Kind: KindIO, Plugin: in.cp.name, Op: "instantiate", Err: fmt.Errorf("open temporary directory: %w", err)}
	}
	in.roots = append(in.roots, temp)
	tempFS := in.limitOpenFiles(temp)
	fsc = fsc.(sysfs.FSConfig).WithSysFSMount(tempFS, in.temp.path)
	in.wasi.AddPreopen(wasip2.Preopen{Guest: in.temp.path, FS: tempFS, Writable: true})
	for _, d := range m.dirs {
		root, err := sandboxfs.Open(d, in.refused)
		if err != nil {
			// The plugin gets ENOENT for it, as for any missing path.
			in.host.log.Debug().Str("plugin", in.cp.name).Str("dir", d).Err(err).Msg("configured directory not mounted")
			continue
		}
		in.roots = append(in.roots, root)
		ro := in.limitOpenFiles(sandboxfs.ReadOnly(root, in.refused))
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(ro, d)
		in.wasi.AddPreopen(wasip2.Preopen{Guest: d, FS: ro})
	}
	for dir, names := range m.files {
		subset := in.limitOpenFiles(sandboxfs.ReadOnly(&sysfs.AdaptFS{FS: newFileSubset(dir, names)}, in.refused))
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(subset, dir)
		in.wasi.AddPreopen(wasip2.Preopen{Guest: dir, FS: subset})
	}
	return fsc, nil
}

// limitOpenFiles counts the files the plugin opens through fsys against
// Options.MaxOpenFiles and Options.MaxTotalOpenFiles.
func (in *instance) limitOpenFiles(fsys experimentalsys.FS) experimentalsys.FS {
	return sandboxfs.LimitOpenFiles(fsys, &in.openFiles, in.refused)
}

// refused logs a file-system operation the sandbox refused: the first
// maxLoggedRefusals of an instance, then only a count, logged when the
// instance closes (a plugin that fails in a loop must not flood the log).
// The path comes from the guest and is made printable and cut.
func (in *instance) refused(op, name, reason string) {
	if n := in.refusals.Add(1); n > maxLoggedRefusals {
		return
	}
	in.host.log.Warn().Str("plugin", in.cp.name).Uint64("instance", in.id).Str("op", op).Str("path", sandboxfs.Printable(name)).Msg("sandbox refused: " + reason)
}

// maxLoggedRefusals is how many refusals an instance logs one by one.
const maxLoggedRefusals = 32

// logRefusalCount logs how many refusals were not logged one by one.
func (in *instance) logRefusalCount() {
	if n := in.refusals.Swap(0); n > maxLoggedRefusals {
		in.host.log.Warn().Str("plugin", in.cp.name).Uint64("instance", in.id).Uint64("refused", n).Msgf("sandbox refused %d operations in all; %d not logged one by one", n, n-maxLoggedRefusals)
	}
}

// holdsTempRoot reports whether dir is the host's temporary root or one of
// its ancestors, comparing real paths (the sandbox confines links to their
// mount, so a mount reaches the root only if it holds it).
func (h *Host) holdsTempRoot(dir string) bool {
	rel, err := filepath.Rel(realPath(dir), realPath(h.opts.TempRoot))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// realPath resolves the links in p, or cleans it when it does not exist.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}
