package zengin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// StatementRecordLen is the length of a statement record without line break.
const StatementRecordLen = 200

// Kind tells which file a Statement was read from.
type Kind int

// Statement kinds. The Zengin ones carry their 種別コード.
const (
	// TransferNotice is 振込入金通知 (種別コード 01): incoming transfers only.
	TransferNotice Kind = 1
	// Transactions is 入出金取引明細 (種別コード 03): credits and debits.
	Transactions Kind = 3
	// CSV is a net-banking CSV export read with ReadCSV.
	CSV Kind = 100
)

// Direction is the 入払区分 of a line.
type Direction int

// Directions as coded in 入出金取引明細.
const (
	Deposit    Direction = 1 // 入金
	Withdrawal Direction = 2 // 出金
)

// Statement is a bank statement: the accounts it covers (one per
// header/trailer group) and its lines in file order.
type Statement struct {
	Kind     Kind
	Accounts []Account
	Lines    []Line
}

// Account is one header/trailer group of a statement.
//
// 振込入金通知 header, 1-based byte columns:
//
//	1       データ区分 "1"      N1
//	2-3     種別コード "01"     N2
//	4       コード区分 "0"      N1   (JIS; EBCDIC files are rejected)
//	5-10    作成日              N6   Created (和暦)
//	11-16   勘定日(自)          N6   From
//	17-22   勘定日(至)          N6   To
//	23-26   銀行コード          N4   BankCode
//	27-41   銀行名              C15  BankName
//	42-44   支店コード          N3   BranchCode
//	45-59   支店名              C15  BranchName
//	60      預金種目            N1   AccountType
//	61-67   口座番号            N7   AccountNumber
//	68-107  口座名              C40  Name
//	108-200 ダミー              C93
//
// 振込入金通知 trailer: 1 "8"; 2-7 振込合計件数 N6; 8-19 振込合計金額 N12;
// 20-25 取消合計件数 N6; 26-37 取消合計金額 N12; 38-200 ダミー.
//
// 入出金取引明細 header:
//
//	1-22    as above, 種別コード "03"
//	23-59   as above (bank and branch)
//	60-62   ダミー              N3   "000"
//	63      預金種目            N1   AccountType
//	64-73   口座番号            N10  AccountNumber (right-justified)
//	74-113  口座名              C40  Name
//	114     貸越区分            N1   1 +, 2 − (sign of OpeningBalance)
//	115     通帳・証書区分      N1   Passbook
//	116-129 取引前残高          N14  OpeningBalance
//	130-200 ダミー              C71
//
// 入出金取引明細 trailer: 1 "8"; 2-7 入金件数 N6; 8-20 入金額合計 N13;
// 21-26 出金件数 N6; 27-39 出金額合計 N13; 40 貸越区分 N1; 41-54 取引後残高
// N14 (ClosingBalance); 55-61 データ・レコード件数 N7; 62-200 ダミー.
// End record: 1 "9"; 2-11 レコード総件数 N10; 12-16 口座数 N5; 17-200 ダミー.
// The 振込入金通知 end record is "9" and 199 spaces.
type Account struct {
	Record        int // record number of the header
	Created       time.Time
	From, To      time.Time
	BankCode      string // 4 digits
	BankName      string
	BranchCode    string // 3 digits
	BranchName    string
	AccountType   AccountType
	AccountNumber string // 7 digits (10 in 入出金 files, read back without leading zeros beyond 7)
	Name          string // 口座名
	// 入出金取引明細 only:
	Passbook       string          // 通帳・証書区分, "" when 0 or blank
	OpeningBalance decimal.Decimal // 取引前残高, negative when overdrawn
	ClosingBalance decimal.Decimal // 取引後残高 from the trailer
}

