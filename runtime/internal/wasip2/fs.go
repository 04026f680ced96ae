package wasip2

import (
	"context"
	"io/fs"
	"path"
	"strings"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/runtime/internal/sandboxfs"
)

// Preopen is a directory the guest gets from wasi:filesystem/preopens: a
// confined file system (the runtime passes sandboxfs roots, read-only ones
// for configured paths) and the name the guest sees.
type Preopen struct {
	Guest string
	FS    experimentalsys.FS
	// Writable says whether the descriptor may mutate the directory (the
	// instance's temporary directory); the file system enforces it anyway.
	Writable bool
}

// descriptor is a wasi:filesystem descriptor: a directory (rel is its path
// inside fsys, "." for the preopen itself) or an open file.
type descriptor struct {
	fsys  experimentalsys.FS
	rel   string
	dir   bool
	file  experimentalsys.File // files only
	flags uint64               // descriptor-flags
	// streams counts the live streams on the file: the descriptor may not
	// be dropped before them.
	streams int
}

type dirEntries struct {
	entries []experimentalsys.Dirent
	next    int
}

// fileInput and fileOutput are the streams of read-via-stream and
// write-via-stream / append-via-stream.
type fileInput struct {
	parent *descriptor
	file   experimentalsys.File
	off    int64
}

type fileWriter struct {
	parent *descriptor
	file   experimentalsys.File
	off    int64
	append bool
}

func (f *fileWriter) Write(p []byte) (int, error) {
	var n int
	var errno experimentalsys.Errno
	if f.append {
		n, errno = f.file.Write(p)
	} else {
		n, errno = f.file.Pwrite(p, f.off)
	}
	f.off += int64(n)
	if errno != 0 {
		return n, errno
	}
	return n, nil
}

// Flag bits of descriptor-flags, path-flags and open-flags, in WIT order.
const (
	flagRead            = 1 << 0
	flagWrite           = 1 << 1
	flagMutateDirectory = 1 << 5

	pathSymlinkFollow = 1 << 0

	openCreate    = 1 << 0
	openDirectory = 1 << 1
	openExclusive = 1 << 2
	openTruncate  = 1 << 3
)

// Cases of descriptor-type, in WIT order.
const (
	typeUnknown     = 0
	typeDirectory   = 3
	typeSymlink     = 5
	typeRegularFile = 6
)

// errorCodes maps the file system's error numbers to error-code cases (the
// index in the WIT enum; TestErrorCodeIndexes checks them).
var errorCodes = map[experimentalsys.Errno]uint64{
	experimentalsys.EACCES:       0,  // access
	experimentalsys.EAGAIN:       1,  // would-block
	experimentalsys.EBADF:        3,  // bad-descriptor
	experimentalsys.EEXIST:       7,  // exist
	experimentalsys.EINTR:        11, // interrupted
	experimentalsys.EINVAL:       12, // invalid
	experimentalsys.EIO:          13, // io
	experimentalsys.EISDIR:       14, // is-directory
	experimentalsys.ELOOP:        15, // loop
	experimentalsys.ENAMETOOLONG: 18, // name-too-long
	experimentalsys.ENOENT:       20, // no-entry
	experimentalsys.ENOTDIR:      24, // not-directory
	experimentalsys.ENOTEMPTY:    25, // not-empty
	experimentalsys.ENOSYS:       27, // unsupported
	experimentalsys.ENOTSUP:      27, // unsupported
	experimentalsys.EPERM:        31, // not-permitted
	experimentalsys.EROFS:        33, // read-only
	// The instance's limit of open files (there is no too-many-open-files
	// case): quota, the instance's quota of open files.
	sandboxfs.ErrTooManyOpenFiles: 6,
}

const (
	codeBadDescriptor = 3
	codeIO            = 13
	codeNotPermitted  = 31
	codeUnsupported   = 27
)

func errCode(errno experimentalsys.Errno) abi.Value {
	c, ok := errorCodes[errno]
	if !ok {
		c = codeIO
	}
	return fsErr(c)
}

