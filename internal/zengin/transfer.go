package zengin

import (
	"fmt"
	"io"
	"time"

	"github.com/shopspring/decimal"
)

// TransferRecordLen is the length of a 総合振込 record without line break.
const TransferRecordLen = 120

// MonthDay is a day of the year without the year, as in 振込指定日 (MMDD).
type MonthDay struct {
	Month time.Month
	Day   int
}

func (m MonthDay) valid() bool {
	// 2000 is a leap year, so 29 February is accepted.
	t := time.Date(2000, m.Month, m.Day, 0, 0, 0, 0, time.UTC)
	return m.Month >= 1 && m.Month <= 12 && m.Day >= 1 && t.Day() == m.Day
}

// TransferHeader is the header record (データ区分 1) of a 総合振込 file; its
// 種別コード is always 21 and its コード区分 0 (JIS).
//
// Layout, 1-based byte columns:
//
//	1       データ区分      N1  "1"
//	2-3     種別コード      N2  "21"
//	4       コード区分      N1  "0"
//	5-14    委託者コード    N10 ClientCode
//	15-54   委託者名        C40 ClientName
//	55-58   振込指定日      N4  Date (MMDD)
//	59-62   仕向銀行番号    N4  BankCode
//	63-77   仕向銀行名      C15 BankName
//	78-80   仕向支店番号    N3  BranchCode
//	81-95   仕向支店名      C15 BranchName
//	96      預金種目        N1  AccountType
//	97-103  口座番号        N7  AccountNumber
//	104-120 ダミー          C17 spaces
type TransferHeader struct {
	ClientCode    string // 委託者コード, up to 10 digits, assigned by the bank
	ClientName    string // 委託者名, Zengin kana (see Fold), required
	Date          MonthDay
	BankCode      string // 4 digits
	BankName      string // optional
	BranchCode    string // 3 digits
	BranchName    string // optional
	AccountType   AccountType
	AccountNumber string // up to 7 digits
}

// Transfer is one data record (データ区分 2): a payment to one account.
//
// Layout, 1-based byte columns:
//
//	1       データ区分      N1  "2"
//	2-5     被仕向銀行番号  N4  BankCode
//	6-20    被仕向銀行名    C15 BankName
//	21-23   被仕向支店番号  N3  BranchCode
//	24-38   被仕向支店名    C15 BranchName
//	39-42   手形交換所番号  N4  blank
//	43      預金種目        N1  AccountType
//	44-50   口座番号        N7  AccountNumber
//	51-80   受取人名        C30 Name
//	81-90   振込金額        N10 Amount
//	91      新規コード      N1  NewCode
//	92-101  顧客コード1     N10 CustomerCode1 ┐ or EDI情報 C20 (92-111)
//	102-111 顧客コード2     N10 CustomerCode2 ┘ when 識別表示 is "Y"
//	112     振込指定区分    N1  Designation (7 テレ振込, 8 文書振込, or blank)
//	113     識別表示        C1  "Y" when EDI is set, else blank
//	114-120 ダミー          C7  spaces
type Transfer struct {
	BankCode      string // 4 digits
	BankName      string // optional
	BranchCode    string // 3 digits
	BranchName    string // optional
	AccountType   AccountType
	AccountNumber string // up to 7 digits
	Name          string // 受取人名, Zengin kana, required
	Amount        decimal.Decimal
	NewCode       int    // 新規コード: 0 その他, 1 第1回振込分, 2 変更分
	CustomerCode1 string // optional, up to 10 digits; read back as 10 digits
	CustomerCode2 string // optional, up to 10 digits; read back as 10 digits
	EDI           string // EDI情報, optional, up to 20 characters; excludes customer codes
	Designation   string // 振込指定区分: "", "7" or "8"
}

// TransferFile is a 総合振込 file as read: one header, its transfers and the
// trailer's totals, which ReadTransfer has checked against the transfers.
type TransferFile struct {
	Header TransferHeader
	Items  []Transfer
	Count  int64
	Total  decimal.Decimal
}

// TransferOptions controls WriteTransfer. The zero value writes CRLF after
// every record, which most banks accept.
type TransferOptions struct {
	// NoLineBreaks writes the records back to back (120 bytes each).
	NoLineBreaks bool
}

// Largest totals the trailer can hold: 件数 N6, 合計金額 N12.
const (
	maxTransferCount = 999_999
)

var maxTransferTotal = decimal.RequireFromString("999999999999")

