// Package abi implements the parts of the Component Model canonical ABI
// (the Component Model's CanonicalABI.md, as Chipmunk's WIT types use it)
// that chiphost needs to call Chipmunk plugins: sizes, alignments and
// flattening of WIT value types, the core signatures of lifted exports and
// lowered imports, lifting guest values out of linear memory into [Value]s,
// and lowering [Value]s into linear memory through the guest's realloc. (The
// canonical JSON form of values, used to compare chiphost with a JavaScript
// reference host, is test support: package abitest.)
//
// Only wasm32 is supported. Strings are lifted and lowered in the encoding
// of the canon lift or lower ([Signature].Encoding: utf8, utf16 or
// latin1+utf16, with the realloc calls of the spec's transcoding stores).
// Resource handles (own and borrow) are lifted and lowered through
// [Handles], which [Tables] implements: per-instance handle tables, one per
// resource type, with the canonical ABI's traps on misuse. Futures and
// streams are not supported.
//
// Lifting treats the guest as hostile: every pointer, length, alignment,
// discriminant, char and string is checked, and every violation is an
// [*Error] naming the value path ("result.ok[3].value.some.message.columns[1]"),
// never a panic. The [Lifter] is built for the parse hot path: it copies
// strings and byte lists into arena blocks it owns, takes [Value]s from a
// slab, caches layouts per *wit.Type, and reuses all of it after [Lifter.Reset].
//
// Where the canonical ABI leaves a choice or is lenient, lifting follows
// CanonicalABI.md exactly:
//
//   - bool: any non-zero byte (in memory) or i32 (flat) is true
//     (convert_int_to_bool); it is never an error.
//   - u8, s8, u16, s16 from a flat i32: the unused high bits are ignored
//     (lift_flat_unsigned/signed); an i32 payload in a joined i64 slot of a
//     flat variant is wrapped to 32 bits (wrap_i64_to_i32).
//   - flags: bits beyond the last flag are ignored (unpack_flags_from_int).
//   - f32 and f64: every NaN becomes the canonical NaN (canonicalize_nan).
//   - discriminants, chars (Unicode scalar values), UTF-8, UTF-16 (no
//     unpaired surrogates), and the bounds
//     and alignment of every pointer (empty strings and lists included) are
//     checked, as the spec's trap_if calls do.
//
// Beyond the spec, lists of zero-size elements are limited to
// MaxEmptyListLen, and Lifter.MaxBytes bounds the memory of a lift.
// Lowering is strict about host values: a bool must be 0 or 1, integers must
// be in range, flags must not set unknown bits, and NaNs are stored
// canonical (the spec's deterministic profile).
//
// Typical use:
//
//	sig := abi.ExportSignature(parse)
//	flat, err := (&abi.Lowerer{Mem: mem, Realloc: realloc}).LowerParams(ctx, &sig, args, nil)
//	results, err := fn.Call(ctx, flat...)
//	v, err := lifter.LiftResult(mem, &sig, results) // before post-return
//
// Package abi imports only the standard library, package wit,
// internal/jsonstr and github.com/tetratelabs/wazero/api (for its ValueType constants). It must
// not import the wazero runtime, the component decoder or anything JSON-RPC:
// the caller supplies memory and realloc through [Memory] and [Realloc].
package abi
