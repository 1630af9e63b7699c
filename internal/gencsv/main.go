// Command gencsv writes a realistic input file of any size for benchmarks and memory checks
// (see package people). The output is deterministic for a given -rows and -seed.
//
//	go run ./internal/gencsv -rows 1000000 -o /tmp/people.csv
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ideanote-provision/ideanote-provision/internal/people"
)

func main() {
	rows := flag.Int("rows", 1000000, "data rows to write")
	out := flag.String("o", "-", "output file, - for standard output")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gencsv:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	if err := people.Write(w, *rows, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gencsv:", err)
		os.Exit(1)
	}
}
