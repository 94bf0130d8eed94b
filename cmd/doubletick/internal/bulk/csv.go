// Package bulk creates WhatsApp groups from a CSV file, one row per group,
// resumably: a journal (an SQLite file) records each row's state before and
// after its create request, so that an import stopped by a crash, a kill or
// Ctrl-C goes on where it stopped and never creates a row twice.
package bulk

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/doubletick-go/doubletick"
)

// The columns of an import file. Each row is one group; groupId is required
// in every row, as the stable ID that lets an import resume.
const (
	ColumnWABANumber       = "wabaNumber"
	ColumnSubject          = "subject"
	ColumnDescription      = "description"
	ColumnJoinApprovalMode = "joinApprovalMode"
	ColumnGroupID          = "groupId"
	// ColumnError is the column a failures file adds: why the row failed.
	// It is ignored when the file is imported again.
	ColumnError = "error"
)

// Columns are the columns of an import file, in the order failures files
// write them. wabaNumber, subject and groupId are required; a file may leave
// out description and joinApprovalMode.
var Columns = []string{ColumnWABANumber, ColumnSubject, ColumnDescription, ColumnJoinApprovalMode, ColumnGroupID}

var requiredColumns = []string{ColumnWABANumber, ColumnSubject, ColumnGroupID}

// Row is one group to create, and the line of the file its record starts on.
type Row struct {
	Line    int
	Request doubletick.CreateGroupRequest
}

// RowError is what is wrong with one field of one row. Field is empty when
// the problem is the record itself (a wrong number of fields, a stray quote).
type RowError struct {
	Line    int
	Field   string
	Problem string
}

// Error names the line, the field and the problem.
func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Problem)
}

// HeaderError is a header that lacks a required column, or names a column
// twice or one that is not an import column. Nothing of the file is read
// past it.
type HeaderError struct {
	Missing, Unknown, Repeated []string
}

// Error names the columns wrong and the columns an import file has.
func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing column "+strings.Join(e.Missing, ", "))
	}
	if len(e.Unknown) > 0 {
		parts = append(parts, "unknown column "+strings.Join(e.Unknown, ", "))
	}
	if len(e.Repeated) > 0 {
		parts = append(parts, "column named twice "+strings.Join(e.Repeated, ", "))
	}
	return fmt.Sprintf("line 1: %s (the header names %s; description and joinApprovalMode may be left out)",
		strings.Join(parts, "; "), strings.Join(Columns, ","))
}