// WriteTransfer validates the header and every transfer and writes a
// 総合振込 file: header, data records, trailer (件数, 合計金額) and end
// record, in cp932. Names must already be in the Zengin set (see Fold). It
// writes nothing when a field is invalid and returns an *ItemError naming the
// item index (-1 for the header) and the field, wrapping ErrInvalid,
// ErrNotNumber, ErrTooLong or ErrCharset. A write failure is returned wrapped.
func WriteTransfer(w io.Writer, h TransferHeader, items []Transfer, opts TransferOptions) error {
	recs := make([][]byte, 0, len(items)+3)
	hb := &builder{fail: func(field string, err error) error { return &ItemError{Item: -1, Field: field, Err: err} }}
	hb.raw("1210")
	hb.digits("client code", 10, h.ClientCode)
	hb.text("client name", 40, h.ClientName, true)
	if !h.Date.valid() {
		hb.setErr("date", fmt.Errorf("%w: month %d day %d", ErrDate, h.Date.Month, h.Date.Day))
	}
	hb.raw(fmt.Sprintf("%02d%02d", int(h.Date.Month)%100, h.Date.Day%100))
	hb.digits("bank code", 4, h.BankCode)
	hb.text("bank name", 15, h.BankName, false)
	hb.digits("branch code", 3, h.BranchCode)
	hb.text("branch name", 15, h.BranchName, false)
	accountType(hb, h.AccountType)
	hb.digits("account number", 7, h.AccountNumber)
	hb.spaces(17)
	if hb.err != nil {
		return hb.err
	}
	recs = append(recs, hb.b)

	if len(items) == 0 {
		return &ItemError{Item: -1, Field: "items", Err: fmt.Errorf("%w: no transfers", ErrInvalid)}
	}
	if len(items) > maxTransferCount {
		return &ItemError{Item: -1, Field: "items", Err: fmt.Errorf("%w: %d transfers, the trailer holds at most %d", ErrTooLong, len(items), maxTransferCount)}
	}
	total := decimal.Zero
	for i, t := range items {
		b, err := transferRecord(i, t)
		if err != nil {
			return err
		}
		recs = append(recs, b)
		total = total.Add(t.Amount)
	}
	if total.GreaterThan(maxTransferTotal) {
		return &ItemError{Item: -1, Field: "total", Err: fmt.Errorf("%w: %s does not fit 12 digits", ErrTooLong, total)}
	}
	recs = append(recs, []byte(fmt.Sprintf("8%06d%012s%101s", len(items), total.String(), "")))
	recs = append(recs, []byte(fmt.Sprintf("9%119s", "")))
	return writeRecords(w, recs, !opts.NoLineBreaks)
}

func accountType(b *builder, a AccountType) {
	if !a.valid() {
		b.setErr("account type", fmt.Errorf("%w: %d (want 1, 2, 4 or 9)", ErrInvalid, int(a)))
		a = 0
	}
	b.raw(fmt.Sprint(int(a)))
}

// transferRecord builds the data record of item i.
func transferRecord(i int, t Transfer) ([]byte, error) {
	b := &builder{fail: func(field string, err error) error { return &ItemError{Item: i, Field: field, Err: err} }}
	b.raw("2")
	b.digits("bank code", 4, t.BankCode)
	b.text("bank name", 15, t.BankName, false)
	b.digits("branch code", 3, t.BranchCode)
	b.text("branch name", 15, t.BranchName, false)
	b.spaces(4) // 手形交換所番号
	accountType(b, t.AccountType)
	b.digits("account number", 7, t.AccountNumber)
	b.text("name", 30, t.Name, true)
	b.amount("amount", 10, t.Amount, true)
	if t.NewCode < 0 || t.NewCode > 2 {
		b.setErr("new code", fmt.Errorf("%w: %d (want 0, 1 or 2)", ErrInvalid, t.NewCode))
	}
	b.raw(fmt.Sprint(t.NewCode % 10))
	edi := t.EDI != ""
	if edi {
		if t.CustomerCode1 != "" || t.CustomerCode2 != "" {
			b.setErr("edi", fmt.Errorf("%w: EDI and customer codes share columns 92-111; set one", ErrInvalid))
		}
		b.text("edi", 20, t.EDI, false)
	} else {
		for _, c := range []struct{ field, v string }{{"customer code 1", t.CustomerCode1}, {"customer code 2", t.CustomerCode2}} {
			if c.v == "" {
				b.spaces(10)
			} else {
				b.digits(c.field, 10, c.v)
			}
		}
	}
	switch t.Designation {
	case "", "7", "8":
		b.raw(fmt.Sprintf("%1s", t.Designation))
	default:
		b.setErr("designation", fmt.Errorf("%w: %q (want \"\", \"7\" or \"8\")", ErrInvalid, t.Designation))
		b.raw(" ")
	}
	if edi {
		b.raw("Y")
	} else {
		b.raw(" ")
	}
	b.spaces(7)
	return b.b, b.err
}

