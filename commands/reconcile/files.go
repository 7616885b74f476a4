package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/japanese"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/internal/zengin"
)

// Statement file formats.
const (
	FormatZengin = "zengin"
	FormatCSV    = "csv"
)

// Presets are the named bank CSV layouts.
var Presets = map[string]zengin.CSVMap{
	"smbc": zengin.CSVLikeSMBC,
	"mufg": zengin.CSVLikeMUFG,
}

// Options says how to read a statement file: Zengin, or CSV with a preset
// or a column map.
type Options struct {
	Format string         `json:"format"`
	Preset string         `json:"preset,omitempty"`
	CSV    *zengin.CSVMap `json:"csv,omitempty"`
}

// Check validates the options. It returns Invalid errors.
func (o Options) Check() error {
	var v errs.Collector
	switch o.Format {
	case FormatZengin:
		v.Check(o.Preset == "" && o.CSV == nil, "preset", "applies to CSV files only")
	case FormatCSV:
		if o.Preset != "" {
			_, ok := Presets[o.Preset]
			v.Check(ok, "preset", "must be smbc or mufg")
			v.Check(o.CSV == nil, "preset", "give a preset or a column map, not both")
		} else {
			v.Check(o.CSV != nil, "preset", "a CSV file needs a preset (smbc, mufg) or a column map")
		}
	default:
		v.Add("format", "must be zengin or csv")
	}
	return v.Err()
}

// RowError is a problem with one line of a file.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// fileError turns a reader's error into the job's row errors.
func fileError(err error) []RowError {
	var re *zengin.RecordError
	if errors.As(err, &re) {
		return []RowError{{Line: re.Record, Field: re.Field, Message: re.Err.Error()}}
	}
	var le lineErrors
	if errors.As(err, &le) {
		return le
	}
	return []RowError{{Message: err.Error()}}
}

type lineErrors []RowError

func (l lineErrors) Error() string {
	return fmt.Sprintf("line %d: %s: %s", l[0].Line, l[0].Field, l[0].Message)
}

// ReadStatement reads a statement file into lines in the currency cur.
// Cancellations (振込入金通知 取消) and withdrawals are lines that are not
// deposits. It returns the reader's error (a *zengin.RecordError naming
// the line) and reads all or nothing.
func ReadStatement(file []byte, o Options, cur money.Currency) ([]statement.Line, error) {
	var st zengin.Statement
	var err error
	switch o.Format {
	case FormatZengin:
		st, err = zengin.ReadStatement(bytes.NewReader(file))
	case FormatCSV:
		m := Presets[o.Preset]
		if o.CSV != nil {
			m = *o.CSV
		}
		st, err = zengin.ReadCSV(bytes.NewReader(file), m)
	default:
		err = o.Check()
	}
	if err != nil {
		return nil, err
	}
	out := make([]statement.Line, 0, len(st.Lines))
	for _, l := range st.Lines {
		amt, err := money.New(l.Amount, cur)
		if err != nil {
			return nil, &zengin.RecordError{Record: l.Record, Field: "amount", Err: fmt.Errorf("%w: %s", zengin.ErrInvalid, err)}
		}
		out = append(out, statement.Line{Key: l.ID, Record: l.Record, Date: l.Date.UTC(), Deposit: l.Direction == zengin.Deposit && !l.Cancel,
			Amount: amt, PayerName: l.PayerName, Reference: l.Reference, Description: strings.TrimSpace(l.Description + " " + l.EDI)})
	}
	return out, nil
}

// RemittanceMap describes a carrier's remittance CSV. Columns are picked by
// header name (with Header) or 1-based position.
type RemittanceMap struct {
	Encoding   zengin.Encoding `json:"encoding"`
	Header     bool            `json:"header"`
	TrackingNo zengin.Column   `json:"tracking_no"`
	Amount     zengin.Column   `json:"amount"`
	Fee        zengin.Column   `json:"fee"`
	RemittedOn zengin.Column   `json:"remitted_on"`
	// DateLayout is remitted_on's Go layout; "" means 2006-01-02 (and 2006/1/2).
	DateLayout string `json:"date_layout"`
}

