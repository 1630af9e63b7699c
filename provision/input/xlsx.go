package input

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xlsxOptions keep a large workbook out of memory: a sheet or shared-string table over 4 MiB
// unzipped is extracted to a temporary file and streamed from there (excelize's default is
// 16 MiB), and no workbook may unzip to more than 1 GiB, so that a zip bomb stops early.
var xlsxOptions = excelize.Options{UnzipXMLSizeLimit: 4 << 20, UnzipSizeLimit: 1 << 30}

// maxStreamXLSX bounds an .xlsx read from standard input, which is held in memory.
const maxStreamXLSX = 256 << 20

// xlsxRecords reads the rows of one worksheet with excelize's streaming row iterator, cell
// values formatted as Excel shows them (an employee number typed as a number is "4711").
type xlsxRecords struct {
	f    *excelize.File
	rows *excelize.Rows
	row  int // sheet row of the last record
}

func openXLSXFile(name string, opts Options) (*Reader, error) {
	return openXLSX(func() (*excelize.File, error) { return excelize.OpenFile(name, xlsxOptions) }, opts)
}

func openXLSXStream(in io.Reader, opts Options) (*Reader, error) {
	return openXLSX(func() (*excelize.File, error) {
		return excelize.OpenReader(io.LimitReader(in, maxStreamXLSX), xlsxOptions)
	}, opts)
}

// openXLSX opens a workbook, chooses the sheet and reads its header. A file that excelize
// cannot open, or that makes it panic, is "not an .xlsx file".
func openXLSX(open func() (*excelize.File, error), opts Options) (r *Reader, err error) {
	var f *excelize.File
	err = safely(func() error {
		var err error
		f, err = open()
		return err
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, &FileError{Msg: fmt.Sprintf("not an .xlsx file, or a damaged one (%v)", err), Err: err}
	}
	src := &xlsxRecords{f: f}
	defer func() {
		if err != nil {
			src.close()
		}
	}()
	var sheet string
	err = safely(func() error {
		var err error
		if sheet, err = chooseSheet(f, opts.Sheet); err != nil {
			return err
		}
		src.rows, err = f.Rows(sheet)
		return err
	})
	if err != nil {
		if _, ok := err.(*FileError); ok {
			return nil, err
		}
		return nil, &FileError{Msg: fmt.Sprintf("not an .xlsx file, or a damaged one (%v)", err), Err: err}
	}
	r, err = newReader(src, fmt.Sprintf("xlsx (sheet %q)", sheet), opts)
	if fe, ok := err.(*FileError); ok && opts.Sheet == "" {
		if sheets := f.GetSheetList(); len(sheets) > 1 {
			// The first sheet of many workbooks is a cover page: say where else to look.
			fe.Msg += fmt.Sprintf(" on the first sheet, %q, of %s", sheet, strings.Join(sheets, ", "))
			fe.Fix = append(fe.Fix, Fix{"Sheet", "NAME"})
		}
	}
	if err != nil {
		return nil, err
	}
	header := src.row
	r.count = func(ctx context.Context) (int64, error) { return countSheet(ctx, f, sheet, header) }
	return r, nil
}

// countSheet returns the number of rows after the header: from the sheet's dimension, or,
// when the workbook does not keep it (excelize writes "A1"), by reading the rows' numbers
// with a second iterator, which is safe beside the first.
func countSheet(ctx context.Context, f *excelize.File, sheet string, header int) (int64, error) {
	if last := lastRow(f, sheet); last > header {
		return int64(last - header), nil
	}
	var last int
	err := safely(func() error {
		rows, err := f.Rows(sheet)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if last++; last%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return rows.Error()
	})
	if err != nil {
		return 0, err
	}
	return int64(max(last-header, 0)), nil
}

// chooseSheet returns the sheet called name (exactly, else ignoring case), or the first visible
// sheet when name is "".
func chooseSheet(f *excelize.File, name string) (string, error) {
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return "", &FileError{Msg: "the workbook has no sheets"}
	}
	if name == "" {
		for _, s := range sheets {
			if visible, err := f.GetSheetVisible(s); err == nil && visible {
				return s, nil
			}
		}
		return sheets[0], nil
	}
	for _, s := range sheets {
		if s == name {
			return s, nil
		}
	}
	for _, s := range sheets {
		if strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(name)) {
			return s, nil
		}
	}
	return "", &FileError{Msg: fmt.Sprintf("--sheet %s: no such sheet in the workbook (sheets: %s)", name, strings.Join(sheets, ", "))}
}

// lastRow returns the last row of the sheet's dimension ("A1:F1001" gives 1001), or 0 when the
// workbook does not say.
func lastRow(f *excelize.File, sheet string) int {
	var last int
	safely(func() error {
		ref, err := f.GetSheetDimension(sheet)
		if _, end, ok := strings.Cut(ref, ":"); ok && err == nil {
			_, last, _ = excelize.CellNameToCoordinates(end)
		}
		return nil
	})
	return last
}

func (x *xlsxRecords) next() (cells []string, line int, bad string, err error) {
	err = safely(func() error {
		if !x.rows.Next() {
			if err := x.rows.Error(); err != nil {
				return err
			}
			return io.EOF
		}
		x.row++
		var cerr error
		cells, cerr = x.rows.Columns()
		if cerr != nil {
			bad = fmt.Sprintf("the workbook's row %d cannot be read: %v", x.row, cerr)
		}
		return nil
	})
	if err != nil && err != io.EOF {
		err = fmt.Errorf("the workbook is damaged at row %d: %w", x.row, err)
	}
	return cells, x.row, bad, err
}

func (x *xlsxRecords) close() error {
	if x.rows != nil {
		x.rows.Close()
	}
	return x.f.Close() // removes the temporary files
}

// safely runs fn, turning a panic into an error: excelize is not hardened against damaged or
// hostile workbooks, and one must not bring the program down.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return fn()
}
