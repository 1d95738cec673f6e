// Command batchrun runs batch jobs over files: `batchrun run SPEC`. The
// command line is package internal/cli; exit codes are documented there
// and in the README.
package main

import (
	"os"

	"github.com/batchrun/batchrun/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, os.Stdout, os.Stderr, cli.Hooks{}))
}