func fsErr(code uint64) abi.Value { return abi.Value{Num: 1, Elems: []abi.Value{{Num: code}}} }

// AddPreopen gives the guest a preopened directory.
func (w *Instance) AddPreopen(p Preopen) { w.preopens = append(w.preopens, p) }

// resolve joins a guest path to directory d. Absolute paths and paths that
// climb above the preopen as written are refused (not-permitted) and
// reported; links are confined by the file system itself.
func (w *Instance) resolve(d *descriptor, p string) (string, bool) {
	if !d.dir {
		return "", false
	}
	j := path.Join(d.rel, p)
	why := ""
	switch {
	case strings.HasPrefix(p, "/"):
		why = "absolute path"
	case j == ".." || strings.HasPrefix(j, "../"):
		why = "the path climbs out of its directory"
	}
	if why != "" {
		if w.env.Refused != nil {
			w.env.Refused("wasi:filesystem", p, why)
		}
		return "", false
	}
	return j, true
}

func (w *Instance) descriptorOf(v abi.Value) (*descriptor, error) {
	return object[*descriptor](w, v.Num, "descriptor")
}

// fileOf returns the open file behind descriptor v if it was opened with
// the descriptor flag need (read or write), else nil: the operation is
// then bad-descriptor, as on a directory.
func (w *Instance) fileOf(v abi.Value, need uint64) (*descriptor, error) {
	d, err := w.descriptorOf(v)
	if err != nil || d.file == nil || d.flags&need == 0 {
		return nil, err
	}
	return d, nil
}

func datetimeOpt(ns int64) abi.Value {
	return abi.Value{Num: 1, Elems: []abi.Value{datetime(uint64(ns/1e9), uint64(ns%1e9))}}
}

func fileType(m fs.FileMode) uint64 {
	switch {
	case m.IsDir():
		return typeDirectory
	case m&fs.ModeSymlink != 0:
		return typeSymlink
	case m.IsRegular():
		return typeRegularFile
	}
	return typeUnknown
}

func statValue(st sys.Stat_t) abi.Value {
	return ok(abi.Value{Elems: []abi.Value{
		{Num: fileType(st.Mode)}, {Num: st.Nlink}, {Num: uint64(st.Size)},
		datetimeOpt(st.Atim), datetimeOpt(st.Mtim), datetimeOpt(st.Ctim),
	}})
}

// oflags converts open-flags and descriptor-flags for OpenFile.
func oflags(open, flags, pathFlags uint64) experimentalsys.Oflag {
	var o experimentalsys.Oflag
	switch {
	case flags&flagWrite != 0 && flags&flagRead != 0:
		o = experimentalsys.O_RDWR
	case flags&flagWrite != 0:
		o = experimentalsys.O_WRONLY
	default:
		o = experimentalsys.O_RDONLY
	}
	if open&openCreate != 0 {
		o |= experimentalsys.O_CREAT
	}
	if open&openDirectory != 0 {
		o |= experimentalsys.O_DIRECTORY
	}
	if open&openExclusive != 0 {
		o |= experimentalsys.O_EXCL
	}
	if open&openTruncate != 0 {
		o |= experimentalsys.O_TRUNC
	}
	if pathFlags&pathSymlinkFollow == 0 {
		o |= experimentalsys.O_NOFOLLOW
	}
	return o
}

func init() {
	for k, v := range fsImpls {
		impls[k] = v
	}
}