// DefaultRemittanceMap reads UTF-8 files with the header
// tracking_no,amount,fee,remitted_on.
var DefaultRemittanceMap = RemittanceMap{Header: true, TrackingNo: zengin.Column{Name: "tracking_no"},
	Amount: zengin.Column{Name: "amount"}, Fee: zengin.Column{Name: "fee"}, RemittedOn: zengin.Column{Name: "remitted_on"}}

// RemittanceRow is one parsed remittance line.
type RemittanceRow struct {
	Key        string
	Record     int
	TrackingNo string
	Amount     money.Money
	Fee        money.Money
	RemittedOn time.Time
}

// ReadRemittance reads a carrier's remittance CSV. Every problem is
// reported with its line number; nothing is returned then.
func ReadRemittance(file []byte, m RemittanceMap, cur money.Currency) ([]RemittanceRow, error) {
	text, err := decodeText(file, m.Encoding)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	var cols map[string]int
	var out []RemittanceRow
	var bad lineErrors
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, lineErrors{{Line: line, Message: "malformed CSV: " + err.Error()}}
		}
		if isBlank(rec) {
			continue
		}
		if m.Header && cols == nil {
			cols = map[string]int{}
			for i, c := range rec {
				cols[strings.TrimSpace(c)] = i
			}
			for name, c := range map[string]zengin.Column{"tracking_no": m.TrackingNo, "amount": m.Amount, "fee": m.Fee, "remitted_on": m.RemittedOn} {
				if _, ok := cols[c.Name]; c.Name != "" && !ok {
					bad = append(bad, RowError{Line: line, Field: name, Message: fmt.Sprintf("no column %q in the header", c.Name)})
				}
			}
			if len(bad) > 0 {
				return nil, bad
			}
			continue
		}
		get := func(c zengin.Column) string {
			i := c.Index - 1
			if c.Name != "" {
				i = cols[c.Name]
			}
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		row := RemittanceRow{Record: line, TrackingNo: strings.ReplaceAll(get(m.TrackingNo), "-", "")}
		if row.TrackingNo == "" {
			bad = append(bad, RowError{Line: line, Field: "tracking_no", Message: "is required"})
		}
		amount := func(field, s string) money.Money {
			d, err := decimal.NewFromString(strings.ReplaceAll(strings.TrimPrefix(s, "¥"), ",", ""))
			if err == nil {
				if m, err := money.New(d, cur); err == nil && !m.IsNegative() {
					return m
				}
			}
			bad = append(bad, RowError{Line: line, Field: field, Message: fmt.Sprintf("not an amount in %s: %q", cur, s)})
			return money.Zero(cur)
		}
		row.Amount, row.Fee = amount("amount", get(m.Amount)), amount("fee", get(m.Fee))
		layout := m.DateLayout
		if layout == "" {
			layout = time.DateOnly
		}
		ds := get(m.RemittedOn)
		d, err := time.Parse(layout, ds)
		if err != nil && m.DateLayout == "" {
			d, err = time.Parse("2006/1/2", ds)
		}
		if err != nil {
			bad = append(bad, RowError{Line: line, Field: "remitted_on", Message: fmt.Sprintf("not a date (%s): %q", layout, ds)})
		}
		row.RemittedOn = d
		id := strings.Join([]string{row.TrackingNo, row.Amount.AmountString(), row.Fee.AmountString(), d.Format(time.DateOnly)}, "\x1f")
		seen[id]++
		sum := sha256.Sum256([]byte(id + "\x1f" + strconv.Itoa(seen[id])))
		row.Key = hex.EncodeToString(sum[:16])
		out = append(out, row)
	}
	if len(bad) > 0 {
		return nil, bad
	}
	if len(out) == 0 {
		return nil, lineErrors{{Line: 1, Field: "file", Message: "has no remittance lines"}}
	}
	return out, nil
}

func isBlank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func decodeText(data []byte, enc zengin.Encoding) (string, error) {
	if enc == zengin.CP932 {
		s, err := japanese.ShiftJIS.NewDecoder().Bytes(data)
		if err != nil || bytes.ContainsRune(s, utf8.RuneError) {
			return "", lineErrors{{Line: 1, Field: "encoding", Message: "not cp932"}}
		}
		return string(s), nil
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return "", lineErrors{{Line: 1, Field: "encoding", Message: "not UTF-8 (is the file cp932?)"}}
	}
	return string(data), nil
}