// Line is one transaction of a statement.
//
// 振込入金通知 data record, 1-based byte columns:
//
//	1       データ区分 "2"      N1
//	2-7     照会番号            N6   Reference
//	8-13    勘定日              N6   Date
//	14-19   起算日              N6   ValueDate
//	20-29   金額                N10  Amount
//	30-39   うち他店券金額      N10  ChequeAmount
//	40-49   振込依頼人コード    N10  PayerCode
//	50-97   振込依頼人名        C48  PayerName
//	98-112  仕向銀行名          C15  PayerBank
//	113-127 仕向店名            C15  PayerBranch
//	128     取消区分            N1   Cancel ("1")
//	129-148 EDI情報             C20  EDI
//	149-200 ダミー              C52
//
// 入出金取引明細 data record:
//
//	1       データ区分 "2"      N1
//	2-9     照会番号            N8   Reference
//	10-15   勘定日              N6   Date
//	16-21   預入・払出日        N6   ValueDate
//	22      入払区分            N1   Direction
//	23-24   取引区分            N2   TxType
//	25-36   取引金額            N12  Amount
//	37-48   うち他店券金額      N12  ChequeAmount
//	49-54   交換呈示日          N6   ExchangeDate
//	55-60   不渡返還日          N6   DishonourDate
//	61      手形・小切手区分    N1   BillKind
//	62-68   手形・小切手番号    N7   BillNumber
//	69-71   僚店番号            N3   RelayBranch
//	72-81   振込依頼人コード    N10  PayerCode
//	82-129  振込依頼人名        C48  PayerName (or 契約者番号)
//	130-144 仕向銀行名          C15  PayerBank
//	145-159 仕向店名            C15  PayerBranch
//	160-179 摘要内容            C20  Description
//	180-199 EDI情報             C20  EDI
//	200     ダミー              C1
type Line struct {
	Record    int    // record (line) number in the file
	Account   int    // index into Statement.Accounts
	Reference string // 照会番号 as printed, or the CSV reference column
	// ID is a stable identity for the line: for Zengin files a hash of
	// bank, branch, account, 勘定日, 照会番号, amount and direction; for CSV a
	// hash of date, amount, direction, name, reference and the occurrence
	// count of that combination within the file.
	ID           string
	Date         time.Time // 勘定日, midnight JST
	ValueDate    time.Time // 起算日 / 預入・払出日; zero when absent
	Direction    Direction
	TxType       string // 取引区分, e.g. "11" 振込; "" in 振込入金通知
	Amount       decimal.Decimal
	ChequeAmount decimal.Decimal // うち他店券金額: not final until cleared
	Cancel       bool            // 取消区分 1 in 振込入金通知
	PayerCode    string          // 振込依頼人コード, "" when zero
	PayerName    string          // 振込依頼人名, half-width kana as printed
	PayerBank    string
	PayerBranch  string
	Description  string // 摘要内容 (入出金取引明細, CSV)
	EDI          string
	// 入出金取引明細 cheque fields; zero or "" when absent.
	ExchangeDate  time.Time
	DishonourDate time.Time
	BillKind      string
	BillNumber    string
	RelayBranch   string
	// Balance after the line, when a CSV export has a balance column.
	Balance decimal.NullDecimal
}

// Signed returns the amount, negative for a withdrawal.
func (l Line) Signed() decimal.Decimal {
	if l.Direction == Withdrawal {
		return l.Amount.Neg()
	}
	return l.Amount
}

// ReadStatement reads a 入出金取引明細 or 振込入金通知 file, telling them
// apart by the first header's 種別コード (03 or 01), with today as the
// reference for 和暦 dates. See ReadStatementAt.
func ReadStatement(r io.Reader) (Statement, error) {
	return ReadStatementAt(r, time.Now())
}

// ReadStatementAt reads a statement file: 200-byte cp932 records with or
// without line breaks, one or more header → data… → trailer groups and one
// end record. Dates are 和暦 read with ParseWareki against now. It checks
// each trailer's counts and sums (取消 totals separately in 振込入金通知; in
// 入出金取引明細 also closing = opening + credits − debits) and the end
// record's counts. Errors are *RecordError values wrapping ErrEncoding,
// ErrTruncated, ErrLayout, ErrNotNumber, ErrInvalid, ErrDate or ErrTotals;
// nothing partial is returned on error.
func ReadStatementAt(r io.Reader, now time.Time) (Statement, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Statement{}, fmt.Errorf("zengin: read: %w", err)
	}
	recs, err := splitRecords(data, StatementRecordLen)
	if err != nil {
		return Statement{}, err
	}
	p := &stmtParser{now: now}
	p.st.Lines = make([]Line, 0, max(len(recs)-3, 0))
	if err := p.parse(recs); err != nil {
		return Statement{}, err
	}
	return p.st, nil
}

type stmtParser struct {
	now   time.Time
	st    Statement
	group []int // indexes of the current group's lines
}

