package zengin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/japanese"
)

// Encoding is the character encoding of a CSV export.
type Encoding int

// CSV encodings. Japanese banks mostly export cp932.
const (
	UTF8  Encoding = iota // UTF-8, an optional byte-order mark is skipped
	CP932                 // Shift_JIS as Windows writes it
)

// Column picks a CSV column by header name or by position. The zero Column
// means "not present".
type Column struct {
	// Name is the header cell, compared after trimming spaces. It needs
	// CSVMap.Header.
	Name string
	// Index is the 1-based position, used when Name is empty.
	Index int
}

func (c Column) set() bool { return c.Name != "" || c.Index > 0 }

// CSVMap describes a bank's CSV export.
type CSVMap struct {
	// Encoding of the file.
	Encoding Encoding
	// SkipRows is the number of rows before the header (or the data when
	// there is no header), e.g. an account summary.
	SkipRows int
	// Header says the first row after SkipRows names the columns.
	Header bool
	// Date is the 勘定日 column; DateLayout its Go time layout, e.g.
	// "2006/1/2" (which also reads 2025/01/05). Dates are JST days.
	Date       Column
	DateLayout string
	// Amount is a signed amount column (negative, or prefixed with ▲ or △,
	// for withdrawals). Use it or Deposit and Withdrawal.
	Amount Column
	// Deposit and Withdrawal are separate columns, one of them filled.
	Deposit    Column
	Withdrawal Column
	// Payer is the payer name (or the 摘要内容 holding it); optional.
	Payer Column
	// Reference is a bank reference or 摘要; optional.
	Reference Column
	// Balance is the balance after the line; optional.
	Balance Column
}

// CSVLikeSMBC is a map for exports laid out like 三井住友銀行's (SMBC)
// statement CSV as commonly described: cp932, a header row
// 年月日,お引出し,お預入れ,お取り扱い内容,残高 with separate withdrawal and
// deposit columns, the payer's name in お取り扱い内容 and dates as
// 2025/12/1. Check a real export before relying on it; banks change columns.
var CSVLikeSMBC = CSVMap{
	Encoding:   CP932,
	Header:     true,
	Date:       Column{Name: "年月日"},
	DateLayout: "2006/1/2",
	Withdrawal: Column{Name: "お引出し"},
	Deposit:    Column{Name: "お預入れ"},
	Payer:      Column{Name: "お取り扱い内容"},
	Balance:    Column{Name: "残高"},
}

// CSVLikeMUFG is a map for exports laid out like 三菱UFJ銀行's statement CSV
// as commonly described: cp932, a header row
// 日付,摘要,摘要内容,支払い金額,預かり金額,差引残高,… with the kind of
// transaction in 摘要 (used as the reference), the payer's name in 摘要内容
// and dates as 2025/12/1. Check a real export before relying on it.
var CSVLikeMUFG = CSVMap{
	Encoding:   CP932,
	Header:     true,
	Date:       Column{Name: "日付"},
	DateLayout: "2006/1/2",
	Reference:  Column{Name: "摘要"},
	Payer:      Column{Name: "摘要内容"},
	Withdrawal: Column{Name: "支払い金額"},
	Deposit:    Column{Name: "預かり金額"},
	Balance:    Column{Name: "差引残高"},
}

// ReadCSV reads a bank's CSV export described by m into a Statement of kind
// CSV with one Account (its fields empty) and one Line per data row: Record
// is the CSV line number, PayerName and Reference are the cells as printed
// (trimmed), Amount is positive with Direction from the sign or the column,
// Balance is set when m has a balance column, and ID is a hash of date,
// amount, direction, name, reference and how often that combination occurred
// earlier in the file. Empty rows are skipped. Errors are *RecordError values
// (ErrEncoding, ErrLayout, ErrNotNumber, ErrInvalid, ErrDate); nothing
// partial is returned on error.
func ReadCSV(r io.Reader, m CSVMap) (Statement, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Statement{}, fmt.Errorf("zengin: read: %w", err)
	}
	text, err := decodeCSV(data, m.Encoding)
	if err != nil {
		return Statement{}, err
	}
	if !m.Date.set() || m.DateLayout == "" {
		return Statement{}, &RecordError{Record: 0, Field: "map", Err: fmt.Errorf("%w: a date column and layout are required", ErrInvalid)}
	}
	if m.Amount.set() == (m.Deposit.set() || m.Withdrawal.set()) {
		return Statement{}, &RecordError{Record: 0, Field: "map", Err: fmt.Errorf("%w: set an amount column or deposit/withdrawal columns", ErrInvalid)}
	}
	if !m.Header {
		for _, c := range []Column{m.Date, m.Amount, m.Deposit, m.Withdrawal, m.Payer, m.Reference, m.Balance} {
			if c.Name != "" {
				return Statement{}, &RecordError{Record: 0, Field: "map", Err: fmt.Errorf("%w: column %q named without a header row", ErrInvalid, c.Name)}
			}
		}
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	st := Statement{Kind: CSV, Accounts: []Account{{}}}
	var cols map[string]int
	seen := map[string]int{}
	row := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return Statement{}, &RecordError{Record: line, Field: "csv", Err: fmt.Errorf("%w: %v", ErrLayout, err)}
		}
		line, _ := cr.FieldPos(0)
		row++
		if row <= m.SkipRows {
			continue
		}
		if m.Header && cols == nil {
			cols = map[string]int{}
			for i, c := range rec {
				cols[strings.TrimSpace(c)] = i
			}
			if err := checkColumns(line, m, cols); err != nil {
				return Statement{}, err
			}
			continue
		}
		if blankRow(rec) {
			continue
		}
		l, err := csvLine(line, rec, m, cols)
		if err != nil {
			return Statement{}, err
		}
		key := hashID(l.Date.Format(time.DateOnly), l.Amount.String(), fmt.Sprint(int(l.Direction)), l.PayerName, l.Reference)
		l.ID = hashID(key, fmt.Sprint(seen[key]))
		seen[key]++
		st.Lines = append(st.Lines, l)
	}
	if m.Header && cols == nil {
		return Statement{}, &RecordError{Record: row + 1, Field: "header", Err: fmt.Errorf("%w: no header row", ErrTruncated)}
	}
	return st, nil
}

