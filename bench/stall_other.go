//go:build !unix

package bench

import (
	"errors"
	"time"
)

// canStall says whether stall works here.
const canStall = false

func stall(int, time.Duration) error { return errors.New("no SIGSTOP on this platform") }