// Reader reads the rows of an import file: UTF-8 with or without a byte
// order mark, LF or CRLF line ends, a header line naming the columns in any
// order. It holds one record at a time, whatever the file's size.
type Reader struct {
	csv *csv.Reader
	// index[i] is the record position of Columns[i], or -1.
	index  [5]int
	fields int
	// failures is set for a failures file (it has the error column),
	// whose cells were neutralised when written.
	failures bool
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ErrEmptyFile is the error of an import file with nothing in it.
var ErrEmptyFile = errors.New("the file is empty: it needs a header line naming the columns " + strings.Join(Columns, ","))

// NewReader reads the header of an import file from r. Its error is
// ErrEmptyFile for an empty file and a *HeaderError when the header itself
// is wrong.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(utf8BOM)); bytes.Equal(head, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	c := csv.NewReader(br)
	c.ReuseRecord = true
	header, err := c.Read()
	if errors.Is(err, io.EOF) {
		return nil, ErrEmptyFile
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	rd := &Reader{csv: c, fields: len(header), failures: slices.ContainsFunc(header, func(name string) bool {
		return strings.TrimSpace(name) == ColumnError
	})}
	for i := range rd.index {
		rd.index[i] = -1
	}
	var herr HeaderError
	for pos, name := range header {
		name = strings.TrimSpace(name)
		i := slices.Index(Columns, name)
		switch {
		case name == ColumnError:
		case i < 0:
			herr.Unknown = append(herr.Unknown, fmt.Sprintf("%q", name))
		case rd.index[i] >= 0:
			herr.Repeated = append(herr.Repeated, name)
		default:
			rd.index[i] = pos
		}
	}
	for _, name := range requiredColumns {
		if rd.index[slices.Index(Columns, name)] < 0 {
			herr.Missing = append(herr.Missing, name)
		}
	}
	if herr.Missing != nil || herr.Unknown != nil || herr.Repeated != nil {
		return nil, &herr
	}
	return rd, nil
}

// Next returns the next row and what is wrong with it, if anything: every
// broken rule of every field, each as a *RowError. It returns io.EOF after
// the last row, and other errors when the file cannot be read.
func (rd *Reader) Next() (Row, []error, error) {
	record, err := rd.csv.Read()
	var perr *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return Row{}, nil, io.EOF
	case errors.Is(err, csv.ErrFieldCount):
		line, _ := rd.csv.FieldPos(0)
		return Row{Line: line}, []error{&RowError{Line: line,
			Problem: fmt.Sprintf("has %d fields, the header has %d", len(record), rd.fields)}}, nil
	case errors.As(err, &perr):
		return Row{Line: perr.StartLine}, []error{&RowError{Line: perr.StartLine, Problem: perr.Err.Error()}}, nil
	case err != nil:
		return Row{}, nil, err
	}
	line, _ := rd.csv.FieldPos(0)
	field := func(column int) string {
		pos := rd.index[column]
		switch {
		case pos < 0:
			return ""
		case rd.failures:
			return unneutralise(record[pos])
		}
		return record[pos]
	}
	row := Row{Line: line, Request: doubletick.CreateGroupRequest{
		WABANumber:       field(0),
		Subject:          field(1),
		Description:      field(2),
		JoinApprovalMode: doubletick.JoinApprovalMode(field(3)),
		GroupID:          field(4),
	}}
	return row, row.check(), nil
}

// check returns every rule the row breaks: the SDK's rules for a create
// request, and a groupId in every row.
func (row Row) check() []error {
	var problems []error
	if row.Request.GroupID == "" {
		problems = append(problems, &RowError{Line: row.Line, Field: ColumnGroupID,
			Problem: "required: it is the row's stable ID, which lets an import resume without creating a group twice"})
	}
	var verr *doubletick.ValidationError
	if err := row.Request.Validate(); errors.As(err, &verr) {
		for _, f := range verr.Fields {
			problems = append(problems, &RowError{Line: row.Line, Field: f.Field, Problem: f.Detail})
		}
	}
	return problems
}

// FailuresWriter writes rows in the import format, with an error column, so
// that a failures file can be fixed and imported again.
type FailuresWriter struct {
	csv *csv.Writer
}

// NewFailuresWriter writes the header to w.
func NewFailuresWriter(w io.Writer) (*FailuresWriter, error) {
	fw := &FailuresWriter{csv: csv.NewWriter(w)}
	return fw, fw.csv.Write(append(slices.Clone(Columns), ColumnError))
}

// Write writes one failed row and why it failed. A cell a spreadsheet
// would run as a formula is neutralised (see neutralise); the Reader gives
// it back as it was.
func (fw *FailuresWriter) Write(req doubletick.CreateGroupRequest, problem string) error {
	return fw.csv.Write([]string{neutralise(req.WABANumber), neutralise(req.Subject), neutralise(req.Description),
		neutralise(string(req.JoinApprovalMode)), neutralise(req.GroupID), neutralise(problem)})
}

// neutralise keeps a spreadsheet from running cell as a formula, as
// OWASP's guidance on CSV injection says: a cell that begins with =, +, -,
// @, a tab or a carriage return gets a leading apostrophe. So does one that
// begins with an apostrophe, so that unneutralise can always take exactly
// one off.
func neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r'", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// unneutralise undoes neutralise.
func unneutralise(cell string) string {
	if rest, ok := strings.CutPrefix(cell, "'"); ok {
		return rest
	}
	return cell
}

// Flush writes out what is buffered and returns the first write error.
func (fw *FailuresWriter) Flush() error {
	fw.csv.Flush()
	return fw.csv.Error()
}
