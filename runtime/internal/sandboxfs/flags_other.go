//go:build !unix

package sandboxfs

import experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

// platformFlags maps the open flags that only Unix defines: none here.
func platformFlags(experimentalsys.Oflag) int { return 0 }

// nonBlocking is added to every open where the platform has it.
const nonBlocking = 0
