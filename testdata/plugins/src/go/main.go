// go_records: a chipmunk:parser/parse@0.1.0 test plugin in Go (GOOS=wasip1, c-shared reactor) that
// produces every parse-return shape of the WIT. The canonical ABI is written by hand: there is no
// wit-bindgen for Go reachable from this build.
//
// Input is a sequence of lines `kind|payload` (the separator is the `sep` config item):
//
//	line|text               message line(text)
//	cols|a,b,c              message columns([a b c])
//	attach|name|base64      attachment only; messages = [index of the previous message]
//	both|text|name|base64   message-and-attachment; messages = [index of this message]
//	skip|anything           value none (skipped bytes)
//	eof                     value none; a later parse of empty input returns err(eof)
//
// A line without the separator is err(parse("no separator")) when it comes first, otherwise the
// call stops and returns the items so far (the same rule applies to other bad lines). Input that
// does not end in '\n' is err(incomplete) if nothing was parsed before it. `max-items` > 0 caps the
// number of items per call.
package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"
)

func main() {}

// ---- memory ----------------------------------------------------------------

// Every buffer handed to or received from the host stays reachable here until the post-return
// of the call (Go's GC does not move objects, so the addresses stay valid).
var keep = map[uint32][]byte{}

func alloc(size, align uint32) uint32 {
	if size == 0 {
		return align
	}
	b := make([]byte, size+align)
	p := uint32(uintptr(unsafe.Pointer(&b[0])))
	p = (p + align - 1) &^ (align - 1)
	keep[p] = b
	return p
}

func release() { clear(keep) }

func mem(p, n uint32) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n)
}
func put8(p uint32, v uint8)   { *(*uint8)(unsafe.Pointer(uintptr(p))) = v }
func put16(p uint32, v uint16) { *(*uint16)(unsafe.Pointer(uintptr(p))) = v }
func put32(p uint32, v uint32) { *(*uint32)(unsafe.Pointer(uintptr(p))) = v }
func put64(p uint32, v uint64) { *(*uint64)(unsafe.Pointer(uintptr(p))) = v }
func get8(p uint32) uint8      { return *(*uint8)(unsafe.Pointer(uintptr(p))) }
func get32(p uint32) uint32    { return *(*uint32)(unsafe.Pointer(uintptr(p))) }

// putBytes copies b into a fresh allocation and stores (ptr, len) at p.
func putBytes(p uint32, b []byte) {
	q := alloc(uint32(len(b)), 1)
	copy(mem(q, uint32(len(b))), b)
	put32(p, q)
	put32(p+4, uint32(len(b)))
}
func putStr(p uint32, s string) { putBytes(p, []byte(s)) }
func getStr(p uint32) string    { return string(mem(get32(p), get32(p+4))) }

//go:wasmexport cabi_realloc
func cabiRealloc(old, oldSize, align, newSize uint32) uint32 {
	p := alloc(newSize, align)
	if old != 0 && oldSize != 0 {
		copy(mem(p, min(oldSize, newSize)), mem(old, min(oldSize, newSize)))
	}
	return p
}

// The WASI adapter allocates its state through this export instead of cabi_realloc, so it never
// re-enters the Go allocator while the runtime starts (design/component-model.md §4.6).
var adapterArena [512 << 10]byte
var adapterUsed uint32

//go:wasmexport cabi_realloc_adapter
func cabiReallocAdapter(old, oldSize, align, newSize uint32) uint32 {
	base := uint32(uintptr(unsafe.Pointer(&adapterArena[0])))
	p := (base + adapterUsed + align - 1) &^ (align - 1)
	if p+newSize-base > uint32(len(adapterArena)) {
		panic("adapter arena exhausted")
	}
	adapterUsed = p + newSize - base
	if old != 0 && oldSize != 0 {
		copy(mem(p, min(oldSize, newSize)), mem(old, min(oldSize, newSize)))
	}
	return p
}

// ---- imports -----------------------------------------------------------------

//go:wasmimport chipmunk:shared/logging@0.1.0 log
func hostLog(level uint32, ptr unsafe.Pointer, n uint32)

//go:wasmimport chipmunk:shared/sandbox@0.1.0 temp-directory
func hostTempDir(ret unsafe.Pointer)