func (p *stmtParser) parse(recs [][]byte) error {
	if recs[0][0] != '1' {
		return &RecordError{Record: 1, Field: "data kind", Err: fmt.Errorf("%w: %q where header (1) expected", ErrLayout, recs[0][0])}
	}
	switch string(recs[0][1:3]) {
	case "01":
		p.st.Kind = TransferNotice
	case "03":
		p.st.Kind = Transactions
	default:
		return &RecordError{Record: 1, Field: "type code", Err: fmt.Errorf("%w: %q (want 01 振込入金通知 or 03 入出金取引明細)", ErrInvalid, recs[0][1:3])}
	}
	state := '1'
	for i, rec := range recs {
		f := &fields{rec: rec, no: i + 1, now: p.now}
		kind := rune(rec[0])
		switch {
		case (state == '1' || state == 'E') && kind == '1':
			p.header(f)
			p.group = p.group[:0]
			state = '2'
		case state == '2' && kind == '2':
			p.data(f)
		case state == '2' && kind == '8':
			p.trailer(f)
			state = 'E'
		case state == 'E' && kind == '9':
			p.end(f)
			state = 'x'
		default:
			f.fail("data kind", fmt.Errorf("%w: %q where %s expected", ErrLayout, kind, stmtExpect(state)))
		}
		if f.err != nil {
			return f.err
		}
	}
	if state != 'x' {
		return &RecordError{Record: len(recs) + 1, Field: "data kind", Err: fmt.Errorf("%w: file ends where %s expected", ErrTruncated, stmtExpect(state))}
	}
	return nil
}

func stmtExpect(state rune) string {
	switch state {
	case '1':
		return "header (1)"
	case '2':
		return "data (2) or trailer (8)"
	case 'E':
		return "header (1) or end (9)"
	}
	return "nothing"
}

func (p *stmtParser) header(f *fields) {
	a := Account{Record: f.no}
	f.take(1)
	f.expect("type code", fmt.Sprintf("%02d", int(p.st.Kind)))
	f.expect("code kind", "0")
	a.Created = f.date("created", false)
	a.From = f.date("from", false)
	a.To = f.date("to", false)
	a.BankCode = f.digits("bank code", 4)
	a.BankName = f.text(15)
	a.BranchCode = f.digits("branch code", 3)
	a.BranchName = f.text(15)
	if p.st.Kind == TransferNotice {
		a.AccountType = f.accountType()
		a.AccountNumber = f.digits("account number", 7)
		a.Name = f.text(40)
	} else {
		f.take(3)
		a.AccountType = f.accountType()
		a.AccountNumber = trimAccount(f.digits("account number", 10))
		a.Name = f.text(40)
		sign := f.sign("overdraft")
		a.Passbook = f.code("passbook", 1)
		a.OpeningBalance = f.amount("opening balance", 14).Mul(sign)
	}
	p.st.Accounts = append(p.st.Accounts, a)
}