func decodeCSV(data []byte, enc Encoding) (string, error) {
	switch enc {
	case UTF8:
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(data) {
			i := invalidUTF8(data)
			return "", &RecordError{Record: bytes.Count(data[:i], []byte{'\n'}) + 1, Field: "encoding", Err: fmt.Errorf("%w: invalid UTF-8 at byte %d (is the file cp932?)", ErrEncoding, i)}
		}
		return string(data), nil
	case CP932:
		// The decoder replaces invalid sequences with U+FFFD; find the
		// first one by decoding line by line.
		dec := japanese.ShiftJIS.NewDecoder()
		var b strings.Builder
		for n, ln := range bytes.SplitAfter(data, []byte{'\n'}) {
			s, err := dec.Bytes(ln)
			if err != nil || bytes.ContainsRune(s, utf8.RuneError) {
				hint := ""
				if utf8.Valid(data) {
					hint = " (the file looks like UTF-8)"
				}
				return "", &RecordError{Record: n + 1, Field: "encoding", Err: fmt.Errorf("%w: invalid cp932%s", ErrEncoding, hint)}
			}
			b.Write(s)
		}
		return b.String(), nil
	}
	return "", &RecordError{Record: 0, Field: "map", Err: fmt.Errorf("%w: encoding %d", ErrInvalid, int(enc))}
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func blankRow(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func checkColumns(line int, m CSVMap, cols map[string]int) error {
	for _, c := range []Column{m.Date, m.Amount, m.Deposit, m.Withdrawal, m.Payer, m.Reference, m.Balance} {
		if c.Name == "" {
			continue
		}
		if _, ok := cols[c.Name]; !ok {
			return &RecordError{Record: line, Field: "header", Err: fmt.Errorf("%w: no column %q", ErrLayout, c.Name)}
		}
	}
	return nil
}

// cell returns the trimmed cell of column c and whether the row has it.
func cell(rec []string, c Column, cols map[string]int) string {
	i := c.Index - 1
	if c.Name != "" {
		j, ok := cols[c.Name]
		if !ok {
			return ""
		}
		i = j
	}
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func csvLine(line int, rec []string, m CSVMap, cols map[string]int) (Line, error) {
	fail := func(field string, err error) (Line, error) {
		return Line{}, &RecordError{Record: line, Field: field, Err: err}
	}
	l := Line{Record: line, Direction: Deposit}
	ds := cell(rec, m.Date, cols)
	d, err := time.ParseInLocation(m.DateLayout, ds, JST)
	if err != nil {
		return fail("date", fmt.Errorf("%w %q (want %s)", ErrDate, ds, m.DateLayout))
	}
	l.Date = d
	if m.Amount.set() {
		a, err := parseYen(cell(rec, m.Amount, cols))
		if err != nil {
			return fail("amount", err)
		}
		if a.IsNegative() {
			l.Direction = Withdrawal
		}
		l.Amount = a.Abs()
	} else {
		dep, err := parseYen(cell(rec, m.Deposit, cols))
		if err != nil {
			return fail("deposit", err)
		}
		wd, err := parseYen(cell(rec, m.Withdrawal, cols))
		if err != nil {
			return fail("withdrawal", err)
		}
		switch {
		case !dep.IsZero() && !wd.IsZero():
			return fail("amount", fmt.Errorf("%w: both deposit %s and withdrawal %s", ErrInvalid, dep, wd))
		case !wd.IsZero():
			l.Direction, l.Amount = Withdrawal, wd.Abs()
			if wd.IsNegative() {
				l.Direction = Deposit
			}
		default:
			l.Amount = dep.Abs()
			if dep.IsNegative() {
				l.Direction = Withdrawal
			}
		}
	}
	if l.Amount.IsZero() {
		return fail("amount", fmt.Errorf("%w: no amount", ErrInvalid))
	}
	l.PayerName = cell(rec, m.Payer, cols)
	l.Reference = cell(rec, m.Reference, cols)
	if m.Balance.set() {
		if s := cell(rec, m.Balance, cols); s != "" {
			b, err := parseYen(s)
			if err != nil {
				return fail("balance", err)
			}
			l.Balance = decimal.NullDecimal{Decimal: b, Valid: true}
		}
	}
	return l, nil
}

// parseYen reads a yen amount as banks print it: digits with optional
// thousands separators, "円", "¥", a leading '-', '▲' or '△' for negative.
// An empty cell is zero. Fractions are refused: yen has no minor unit.
func parseYen(s string) (decimal.Decimal, error) {
	orig := s
	s = strings.NewReplacer(",", "", "，", "", "円", "", "¥", "", "￥", "", "\\", "", " ", "", "　", "").Replace(s)
	if s == "" {
		return decimal.Zero, nil
	}
	neg := false
	for _, p := range []string{"-", "▲", "△", "−", "+"} {
		if t, ok := strings.CutPrefix(s, p); ok {
			neg = p != "+"
			s = t
			break
		}
	}
	if s == "" || !isDigits(s) || len(s) > 18 {
		return decimal.Zero, fmt.Errorf("%w %q", ErrNotNumber, orig)
	}
	d, _ := decimal.NewFromString(s) // digits only: cannot fail
	if neg {
		d = d.Neg()
	}
	return d, nil
}
