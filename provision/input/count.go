package input

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
)

// countCSV counts the data rows, those below the header line, of the CSV file called name, as the reader would read them
// but without making strings of the cells, so that it runs beside a run at little cost. An
// encoding whose delimiters, quotes and line ends are ASCII bytes is counted undecoded.
func countCSV(ctx context.Context, name string, enc textEncoding, comma rune, header int) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if enc.stateless {
		enc.decoder = nil
	}
	br, _, err := csvText(bufio.NewReaderSize(f, 256<<10), enc)
	if err != nil {
		return 0, err
	}
	p := newCSVRecords(br, byte(comma))
	var n int64
	for i := 0; ; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		line, _, err := p.parse()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if line > header && len(bytes.TrimSpace(p.buf)) > 0 { // a blank row is not counted
			n++
		}
	}
}