const (
	lvlError = iota
	lvlWarn
	lvlInfo
	lvlDebug
	lvlTrace
)

func logMsg(level uint32, s string) {
	b := append([]byte(s), 0)
	hostLog(level, unsafe.Pointer(&b[0]), uint32(len(s)))
}

// ---- exports -------------------------------------------------------------------

var ret [2]uint64 // 16-byte return area, 8-aligned

func retp() uint32 { return uint32(uintptr(unsafe.Pointer(&ret[0]))) }


//go:wasmexport chipmunk:parser/parser@0.1.0#get-version
func getVersion() uint32 {
	p := retp()
	put16(p, 0)
	put16(p+2, 3)
	put16(p+4, 0)
	return p
}

// config-schema-item (48 bytes): id @0, title @8, description option<string> @16, input-type @28
// (discriminant) with its payload @32.
func putSchema(p uint32, id, title, desc string, typ uint8) {
	putStr(p, id)
	putStr(p+8, title)
	put8(p+16, 1)
	putStr(p+20, desc)
	put8(p+28, typ)
}

//go:wasmexport chipmunk:parser/parser@0.1.0#get-config-schemas
func getConfigSchemas() uint32 {
	items := alloc(2*48, 4)
	putSchema(items, "sep", "Separator", "Separates the kind of a line from its payload", 3)
	putStr(items+32, "|")
	putSchema(items+48, "max-items", "Max items", "Most items returned by one parse call (0: unlimited)", 1)
	put32(items+48+32, 0)
	p := retp()
	put32(p, items)
	put32(p+4, 2)
	return p
}

//go:wasmexport cabi_post_chipmunk:parser/parser@0.1.0#get-config-schemas
func postGetConfigSchemas(uint32) { release() }

//go:wasmexport chipmunk:parser/parser@0.1.0#get-render-options
func getRenderOptions() uint32 {
	p := retp()
	put8(p, 0) // columns-options: none
	return p
}

var (
	sep      = "|"
	maxItems = 0
	msgIndex uint64 // messages produced so far by this instance
	sawEOF   bool
)

func initErr(kind uint8, msg string) uint32 {
	p := retp()
	put8(p, 1)
	put8(p+4, kind)
	putStr(p+8, msg)
	return p
}

//go:wasmexport chipmunk:parser/parser@0.1.0#init
func initPlugin(level, items, n uint32) uint32 {
	names := []string{"error", "warn", "info", "debug", "trace"}
	for l := uint32(lvlError); l <= lvlTrace; l++ {
		logMsg(l, "go_records init: "+names[l]+" message (configured level "+names[level]+")")
	}
	for i := uint32(0); i < n; i++ {
		it := items + i*20 // config-item: id @0, value @8 (discriminant) with payload @12
		id := getStr(it)
		switch {
		case id == "sep" && get8(it+8) == 3:
			sep = getStr(it + 12)
			if sep == "" {
				return initErr(0, "sep must not be empty")
			}
		case id == "max-items" && get8(it+8) == 1:
			maxItems = int(int32(get32(it + 12)))
		case id == "sep" || id == "max-items":
			return initErr(0, "Invalid config value for '"+id+"' is provided")
		default:
			return initErr(0, "Unknown configuration ID: "+id)
		}
	}
	var tr [3]uint32 // result<string, string>: discriminant @0, string @4
	hostTempDir(unsafe.Pointer(&tr[0]))
	dir := getStr(uint32(uintptr(unsafe.Pointer(&tr[1]))))
	if tr[0]&0xff != 0 {
		return initErr(1, "temp-directory failed: "+dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "go_records.txt"), []byte("written by go_records init\n"), 0o644); err != nil {
		return initErr(1, "writing into the temp directory failed: "+err.Error())
	}
	logMsg(lvlInfo, "go_records wrote go_records.txt into the temp directory")
	p := retp()
	put8(p, 0)
	return p
}

//go:wasmexport cabi_post_chipmunk:parser/parser@0.1.0#init
func postInit(uint32) { release() }

// parse-error cases
const (
	peUnrecoverable = iota
	peParse
	peIncomplete
	peEOF
)

type lineErr struct {
	kind uint8
	msg  string
}

