// Package abi implements the parts of the Component Model canonical ABI
// (design/mvp/CanonicalABI.md upstream; design/component-model.md §3.2 here)
// that chiphost needs to call Chipmunk plugins: sizes, alignments and
// flattening of WIT value types, the core signatures of lifted exports and
// lowered imports, lifting guest values out of linear memory into [Value]s,
// lowering [Value]s into linear memory through the guest's realloc, and the
// canonical JSON form of values used to compare chiphost with a JavaScript
// reference host.
//
// Only wasm32 and the utf8 string encoding are supported. Resources, handles,
// futures and streams do not exist in the wit package and so never reach
// this one.
//
// Lifting treats the guest as hostile: every pointer, length, alignment,
// discriminant, char and string is checked, and every violation is an
// [*Error] naming the value path ("result.ok[3].value.some.message.columns[1]"),
// never a panic. The [Lifter] is built for the parse hot path: it copies
// strings and byte lists into arena blocks it owns, takes [Value]s from a
// slab, caches layouts per *wit.Type, and reuses all of it after [Lifter.Reset].
//
// Typical use:
//
//	sig := abi.ExportSignature(parse)
//	flat, err := (&abi.Lowerer{Mem: mem, Realloc: realloc}).LowerParams(ctx, &sig, args, nil)
//	results, err := fn.Call(ctx, flat...)
//	v, err := lifter.LiftResult(mem, &sig, results) // before post-return
//
// Package abi imports only the standard library, package wit and
// github.com/tetratelabs/wazero/api (for its ValueType constants). It must
// not import the wazero runtime, the component decoder or anything JSON-RPC:
// the caller supplies memory and realloc through [Memory] and [Realloc].
package abi