// trimAccount drops leading zeros beyond 7 digits.
func trimAccount(s string) string {
	for len(s) > 7 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// sign reads a 貸越区分: 1 (or 0/blank) positive, 2 negative.
func (f *fields) sign(field string) decimal.Decimal {
	switch s := f.take(1); s {
	case "1", "0", " ":
		return decimal.NewFromInt(1)
	case "2":
		return decimal.NewFromInt(-1)
	default:
		f.fail(field, fmt.Errorf("%w: %q (want 1 or 2)", ErrInvalid, s))
		return decimal.NewFromInt(1)
	}
}

func (p *stmtParser) data(f *fields) {
	acct := len(p.st.Accounts) - 1
	l := Line{Record: f.no, Account: acct, Direction: Deposit}
	f.take(1)
	if p.st.Kind == TransferNotice {
		l.Reference = f.digits("reference", 6)
		l.Date = f.date("date", true)
		l.ValueDate = f.date("value date", false)
		l.Amount = f.amount("amount", 10)
		l.ChequeAmount = f.amount("cheque amount", 10)
		l.PayerCode = f.code("payer code", 10)
		l.PayerName = f.text(48)
		l.PayerBank = f.text(15)
		l.PayerBranch = f.text(15)
		switch c := f.take(1); c {
		case "1":
			l.Cancel = true
		case "0", " ":
		default:
			f.fail("cancel", fmt.Errorf("%w: %q (want 1, 0 or blank)", ErrInvalid, c))
		}
		l.EDI = f.text(20)
	} else {
		l.Reference = f.digits("reference", 8)
		l.Date = f.date("date", true)
		l.ValueDate = f.date("value date", false)
		switch d := f.take(1); d {
		case "1":
			l.Direction = Deposit
		case "2":
			l.Direction = Withdrawal
		default:
			f.fail("direction", fmt.Errorf("%w: %q (want 1 入金 or 2 出金)", ErrInvalid, d))
		}
		l.TxType = f.digits("transaction type", 2)
		l.Amount = f.amount("amount", 12)
		l.ChequeAmount = f.amount("cheque amount", 12)
		l.ExchangeDate = f.date("exchange date", false)
		l.DishonourDate = f.date("dishonour date", false)
		l.BillKind = f.code("bill kind", 1)
		l.BillNumber = f.code("bill number", 7)
		l.RelayBranch = f.code("relay branch", 3)
		l.PayerCode = f.code("payer code", 10)
		l.PayerName = f.text(48)
		l.PayerBank = f.text(15)
		l.PayerBranch = f.text(15)
		l.Description = f.text(20)
		l.EDI = f.text(20)
	}
	if f.err == nil && l.Amount.IsZero() {
		f.fail("amount", fmt.Errorf("%w: 0", ErrInvalid))
	}
	if f.err == nil && l.ChequeAmount.GreaterThan(l.Amount) {
		f.fail("cheque amount", fmt.Errorf("%w: %s is more than the amount %s", ErrInvalid, l.ChequeAmount, l.Amount))
	}
	if f.err != nil {
		return
	}
	l.ID = zenginID(p.st.Kind, p.st.Accounts[acct], l)
	p.group = append(p.group, len(p.st.Lines))
	p.st.Lines = append(p.st.Lines, l)
}

func zenginID(k Kind, a Account, l Line) string {
	return hashID(fmt.Sprint(int(k)), a.BankCode, a.BranchCode, fmt.Sprint(int(a.AccountType)), a.AccountNumber,
		l.Date.Format(time.DateOnly), l.Reference, l.Amount.String(), fmt.Sprint(int(l.Direction)))
}

// hashID is the first 128 bits of SHA-256 over the parts, hex-encoded.
func hashID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x1f")))
	return hex.EncodeToString(h[:16])
}

// totals sums the current group's lines.
type totals struct {
	depN, wdN, cancelN int64
	dep, wd, cancel    decimal.Decimal
}

func (p *stmtParser) sums() totals {
	var t totals
	for _, i := range p.group {
		l := p.st.Lines[i]
		switch {
		case l.Cancel:
			t.cancelN++
			t.cancel = t.cancel.Add(l.Amount)
		case l.Direction == Withdrawal:
			t.wdN++
			t.wd = t.wd.Add(l.Amount)
		default:
			t.depN++
			t.dep = t.dep.Add(l.Amount)
		}
	}
	return t
}

func (f *fields) wantCount(field string, got, want int64) {
	if f.err == nil && got != want {
		f.fail(field, fmt.Errorf("%w: trailer says %d, data have %d", ErrTotals, got, want))
	}
}

func (f *fields) wantSum(field string, got, want decimal.Decimal) {
	if f.err == nil && !got.Equal(want) {
		f.fail(field, fmt.Errorf("%w: trailer says %s, data sum to %s", ErrTotals, got, want))
	}
}

func (p *stmtParser) trailer(f *fields) {
	t := p.sums()
	f.take(1)
	if p.st.Kind == TransferNotice {
		f.wantCount("count", f.number("count", 6), t.depN)
		f.wantSum("total", f.amount("total", 12), t.dep)
		f.wantCount("cancel count", f.number("cancel count", 6), t.cancelN)
		f.wantSum("cancel total", f.amount("cancel total", 12), t.cancel)
		return
	}
	f.wantCount("deposit count", f.number("deposit count", 6), t.depN)
	f.wantSum("deposit total", f.amount("deposit total", 13), t.dep)
	f.wantCount("withdrawal count", f.number("withdrawal count", 6), t.wdN)
	f.wantSum("withdrawal total", f.amount("withdrawal total", 13), t.wd)
	sign := f.sign("overdraft")
	closing := f.amount("closing balance", 14).Mul(sign)
	f.wantCount("record count", f.number("record count", 7), int64(len(p.group)))
	a := &p.st.Accounts[len(p.st.Accounts)-1]
	f.wantSum("closing balance", closing, a.OpeningBalance.Add(t.dep).Sub(t.wd))
	a.ClosingBalance = closing
}

