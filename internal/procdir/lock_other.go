//go:build !unix

package procdir

import (
	"io/fs"
	"os"
)

const (
	canLock     = false
	checksOwner = false
)

func lockDir(string) (*os.File, error)    { return nil, nil }
func tryLockDir(string) (*os.File, error) { return nil, nil }
func running(int) bool                    { return true }
func owner(fs.FileInfo) (int, bool)       { return 0, false }