// writeMessage writes a parsed-message (12 bytes) at p.
func writeMessage(p uint32, kind, payload string) {
	if kind == "cols" {
		cols := strings.Split(payload, ",")
		l := alloc(uint32(8*len(cols)), 4)
		for i, c := range cols {
			putStr(l+uint32(8*i), c)
		}
		put8(p, 1)
		put32(p+4, l)
		put32(p+8, uint32(len(cols)))
		return
	}
	put8(p, 0)
	putStr(p+4, payload)
}

// writeAttachment writes an attachment (56 bytes, 8-aligned) at p.
func writeAttachment(p uint32, name string, data []byte, messages []uint64) {
	putStr(p, name)
	put64(p+8, uint64(len(data)))
	put8(p+16, 1)
	putStr(p+20, "2024-01-01")
	put8(p+28, 0)
	l := alloc(uint32(8*len(messages)), 8)
	for i, m := range messages {
		put64(l+uint32(8*i), m)
	}
	put32(p+40, l)
	put32(p+44, uint32(len(messages)))
	putBytes(p+48, data)
}

// parseLine fills the parse-return record at r for one line (without its '\n').
func parseLine(r uint32, line string) *lineErr {
	if line == "eof" {
		sawEOF = true
		put8(r, 0)
		return nil
	}
	kind, payload, ok := strings.Cut(line, sep)
	if !ok {
		return &lineErr{peParse, "no separator"}
	}
	y := r + 8 // parse-yield: discriminant @0, payload @8
	switch kind {
	case "line", "cols":
		put8(r, 1)
		put8(y, 0)
		writeMessage(y+8, kind, payload)
		msgIndex++
	case "attach":
		name, b64, _ := strings.Cut(payload, sep)
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return &lineErr{peParse, "bad base64: " + err.Error()}
		}
		var msgs []uint64
		if msgIndex > 0 {
			msgs = []uint64{msgIndex - 1}
		}
		put8(r, 1)
		put8(y, 1)
		writeAttachment(y+8, name, data, msgs)
	case "both":
		parts := strings.SplitN(payload, sep, 3)
		if len(parts) != 3 {
			return &lineErr{peParse, "both needs text, name and data"}
		}
		data, err := base64.StdEncoding.DecodeString(parts[2])
		if err != nil {
			return &lineErr{peParse, "bad base64: " + err.Error()}
		}
		put8(r, 1)
		put8(y, 2)
		writeMessage(y+8, "line", parts[0])
		writeAttachment(y+24, parts[1], data, []uint64{msgIndex})
		msgIndex++
	case "skip":
		put8(r, 0)
	default:
		return &lineErr{peUnrecoverable, "unknown kind " + strconv.Quote(kind)}
	}
	return nil
}

//go:wasmexport chipmunk:parser/parser@0.1.0#parse
func parse(data, n uint32, hasTS uint32, ts uint64) uint32 {
	in := mem(data, n)
	p := retp()
	fail := func(e lineErr) uint32 {
		put8(p, 1)
		put8(p+4, e.kind)
		if e.kind == peUnrecoverable || e.kind == peParse {
			putStr(p+8, e.msg)
		}
		return p
	}
	if len(in) == 0 && sawEOF {
		return fail(lineErr{kind: peEOF})
	}
	var records []uint32
	limit := maxItems
	if limit <= 0 {
		limit = int(^uint(0) >> 1)
	}
	for len(in) > 0 && len(records) < limit {
		nl := bytes.IndexByte(in, '\n')
		if nl < 0 {
			if len(records) == 0 {
				return fail(lineErr{kind: peIncomplete})
			}
			break
		}
		r := alloc(96, 8)
		mem(r, 96)[0] = 0
		if e := parseLine(r, string(in[:nl])); e != nil {
			if len(records) == 0 {
				return fail(*e)
			}
			break
		}
		put64(r+88, uint64(nl+1))
		records = append(records, r)
		in = in[nl+1:]
	}
	list := alloc(uint32(96*len(records)), 8)
	for i, r := range records {
		copy(mem(list+uint32(96*i), 96), mem(r, 96))
	}
	put8(p, 0)
	put32(p+4, list)
	put32(p+8, uint32(len(records)))
	return p
}

//go:wasmexport cabi_post_chipmunk:parser/parser@0.1.0#parse
func postParse(uint32) { release() }