func (p *stmtParser) end(f *fields) {
	if p.st.Kind == TransferNotice {
		return
	}
	f.take(1)
	total := f.number("record count", 10)
	accounts := f.number("account count", 5)
	// レコード総件数: the header, data and trailer records; some banks count
	// the end record too, so both are accepted.
	n := int64(f.no)
	if f.err == nil && total != n-1 && total != n {
		f.fail("record count", fmt.Errorf("%w: end record says %d, file has %d before it", ErrTotals, total, n-1))
	}
	f.wantCount("account count", accounts, int64(len(p.st.Accounts)))
}

// WriteStatement writes st as a Zengin file of st.Kind (TransferNotice or
// Transactions) in cp932 with CRLF after each record: for each account a
// header, the account's lines in order, and a trailer whose totals it
// computes, then the end record. Line.Record and Line.ID are ignored. It is
// meant for tests and generated benchmark data. A field that does not fit is
// an *RecordError naming the record that would have been written; it then
// writes nothing.
func WriteStatement(w io.Writer, st Statement) error {
	if st.Kind != TransferNotice && st.Kind != Transactions {
		return &RecordError{Record: 1, Field: "kind", Err: fmt.Errorf("%w: %d (want 1 or 3)", ErrInvalid, int(st.Kind))}
	}
	byAcct := make([][]Line, len(st.Accounts))
	for i, l := range st.Lines {
		if l.Account < 0 || l.Account >= len(st.Accounts) {
			return &RecordError{Record: 0, Field: "account", Err: fmt.Errorf("%w: line %d names account %d of %d", ErrInvalid, i, l.Account, len(st.Accounts))}
		}
		byAcct[l.Account] = append(byAcct[l.Account], l)
	}
	if len(st.Accounts) == 0 {
		return &RecordError{Record: 1, Field: "accounts", Err: fmt.Errorf("%w: none", ErrInvalid)}
	}
	var recs [][]byte
	for ai, a := range st.Accounts {
		hb := newRecBuilder(len(recs) + 1)
		writeHeader(hb, st.Kind, a)
		if hb.err != nil {
			return hb.err
		}
		recs = append(recs, hb.b)
		var t totals
		for _, l := range byAcct[ai] {
			b := newRecBuilder(len(recs) + 1)
			writeLine(b, st.Kind, l)
			if b.err != nil {
				return b.err
			}
			recs = append(recs, b.b)
			switch {
			case l.Cancel:
				t.cancelN++
				t.cancel = t.cancel.Add(l.Amount)
			case l.Direction == Withdrawal:
				t.wdN++
				t.wd = t.wd.Add(l.Amount)
			default:
				t.depN++
				t.dep = t.dep.Add(l.Amount)
			}
		}
		tb := newRecBuilder(len(recs) + 1)
		tb.raw("8")
		if st.Kind == TransferNotice {
			tb.number("count", 6, t.depN)
			tb.amount("total", 12, t.dep, false)
			tb.number("cancel count", 6, t.cancelN)
			tb.amount("cancel total", 12, t.cancel, false)
			tb.spaces(163)
		} else {
			tb.number("deposit count", 6, t.depN)
			tb.amount("deposit total", 13, t.dep, false)
			tb.number("withdrawal count", 6, t.wdN)
			tb.amount("withdrawal total", 13, t.wd, false)
			if want := a.OpeningBalance.Add(t.dep).Sub(t.wd); !a.ClosingBalance.Equal(want) {
				tb.setErr("closing balance", fmt.Errorf("%w: account %d closes at %s, lines give %s", ErrTotals, ai, a.ClosingBalance, want))
			}
			balance(tb, "closing balance", a.ClosingBalance)
			tb.number("record count", 7, int64(len(byAcct[ai])))
			tb.spaces(139)
		}
		if tb.err != nil {
			return tb.err
		}
		recs = append(recs, tb.b)
	}
	eb := newRecBuilder(len(recs) + 1)
	eb.raw("9")
	if st.Kind == TransferNotice {
		eb.spaces(199)
	} else {
		eb.number("record count", 10, int64(len(recs)))
		eb.number("account count", 5, int64(len(st.Accounts)))
		eb.spaces(184)
	}
	if eb.err != nil {
		return eb.err
	}
	recs = append(recs, eb.b)
	return writeRecords(w, recs, true)
}

