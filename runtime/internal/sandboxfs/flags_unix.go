//go:build unix

package sandboxfs

import (
	"syscall"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// platformFlags maps the open flags that only Unix defines.
func platformFlags(flag experimentalsys.Oflag) int {
	var f int
	if flag&experimentalsys.O_DIRECTORY != 0 {
		f |= syscall.O_DIRECTORY
	}
	if flag&experimentalsys.O_DSYNC != 0 {
		f |= syscall.O_DSYNC
	}
	if flag&experimentalsys.O_NONBLOCK != 0 {
		f |= syscall.O_NONBLOCK
	}
	return f
}

// nonBlocking is added to every open: a named pipe without a writer would
// block open(2) forever.
const nonBlocking = syscall.O_NONBLOCK
