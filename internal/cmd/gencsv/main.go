// Command gencsv writes a realistic input file of any size for benchmarks and memory checks
// (see package people): CSV in any encoding, or an .xlsx workbook. The output is
// deterministic for a given -rows and -seed.
//
//	go run ./internal/cmd/gencsv -rows 1000000 -o /tmp/people.csv
//	go run ./internal/cmd/gencsv -rows 1000000 -encoding windows-1252 -comma ';' -o /tmp/people-1252.csv
//	go run ./internal/cmd/gencsv -rows 100000 -o /tmp/people.xlsx     # a workbook, by its name
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/ideanote-provision/ideanote-provision/internal/cmd/toolkit"
	"github.com/ideanote-provision/ideanote-provision/internal/people"
)

func main() {
	rows := flag.Int("rows", 1000000, "data rows to write")
	out := flag.String("o", "-", "output file, - for standard output; a name ending in .xlsx writes a workbook")
	seed := flag.Uint64("seed", 1, "random seed")
	enc := flag.String("encoding", "utf-8", "text encoding of a CSV (WHATWG label); names it cannot represent are left out")
	comma := flag.String("comma", ",", "CSV delimiter")
	inline := flag.Bool("inline", false, "write an .xlsx with inline strings (excelize's stream writer) rather than a shared-string table, as Excel does")
	flag.Parse()
	var err error
	if strings.EqualFold(filepath.Ext(*out), ".xlsx") {
		err = writeXLSX(*out, *rows, *seed, *inline)
	} else {
		err = writeCSV(*out, *rows, *seed, *enc, *comma)
	}
	if err != nil {
		toolkit.Exit(1, err)
	}
}

func writeCSV(out string, rows int, seed uint64, label, comma string) error {
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	var keep func(string) bool
	if e, err := htmlindex.Get(label); err != nil {
		return err
	} else if name, _ := htmlindex.Name(e); name != "utf-8" {
		w := e.NewEncoder().Writer(bw)
		defer func() { bw.Flush() }()
		keep = func(s string) bool { _, err := e.NewEncoder().String(s); return err == nil }
		return writeRecords(csv.NewWriter(w), rows, seed, keep, comma)
	}
	if err := writeRecords(csv.NewWriter(bw), rows, seed, nil, comma); err != nil {
		return err
	}
	return bw.Flush()
}

func writeRecords(cw *csv.Writer, rows int, seed uint64, keep func(string) bool, comma string) error {
	if len(comma) != 1 {
		return errors.New("-comma: one character")
	}
	cw.Comma = rune(comma[0])
	cw.Write(people.Header)
	people.Rows(rows, seed, keep, func(rec []string) bool { return cw.Write(rec) == nil })
	cw.Flush()
	return cw.Error()
}

// writeXLSX writes the rows into a workbook. Excel keeps cell text in a table of shared
// strings, which excelize builds in memory; inline strings are streamed.
func writeXLSX(out string, rows int, seed uint64, inline bool) error {
	f := excelize.NewFile()
	defer f.Close()
	var sw *excelize.StreamWriter
	if inline {
		var err error
		if sw, err = f.NewStreamWriter("Sheet1"); err != nil {
			return err
		}
	}
	var err error
	row := 1
	set := func(rec []string) bool {
		cells := make([]any, len(rec))
		for i, v := range rec {
			if v != "" {
				cells[i] = v
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		if sw != nil {
			err = sw.SetRow(cell, cells)
		} else {
			err = f.SetSheetRow("Sheet1", cell, &cells)
		}
		return err == nil
	}
	set(people.Header)
	people.Rows(rows, seed, nil, set)
	if err != nil {
		return err
	}
	if sw != nil {
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return f.SaveAs(out)
}