// fsImpls implements wasi:filesystem over the confined file systems.
var fsImpls = map[string]Func{
	"wasi:filesystem/preopens.get-directories": func(_ context.Context, w *Instance, _ []abi.Value) (abi.Value, error) {
		out := make([]abi.Value, len(w.preopens))
		for i, p := range w.preopens {
			flags := uint64(flagRead)
			if p.Writable {
				flags |= flagWrite | flagMutateDirectory
			}
			d := w.hold(&descriptor{fsys: p.FS, rel: ".", dir: true, flags: flags})
			out[i] = abi.Value{Elems: []abi.Value{d, {Str: p.Guest}}}
		}
		return abi.Value{Elems: out}, nil
	},
	"wasi:filesystem/types.[method]descriptor.open-at": atPath(2, func(w *Instance, d *descriptor, p string, a []abi.Value) (abi.Value, error) {
		open, flags := a[3].Num, a[4].Num
		if flags&(flagWrite|flagMutateDirectory) != 0 && d.flags&flagMutateDirectory == 0 {
			return fsErr(33), nil // read-only: no write or mutate-directory under a read-only directory
		}
		f, errno := d.fsys.OpenFile(p, oflags(open, flags, a[1].Num), 0o644)
		if errno != 0 {
			return errCode(errno), nil
		}
		isDir, _ := f.IsDir()
		nd := &descriptor{fsys: d.fsys, rel: p, dir: isDir, flags: flags}
		if isDir {
			f.Close()
			nd.flags |= d.flags & flagMutateDirectory
		} else {
			nd.file = f
		}
		return ok(w.hold(nd)), nil
	}),
	"wasi:filesystem/types.[method]descriptor.read": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.fileOf(a[0], flagRead)
		if err != nil || d == nil {
			return fsErr(codeBadDescriptor), err
		}
		n := a[1].Num
		buf := w.readBuffer(n)
		got, errno := d.file.Pread(buf, int64(a[2].Num))
		if errno != 0 {
			return errCode(errno), nil
		}
		return ok(abi.Value{Elems: []abi.Value{{Bytes: buf[:got]}, boolValue(got == 0 && n > 0)}}), nil
	},
	"wasi:filesystem/types.[method]descriptor.write": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.fileOf(a[0], flagWrite)
		if err != nil || d == nil {
			return fsErr(codeBadDescriptor), err
		}
		n, errno := d.file.Pwrite(a[1].Bytes, int64(a[2].Num))
		if errno != 0 {
			return errCode(errno), nil
		}
		return okU64(uint64(n)), nil
	},
	"wasi:filesystem/types.[method]descriptor.read-via-stream": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.fileOf(a[0], flagRead)
		if err != nil || d == nil {
			return fsErr(codeBadDescriptor), err
		}
		d.streams++
		return ok(w.hold(&fileInput{parent: d, file: d.file, off: int64(a[1].Num)})), nil
	},
	"wasi:filesystem/types.[method]descriptor.write-via-stream": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.fileOf(a[0], flagWrite)
		if err != nil || d == nil {
			return fsErr(codeBadDescriptor), err
		}
		d.streams++
		return ok(w.hold(&outputStream{w: &fileWriter{parent: d, file: d.file, off: int64(a[1].Num)}})), nil
	},
	"wasi:filesystem/types.[method]descriptor.append-via-stream": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.fileOf(a[0], flagWrite)
		if err != nil || d == nil {
			return fsErr(codeBadDescriptor), err
		}
		if errno := d.file.SetAppend(true); errno != 0 {
			return errCode(errno), nil
		}
		d.streams++
		return ok(w.hold(&outputStream{w: &fileWriter{parent: d, file: d.file, append: true}})), nil
	},
	"wasi:filesystem/types.[method]descriptor.get-type": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.descriptorOf(a[0])
		if err != nil {
			return abi.Value{}, err
		}
		if d.dir {
			return ok(abi.Value{Num: typeDirectory}), nil
		}
		return ok(abi.Value{Num: typeRegularFile}), nil
	},
	"wasi:filesystem/types.[method]descriptor.get-flags": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.descriptorOf(a[0])
		if err != nil {
			return abi.Value{}, err
		}
		return ok(abi.Value{Num: d.flags}), nil
	},
	"wasi:filesystem/types.[method]descriptor.stat": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.descriptorOf(a[0])
		if err != nil {
			return abi.Value{}, err
		}
		var st sys.Stat_t
		var errno experimentalsys.Errno
		if d.file != nil {
			st, errno = d.file.Stat()
		} else {
			st, errno = d.fsys.Stat(d.rel)
		}
		if errno != 0 {
			return errCode(errno), nil
		}
		return statValue(st), nil
	},
	"wasi:filesystem/types.[method]descriptor.stat-at": atPath(2, func(w *Instance, d *descriptor, p string, a []abi.Value) (abi.Value, error) {
		var st sys.Stat_t
		var errno experimentalsys.Errno
		if a[1].Num&pathSymlinkFollow != 0 {
			st, errno = d.fsys.Stat(p)
		} else {
			st, errno = d.fsys.Lstat(p)
		}
		if errno != 0 {
			return errCode(errno), nil
		}
		return statValue(st), nil
	}),
	"wasi:filesystem/types.[method]descriptor.read-directory": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.descriptorOf(a[0])
		if err != nil {
			return abi.Value{}, err
		}
		if !d.dir {
			return errCode(experimentalsys.ENOTDIR), nil
		}
		f, errno := d.fsys.OpenFile(d.rel, experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
		if errno != 0 {
			return errCode(errno), nil
		}
		defer f.Close()
		ents, errno := f.Readdir(-1)
		if errno != 0 {
			return errCode(errno), nil
		}
		kept := ents[:0]
		for _, e := range ents {
			if e.Name != "." && e.Name != ".." {
				kept = append(kept, e)
			}
		}
		return ok(w.hold(&dirEntries{entries: kept})), nil
	},
	"wasi:filesystem/types.[method]directory-entry-stream.read-directory-entry": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		s, err := object[*dirEntries](w, a[0].Num, "directory-entry-stream")
		if err != nil {
			return abi.Value{}, err
		}
		if s.next >= len(s.entries) {
			return ok(none), nil
		}
		e := s.entries[s.next]
		s.next++
		entry := abi.Value{Elems: []abi.Value{{Num: fileType(e.Type)}, {Str: e.Name}}}
		return ok(abi.Value{Num: 1, Elems: []abi.Value{entry}}), nil
	},
	"wasi:filesystem/types.[method]descriptor.create-directory-at": pathOp(func(d *descriptor, p string, _ []abi.Value) experimentalsys.Errno {
		return d.fsys.Mkdir(p, 0o755)
	}),
	"wasi:filesystem/types.[method]descriptor.remove-directory-at": pathOp(func(d *descriptor, p string, _ []abi.Value) experimentalsys.Errno {
		return d.fsys.Rmdir(p)
	}),
	"wasi:filesystem/types.[method]descriptor.unlink-file-at": pathOp(func(d *descriptor, p string, _ []abi.Value) experimentalsys.Errno {
		return d.fsys.Unlink(p)
	}),
	"wasi:filesystem/types.[method]descriptor.readlink-at": atPath(1, func(w *Instance, d *descriptor, p string, a []abi.Value) (abi.Value, error) {
		target, errno := d.fsys.Readlink(p)
		if errno != 0 {
			return errCode(errno), nil
		}
		return ok(abi.Value{Str: target}), nil
	}),
	"wasi:filesystem/types.[method]descriptor.symlink-at": atPath(2, func(w *Instance, d *descriptor, p string, a []abi.Value) (abi.Value, error) {
		if errno := d.fsys.Symlink(a[1].Str, p); errno != 0 {
			return errCode(errno), nil
		}
		return ok0, nil
	}),
	"wasi:filesystem/types.[method]descriptor.rename-at": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.descriptorOf(a[0])
		if err != nil {
			return abi.Value{}, err
		}
		to, err := w.descriptorOf(a[2])
		if err != nil {
			return abi.Value{}, err
		}
		from, ok1 := w.resolve(d, a[1].Str)
		dst, ok2 := w.resolve(to, a[3].Str)
		if !ok1 || !ok2 {
			return fsErr(codeNotPermitted), nil
		}
		if d.fsys != to.fsys {
			return fsErr(36), nil // cross-device
		}
		if errno := d.fsys.Rename(from, dst); errno != 0 {
			return errCode(errno), nil
		}
		return ok0, nil
	},
	"wasi:filesystem/types.[method]descriptor.set-size": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.fileOf(a[0], flagWrite)
		if err != nil || d == nil {
			return fsErr(codeBadDescriptor), err
		}
		if errno := d.file.Truncate(int64(a[1].Num)); errno != 0 {
			return errCode(errno), nil
		}
		return ok0, nil
	},
	"wasi:filesystem/types.[method]descriptor.sync":      syncOp,
	"wasi:filesystem/types.[method]descriptor.sync-data": syncOp,
	"wasi:filesystem/types.[method]descriptor.advise": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		_, err := w.descriptorOf(a[0])
		return ok0, err
	},
	"wasi:filesystem/types.[method]descriptor.is-same-object": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		x, err := w.descriptorOf(a[0])
		if err != nil {
			return abi.Value{}, err
		}
		y, err := w.descriptorOf(a[1])
		if err != nil {
			return abi.Value{}, err
		}
		sx, e1 := x.fsys.Stat(x.rel)
		sy, e2 := y.fsys.Stat(y.rel)
		return boolValue(e1 == 0 && e2 == 0 && sx.Dev == sy.Dev && sx.Ino == sy.Ino), nil
	},
	"wasi:filesystem/types.[method]descriptor.metadata-hash": func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.descriptorOf(a[0])
		if err != nil {
			return abi.Value{}, err
		}
		st, errno := d.fsys.Stat(d.rel)
		if errno != 0 {
			return errCode(errno), nil
		}
		return ok(abi.Value{Elems: []abi.Value{{Num: st.Ino}, {Num: st.Dev}}}), nil
	},
	"wasi:filesystem/types.[method]descriptor.metadata-hash-at": atPath(2, func(w *Instance, d *descriptor, p string, a []abi.Value) (abi.Value, error) {
		st, errno := d.fsys.Stat(p)
		if errno != 0 {
			return errCode(errno), nil
		}
		return ok(abi.Value{Elems: []abi.Value{{Num: st.Ino}, {Num: st.Dev}}}), nil
	}),
	// Times and links: not needed by parsers; refused.
	"wasi:filesystem/types.[method]descriptor.set-times":    unsupportedFS,
	"wasi:filesystem/types.[method]descriptor.set-times-at": unsupportedFS,
	"wasi:filesystem/types.[method]descriptor.link-at":      unsupportedFS,
}

