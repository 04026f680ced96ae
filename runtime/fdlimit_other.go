//go:build !unix

package runtime

// defaultMaxTotalOpenFiles is Options.MaxTotalOpenFiles' default where the
// process's open-file limit cannot be read.
func defaultMaxTotalOpenFiles() int { return maxTotalOpenFiles }