func newRecBuilder(no int) *builder {
	return &builder{fail: func(field string, err error) error { return &RecordError{Record: no, Field: field, Err: err} }}
}

// balance writes 貸越区分 and a 14-digit balance.
func balance(b *builder, field string, d decimal.Decimal) {
	if d.IsNegative() {
		b.raw("2")
	} else {
		b.raw("1")
	}
	b.amount(field, 14, d.Abs(), false)
}

func writeHeader(b *builder, k Kind, a Account) {
	b.raw(fmt.Sprintf("1%02d0", int(k)))
	b.date("created", a.Created)
	b.date("from", a.From)
	b.date("to", a.To)
	b.digits("bank code", 4, a.BankCode)
	b.text("bank name", 15, a.BankName, false)
	b.digits("branch code", 3, a.BranchCode)
	b.text("branch name", 15, a.BranchName, false)
	if k == TransferNotice {
		accountType(b, a.AccountType)
		b.digits("account number", 7, a.AccountNumber)
		b.text("name", 40, a.Name, false)
		b.spaces(93)
		return
	}
	b.raw("000")
	accountType(b, a.AccountType)
	b.digits("account number", 10, a.AccountNumber)
	b.text("name", 40, a.Name, false)
	if a.OpeningBalance.IsNegative() {
		b.raw("2")
	} else {
		b.raw("1")
	}
	b.code("passbook", 1, a.Passbook)
	b.amount("opening balance", 14, a.OpeningBalance.Abs(), false)
	b.spaces(71)
}

func writeLine(b *builder, k Kind, l Line) {
	b.raw("2")
	if l.Date.IsZero() {
		b.setErr("date", fmt.Errorf("%w: missing", ErrDate))
	}
	if k == TransferNotice {
		if l.Direction == Withdrawal {
			b.setErr("direction", fmt.Errorf("%w: 振込入金通知 holds deposits only", ErrInvalid))
		}
		b.digits("reference", 6, l.Reference)
		b.date("date", l.Date)
		b.date("value date", l.ValueDate)
		b.amount("amount", 10, l.Amount, true)
		b.amount("cheque amount", 10, l.ChequeAmount, false)
		b.code("payer code", 10, l.PayerCode)
		b.text("payer name", 48, l.PayerName, false)
		b.text("payer bank", 15, l.PayerBank, false)
		b.text("payer branch", 15, l.PayerBranch, false)
		if l.Cancel {
			b.raw("1")
		} else {
			b.raw("0")
		}
		b.text("edi", 20, l.EDI, false)
		b.spaces(52)
		return
	}
	if l.Cancel {
		b.setErr("cancel", fmt.Errorf("%w: 入出金取引明細 has no 取消区分; use 取引区分 19", ErrInvalid))
	}
	b.digits("reference", 8, l.Reference)
	b.date("date", l.Date)
	b.date("value date", l.ValueDate)
	switch l.Direction {
	case Deposit, Withdrawal:
		b.raw(fmt.Sprint(int(l.Direction)))
	default:
		b.setErr("direction", fmt.Errorf("%w: %d", ErrInvalid, int(l.Direction)))
		b.raw("0")
	}
	b.digits("transaction type", 2, l.TxType)
	b.amount("amount", 12, l.Amount, true)
	b.amount("cheque amount", 12, l.ChequeAmount, false)
	b.date("exchange date", l.ExchangeDate)
	b.date("dishonour date", l.DishonourDate)
	b.code("bill kind", 1, l.BillKind)
	b.code("bill number", 7, l.BillNumber)
	b.code("relay branch", 3, l.RelayBranch)
	b.code("payer code", 10, l.PayerCode)
	b.text("payer name", 48, l.PayerName, false)
	b.text("payer bank", 15, l.PayerBank, false)
	b.text("payer branch", 15, l.PayerBranch, false)
	b.text("description", 20, l.Description, false)
	b.text("edi", 20, l.EDI, false)
	b.spaces(1)
}
