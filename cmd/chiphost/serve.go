package main

import (
	"context"
	"errors"
	"io"
)

func serveCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("serve: not implemented yet")
}
