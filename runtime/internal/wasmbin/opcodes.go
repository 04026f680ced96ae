package wasmbin

// Opcodes of the instructions whose encodings a code rewriter has to know:
// control flow (blocks and labels) and the instructions it emits. Number
// ranges that share one immediate layout are given by their first and last
// opcode.
const (
	OpUnreachable        = 0x00
	OpNop                = 0x01
	OpBlock              = 0x02
	OpLoop               = 0x03
	OpIf                 = 0x04
	OpElse               = 0x05
	OpTry                = 0x06 // legacy exception handling
	OpCatch              = 0x07 // legacy exception handling
	OpThrow              = 0x08
	OpRethrow            = 0x09 // legacy exception handling
	OpThrowRef           = 0x0a
	OpEnd                = 0x0b
	OpBr                 = 0x0c
	OpBrIf               = 0x0d
	OpBrTable            = 0x0e
	OpReturn             = 0x0f
	OpCall               = 0x10
	OpCallIndirect       = 0x11
	OpReturnCall         = 0x12
	OpReturnCallIndirect = 0x13
	OpCallRef            = 0x14
	OpReturnCallRef      = 0x15
	OpDelegate           = 0x18 // legacy exception handling
	OpCatchAll           = 0x19 // legacy exception handling
	OpDrop               = 0x1a
	OpSelect             = 0x1b
	OpSelectTyped        = 0x1c
	OpTryTable           = 0x1f
	OpLocalGet           = 0x20
	OpLocalSet           = 0x21
	OpLocalTee           = 0x22
	OpGlobalGet          = 0x23
	OpGlobalSet          = 0x24
	OpTableGet           = 0x25
	OpTableSet           = 0x26
	OpLoadFirst          = 0x28 // i32.load: loads and stores run to OpStoreLast
	OpStoreLast          = 0x3e // i64.store32
	OpMemorySize         = 0x3f
	OpMemoryGrow         = 0x40
	OpI32Const           = 0x41
	OpI64Const           = 0x42
	OpF32Const           = 0x43
	OpF64Const           = 0x44
	OpI32Eqz             = 0x45 // numeric instructions without immediates run to OpNumericLast
	OpI32Add             = 0x6a
	OpNumericLast        = 0xc4 // i64.extend32_s (sign extension)
	OpRefNull            = 0xd0
	OpRefIsNull          = 0xd1
	OpRefFunc            = 0xd2
	OpRefAsNonNull       = 0xd3
	OpBrOnNull           = 0xd4
	OpRefEq              = 0xd5
	OpBrOnNonNull        = 0xd6

	// Prefixes: a u32 sub-opcode follows.
	OpPrefixGC      = 0xfb
	OpPrefixMisc    = 0xfc // saturating truncation, bulk memory, table instructions
	OpPrefixSIMD    = 0xfd
	OpPrefixThreads = 0xfe
)

// Catch clause kinds of try_table.
const (
	CatchClause       = 0x00 // catch tag label
	CatchRefClause    = 0x01 // catch_ref tag label
	CatchAllClause    = 0x02 // catch_all label
	CatchAllRefClause = 0x03 // catch_all_ref label
)
