// Package wasmbin holds the pieces of the WebAssembly binary format that
// chiphost's decoders share: a bounds-checked [Reader] with the spec's LEB128
// rules, a section walker ([Walk]), the core-module primitives both decoders
// need (value types, limits, import descriptors), the encoders for the few
// values the rewriters write back, and named constants for the section ids of
// core modules and components, external kinds and opcodes.
//
// Conventions:
//
//   - A Reader never panics and never reads past its slice. [Reader.Done]
//     reports that every byte has been consumed; there is no other end test.
//   - Offsets are absolute: a Reader knows the offset of its first byte in the
//     whole input, so every [Error] names the place in the file.
//   - A read that runs out of bytes fails with "unexpected end of data at
//     offset X", X being where the data ends; a LEB128 that is truncated, too
//     long or out of range fails with the offset where it starts.
//   - Every length and count read from the input is checked against the bytes
//     left before anything is allocated from it.
//
// The package only decodes: it imports the standard library alone and knows
// nothing of components, plans or instrumentation.
package wasmbin