// pathOp implements a method taking (self, path) and returning
// result<_, error-code>.
func pathOp(op func(d *descriptor, p string, a []abi.Value) experimentalsys.Errno) Func {
	return atPath(1, func(_ *Instance, d *descriptor, p string, a []abi.Value) (abi.Value, error) {
		if errno := op(d, p, a); errno != 0 {
			return errCode(errno), nil
		}
		return ok0, nil
	})
}

// atPath makes a method of a descriptor that takes a path (argument
// pathArg): fn gets the descriptor and the path resolved inside it, and a
// path that would leave it is not-permitted before fn runs, in one place
// for every such method.
func atPath(pathArg int, fn func(w *Instance, d *descriptor, p string, a []abi.Value) (abi.Value, error)) Func {
	return func(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
		d, err := w.descriptorOf(a[0])
		if err != nil {
			return abi.Value{}, err
		}
		p, okPath := w.resolve(d, a[pathArg].Str)
		if !okPath {
			return fsErr(codeNotPermitted), nil
		}
		return fn(w, d, p, a)
	}
}

func syncOp(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	d, err := w.descriptorOf(a[0])
	if err != nil {
		return abi.Value{}, err
	}
	if d.file != nil {
		if errno := d.file.Sync(); errno != 0 {
			return errCode(errno), nil
		}
	}
	return ok0, nil
}

func unsupportedFS(_ context.Context, w *Instance, a []abi.Value) (abi.Value, error) {
	_, err := w.descriptorOf(a[0])
	return fsErr(codeUnsupported), err
}