// ReadTransfer reads a 総合振込 file (120-byte records, with or without line
// breaks, cp932) of one header, its data records, a trailer and an end
// record, and checks the trailer's count and total. Errors are
// *RecordError values wrapping ErrEncoding, ErrTruncated, ErrLayout,
// ErrNotNumber, ErrInvalid or ErrTotals; a failing io.Reader's error is
// returned wrapped. Nothing partial is returned on error.
func ReadTransfer(r io.Reader) (TransferFile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return TransferFile{}, fmt.Errorf("zengin: read: %w", err)
	}
	recs, err := splitRecords(data, TransferRecordLen)
	if err != nil {
		return TransferFile{}, err
	}
	var tf TransferFile
	state := '1'
	for i, rec := range recs {
		f := &fields{rec: rec, no: i + 1}
		kind := rune(rec[0])
		switch {
		case state == '1' && kind == '1':
			tf.Header = readTransferHeader(f)
			state = '2'
		case state == '2' && kind == '2':
			tf.Items = append(tf.Items, readTransferData(f))
		case state == '2' && kind == '8':
			f.take(1)
			tf.Count = f.number("count", 6)
			tf.Total = f.amount("total", 12)
			if f.err == nil {
				f.err = checkTransferTotals(f.no, tf)
			}
			state = '9'
		case state == '9' && kind == '9':
			state = 'x'
		default:
			f.fail("data kind", fmt.Errorf("%w: %q where %s expected", ErrLayout, kind, transferExpect(state)))
		}
		if f.err != nil {
			return TransferFile{}, f.err
		}
	}
	if state != 'x' {
		return TransferFile{}, &RecordError{Record: len(recs) + 1, Field: "data kind", Err: fmt.Errorf("%w: file ends where %s expected", ErrTruncated, transferExpect(state))}
	}
	return tf, nil
}

func transferExpect(state rune) string {
	switch state {
	case '1':
		return "header (1)"
	case '2':
		return "data (2) or trailer (8)"
	case '9':
		return "end (9)"
	}
	return "nothing"
}

func checkTransferTotals(no int, tf TransferFile) error {
	total := decimal.Zero
	for _, t := range tf.Items {
		total = total.Add(t.Amount)
	}
	if tf.Count != int64(len(tf.Items)) {
		return &RecordError{Record: no, Field: "count", Err: fmt.Errorf("%w: trailer says %d, file has %d", ErrTotals, tf.Count, len(tf.Items))}
	}
	if !tf.Total.Equal(total) {
		return &RecordError{Record: no, Field: "total", Err: fmt.Errorf("%w: trailer says %s, data sum to %s", ErrTotals, tf.Total, total)}
	}
	return nil
}

func readTransferHeader(f *fields) TransferHeader {
	var h TransferHeader
	f.take(1)
	f.expect("type code", "21")
	f.expect("code kind", "0")
	h.ClientCode = f.digits("client code", 10)
	h.ClientName = f.text(40)
	md := f.digits("date", 4)
	if f.err == nil {
		h.Date = MonthDay{Month: time.Month(atoi(md[:2])), Day: atoi(md[2:])}
		if !h.Date.valid() {
			f.fail("date", fmt.Errorf("%w %q", ErrDate, md))
		}
	}
	h.BankCode = f.digits("bank code", 4)
	h.BankName = f.text(15)
	h.BranchCode = f.digits("branch code", 3)
	h.BranchName = f.text(15)
	h.AccountType = f.accountType()
	h.AccountNumber = f.digits("account number", 7)
	return h
}

// accountType reads a 預金種目.
func (f *fields) accountType() AccountType {
	s := f.digits("account type", 1)
	if f.err != nil {
		return 0
	}
	a := AccountType(atoi(s))
	if !a.valid() {
		f.fail("account type", fmt.Errorf("%w: %q", ErrInvalid, s))
	}
	return a
}

func readTransferData(f *fields) Transfer {
	var t Transfer
	f.take(1)
	t.BankCode = f.digits("bank code", 4)
	t.BankName = f.text(15)
	t.BranchCode = f.digits("branch code", 3)
	t.BranchName = f.text(15)
	f.take(4) // 手形交換所番号: unused
	t.AccountType = f.accountType()
	t.AccountNumber = f.digits("account number", 7)
	t.Name = f.text(30)
	t.Amount = f.amount("amount", 10)
	if f.err == nil && !t.Amount.IsPositive() {
		f.fail("amount", fmt.Errorf("%w: 0", ErrInvalid))
	}
	nc := f.digits("new code", 1)
	t.NewCode = atoi(nc)
	if f.err == nil && t.NewCode > 2 {
		f.fail("new code", fmt.Errorf("%w: %q", ErrInvalid, nc))
	}
	custom := f.rec[91:111]
	f.pos = 111
	t.Designation = f.text(1)
	if t.Designation != "" && t.Designation != "7" && t.Designation != "8" {
		f.fail("designation", fmt.Errorf("%w: %q", ErrInvalid, t.Designation))
	}
	switch id := f.take(1); id {
	case "Y":
		t.EDI = decodeTrim(custom)
	case " ":
		g := &fields{rec: custom, no: f.no}
		t.CustomerCode1 = g.optDigits("customer code 1", 10)
		t.CustomerCode2 = g.optDigits("customer code 2", 10)
		if g.err != nil && f.err == nil {
			f.err = g.err
		}
	default:
		f.fail("edi flag", fmt.Errorf("%w: %q (want \"Y\" or blank)", ErrInvalid, id))
	}
	return t
}

// optDigits reads an optional numeric field kept as printed: blank is "".
func (f *fields) optDigits(field string, w int) string {
	s := f.take(w)
	if s == fmt.Sprintf("%*s", w, "") {
		return ""
	}
	if !isDigits(s) {
		f.fail(field, fmt.Errorf("%w %q", ErrNotNumber, s))
	}
	return s
}

func decodeTrim(b []byte) string {
	f := fields{rec: b}
	return f.text(len(b))
}
