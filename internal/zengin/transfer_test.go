package zengin_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"

	"github.com/honten/honten/internal/zengin"
)

func sampleHeader() zengin.TransferHeader {
	return zengin.TransferHeader{
		ClientCode:    "0000012345",
		ClientName:    "ｶ)ｻﾝﾌﾟﾙｼﾖｳｶｲ",
		Date:          zengin.MonthDay{Month: time.December, Day: 5},
		BankCode:      "9999",
		BankName:      "ﾃｽﾄｷﾞﾝｺｳ",
		BranchCode:    "123",
		BranchName:    "ﾎﾝﾃﾝ",
		AccountType:   zengin.Ordinary,
		AccountNumber: "1234567",
	}
}

func sampleTransfer() zengin.Transfer {
	return zengin.Transfer{
		BankCode:      "9998",
		BankName:      "ｻﾝﾌﾟﾙｷﾞﾝｺｳ",
		BranchCode:    "001",
		BranchName:    "ｴｷﾏｴ",
		AccountType:   zengin.Current,
		AccountNumber: "7654321",
		Name:          "ﾔﾏﾀﾞ ﾀﾛｳ",
		Amount:        decimal.NewFromInt(1000),
		NewCode:       1,
		CustomerCode1: "0000001234",
		CustomerCode2: "0000000001",
		Designation:   "7",
	}
}

// pad left-justifies s in w characters (all Zengin characters are one byte).
func pad(s string, w int) string {
	return s + strings.Repeat(" ", w-len([]rune(s)))
}

func decodeSJIS(t *testing.T, b []byte) string {
	t.Helper()
	s, err := japanese.ShiftJIS.NewDecoder().Bytes(b)
	require.NoError(t, err)
	return string(s)
}

// TestWriteTransferGolden checks every record byte by byte against the
// published 総合振込 layout (columns in the comments are 1-based).
func TestWriteTransferGolden(t *testing.T) {
	t.Parallel()
	edi := sampleTransfer()
	edi.CustomerCode1, edi.CustomerCode2, edi.Designation = "", "", ""
	edi.EDI = "INV-2025-0001"
	edi.Amount = decimal.NewFromInt(9999999999)
	edi.NewCode = 0
	var buf bytes.Buffer
	require.NoError(t, zengin.WriteTransfer(&buf, sampleHeader(), []zengin.Transfer{sampleTransfer(), edi}, zengin.TransferOptions{}))

	want := []string{
		"1" + // 1 データ区分
			"21" + // 2-3 種別コード
			"0" + // 4 コード区分
			"0000012345" + // 5-14 委託者コード
			pad("ｶ)ｻﾝﾌﾟﾙｼﾖｳｶｲ", 40) + // 15-54 委託者名
			"1205" + // 55-58 振込指定日
			"9999" + // 59-62 仕向銀行番号
			pad("ﾃｽﾄｷﾞﾝｺｳ", 15) + // 63-77 仕向銀行名
			"123" + // 78-80 仕向支店番号
			pad("ﾎﾝﾃﾝ", 15) + // 81-95 仕向支店名
			"1" + // 96 預金種目
			"1234567" + // 97-103 口座番号
			pad("", 17), // 104-120 ダミー
		"2" + // 1 データ区分
			"9998" + // 2-5 被仕向銀行番号
			pad("ｻﾝﾌﾟﾙｷﾞﾝｺｳ", 15) + // 6-20 被仕向銀行名
			"001" + // 21-23 被仕向支店番号
			pad("ｴｷﾏｴ", 15) + // 24-38 被仕向支店名
			"    " + // 39-42 手形交換所番号
			"2" + // 43 預金種目
			"7654321" + // 44-50 口座番号
			pad("ﾔﾏﾀﾞ ﾀﾛｳ", 30) + // 51-80 受取人名
			"0000001000" + // 81-90 振込金額
			"1" + // 91 新規コード
			"0000001234" + // 92-101 顧客コード1
			"0000000001" + // 102-111 顧客コード2
			"7" + // 112 振込指定区分
			" " + // 113 識別表示
			pad("", 7), // 114-120 ダミー
		"2" + "9998" + pad("ｻﾝﾌﾟﾙｷﾞﾝｺｳ", 15) + "001" + pad("ｴｷﾏｴ", 15) + "    " + "2" + "7654321" + pad("ﾔﾏﾀﾞ ﾀﾛｳ", 30) +
			"9999999999" + // 81-90 振込金額, the largest
			"0" + // 91 新規コード
			pad("INV-2025-0001", 20) + // 92-111 EDI情報
			" " + // 112 振込指定区分
			"Y" + // 113 識別表示
			pad("", 7),
		"8" + // 1 データ区分
			"000002" + // 2-7 合計件数
			"010000000999" + // 8-19 合計金額
			pad("", 101), // 20-120 ダミー
		"9" + pad("", 119), // 1 データ区分, 2-120 ダミー
	}
	raw := buf.Bytes()
	require.Len(t, raw, 5*122)
	for i, w := range want {
		rec := raw[i*122 : (i+1)*122]
		require.Equal(t, "\r\n", string(rec[120:]), "record %d ends with CRLF", i+1)
		require.Equal(t, w, decodeSJIS(t, rec[:120]), "record %d", i+1)
	}
	require.Equal(t, byte(0xB6), raw[14], "ｶ is the single byte 0xB6")
	require.Equal(t, byte(0xDE), raw[122+5+6], "ﾞ is its own byte 0xDE")

	var flat bytes.Buffer
	require.NoError(t, zengin.WriteTransfer(&flat, sampleHeader(), []zengin.Transfer{sampleTransfer(), edi}, zengin.TransferOptions{NoLineBreaks: true}))
	require.Len(t, flat.Bytes(), 5*120)
	require.Equal(t, bytes.ReplaceAll(raw, []byte("\r\n"), nil), flat.Bytes())
}

func TestWriteTransferValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		header  func(h *zengin.TransferHeader)
		item    func(t *zengin.Transfer)
		items   int // number of items when not 1
		field   string
		index   int
		wantErr error
	}{
		{name: "client code letters", header: func(h *zengin.TransferHeader) { h.ClientCode = "12A" }, field: "client code", index: -1, wantErr: zengin.ErrNotNumber},
		{name: "client code long", header: func(h *zengin.TransferHeader) { h.ClientCode = "12345678901" }, field: "client code", index: -1, wantErr: zengin.ErrTooLong},
		{name: "client code missing", header: func(h *zengin.TransferHeader) { h.ClientCode = "" }, field: "client code", index: -1, wantErr: zengin.ErrInvalid},
		{name: "client name missing", header: func(h *zengin.TransferHeader) { h.ClientName = " " }, field: "client name", index: -1, wantErr: zengin.ErrInvalid},
		{name: "client name kanji", header: func(h *zengin.TransferHeader) { h.ClientName = "株式会社" }, field: "client name", index: -1, wantErr: zengin.ErrCharset},
		{name: "client name long", header: func(h *zengin.TransferHeader) { h.ClientName = strings.Repeat("ｱ", 41) }, field: "client name", index: -1, wantErr: zengin.ErrTooLong},
		{name: "date 31 Nov", header: func(h *zengin.TransferHeader) { h.Date = zengin.MonthDay{Month: 11, Day: 31} }, field: "date", index: -1, wantErr: zengin.ErrDate},
		{name: "date zero", header: func(h *zengin.TransferHeader) { h.Date = zengin.MonthDay{} }, field: "date", index: -1, wantErr: zengin.ErrDate},
		{name: "sender bank code short ok, long bad", header: func(h *zengin.TransferHeader) { h.BankCode = "12345" }, field: "bank code", index: -1, wantErr: zengin.ErrTooLong},
		{name: "sender bank name small kana", header: func(h *zengin.TransferHeader) { h.BankName = "ｷﾞﾝｺｳｯ" }, field: "bank name", index: -1, wantErr: zengin.ErrCharset},
		{name: "sender branch code", header: func(h *zengin.TransferHeader) { h.BranchCode = "1-2" }, field: "branch code", index: -1, wantErr: zengin.ErrNotNumber},
		{name: "sender branch name long", header: func(h *zengin.TransferHeader) { h.BranchName = strings.Repeat("ｱ", 16) }, field: "branch name", index: -1, wantErr: zengin.ErrTooLong},
		{name: "sender account type", header: func(h *zengin.TransferHeader) { h.AccountType = 3 }, field: "account type", index: -1, wantErr: zengin.ErrInvalid},
		{name: "sender account number", header: func(h *zengin.TransferHeader) { h.AccountNumber = "12345678" }, field: "account number", index: -1, wantErr: zengin.ErrTooLong},
		{name: "no items", items: -1, field: "items", index: -1, wantErr: zengin.ErrInvalid},
		{name: "bank code", item: func(t *zengin.Transfer) { t.BankCode = "99a9" }, field: "bank code", index: 0, wantErr: zengin.ErrNotNumber},
		{name: "bank code missing", item: func(t *zengin.Transfer) { t.BankCode = "" }, field: "bank code", index: 0, wantErr: zengin.ErrInvalid},
		{name: "bank name", item: func(t *zengin.Transfer) { t.BankName = "みずほ" }, field: "bank name", index: 0, wantErr: zengin.ErrCharset},
		{name: "branch code", item: func(t *zengin.Transfer) { t.BranchCode = "1234" }, field: "branch code", index: 0, wantErr: zengin.ErrTooLong},
		{name: "branch name", item: func(t *zengin.Transfer) { t.BranchName = strings.Repeat("ｱ", 16) }, field: "branch name", index: 0, wantErr: zengin.ErrTooLong},
		{name: "account type", item: func(t *zengin.Transfer) { t.AccountType = 0 }, field: "account type", index: 0, wantErr: zengin.ErrInvalid},
		{name: "account number", item: func(t *zengin.Transfer) { t.AccountNumber = "12 4567" }, field: "account number", index: 0, wantErr: zengin.ErrNotNumber},
		{name: "name missing", item: func(t *zengin.Transfer) { t.Name = "" }, field: "name", index: 0, wantErr: zengin.ErrInvalid},
		{name: "name lower case", item: func(t *zengin.Transfer) { t.Name = "ﾔﾏﾀﾞ taro" }, field: "name", index: 0, wantErr: zengin.ErrCharset},
		{name: "name long", item: func(t *zengin.Transfer) { t.Name = strings.Repeat("ﾀﾞ", 16) }, field: "name", index: 0, wantErr: zengin.ErrTooLong},
		{name: "amount zero", item: func(t *zengin.Transfer) { t.Amount = decimal.Zero }, field: "amount", index: 0, wantErr: zengin.ErrInvalid},
		{name: "amount negative", item: func(t *zengin.Transfer) { t.Amount = decimal.NewFromInt(-5) }, field: "amount", index: 0, wantErr: zengin.ErrInvalid},
		{name: "amount sen", item: func(t *zengin.Transfer) { t.Amount = decimal.RequireFromString("100.5") }, field: "amount", index: 0, wantErr: zengin.ErrInvalid},
		{name: "amount too large", item: func(t *zengin.Transfer) { t.Amount = decimal.NewFromInt(10_000_000_000) }, field: "amount", index: 0, wantErr: zengin.ErrTooLong},
		{name: "new code", item: func(t *zengin.Transfer) { t.NewCode = 3 }, field: "new code", index: 0, wantErr: zengin.ErrInvalid},
		{name: "customer code 1", item: func(t *zengin.Transfer) { t.CustomerCode1 = "ABC" }, field: "customer code 1", index: 0, wantErr: zengin.ErrNotNumber},
		{name: "customer code 2", item: func(t *zengin.Transfer) { t.CustomerCode2 = "12345678901" }, field: "customer code 2", index: 0, wantErr: zengin.ErrTooLong},
		{name: "edi with codes", item: func(t *zengin.Transfer) { t.EDI = "X" }, field: "edi", index: 0, wantErr: zengin.ErrInvalid},
		{name: "edi charset", item: func(t *zengin.Transfer) {
			t.CustomerCode1, t.CustomerCode2, t.EDI = "", "", "inv#1"
		}, field: "edi", index: 0, wantErr: zengin.ErrCharset},
		{name: "edi long", item: func(t *zengin.Transfer) {
			t.CustomerCode1, t.CustomerCode2, t.EDI = "", "", strings.Repeat("1", 21)
		}, field: "edi", index: 0, wantErr: zengin.ErrTooLong},
		{name: "designation", item: func(t *zengin.Transfer) { t.Designation = "9" }, field: "designation", index: 0, wantErr: zengin.ErrInvalid},
		{name: "second item", items: 3, item: func(t *zengin.Transfer) { t.Amount = decimal.Zero }, field: "amount", index: 2, wantErr: zengin.ErrInvalid},
		{name: "total too large", items: 101, item: func(t *zengin.Transfer) { t.Amount = decimal.NewFromInt(9_999_999_999) }, field: "total", index: -1, wantErr: zengin.ErrTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := sampleHeader()
			if tc.header != nil {
				tc.header(&h)
			}
			n := 1
			if tc.items != 0 {
				n = max(tc.items, 0)
			}
			items := make([]zengin.Transfer, n)
			for i := range items {
				items[i] = sampleTransfer()
				// the last item (or all, for totals) gets the change
				if tc.item != nil && (i == n-1 || tc.field == "total") {
					tc.item(&items[i])
				}
			}
			var buf bytes.Buffer
			err := zengin.WriteTransfer(&buf, h, items, zengin.TransferOptions{})
			require.ErrorIs(t, err, tc.wantErr)
			var ie *zengin.ItemError
			require.ErrorAs(t, err, &ie)
			require.Equal(t, tc.field, ie.Field)
			require.Equal(t, tc.index, ie.Item)
			require.Zero(t, buf.Len(), "nothing written")
		})
	}
}

func TestItemErrorMessage(t *testing.T) {
	t.Parallel()
	items := []zengin.Transfer{sampleTransfer(), sampleTransfer()}
	items[1].Amount = decimal.Zero
	err := zengin.WriteTransfer(&bytes.Buffer{}, sampleHeader(), items, zengin.TransferOptions{})
	require.EqualError(t, err, "zengin: item 1: amount: invalid value: 0 must be more than 0")
	h := sampleHeader()
	h.BankCode = "99x9"
	err = zengin.WriteTransfer(&bytes.Buffer{}, h, items[:1], zengin.TransferOptions{})
	require.EqualError(t, err, `zengin: header: bank code: not a number "99x9"`)
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTransferWriterError(t *testing.T) {
	t.Parallel()
	err := zengin.WriteTransfer(failWriter{}, sampleHeader(), []zengin.Transfer{sampleTransfer()}, zengin.TransferOptions{})
	require.ErrorContains(t, err, "disk full")
}

func TestTransferRoundTrip(t *testing.T) {
	t.Parallel()
	edi := sampleTransfer()
	edi.CustomerCode1, edi.CustomerCode2, edi.Designation, edi.EDI = "", "", "8", "ABC 123"
	plain := sampleTransfer()
	plain.CustomerCode1, plain.CustomerCode2, plain.Designation, plain.BankName, plain.BranchName = "", "", "", "", ""
	plain.AccountType, plain.NewCode = zengin.Savings, 2
	items := []zengin.Transfer{sampleTransfer(), edi, plain}
	for _, opts := range []zengin.TransferOptions{{}, {NoLineBreaks: true}} {
		var buf bytes.Buffer
		require.NoError(t, zengin.WriteTransfer(&buf, sampleHeader(), items, opts))
		got, err := zengin.ReadTransfer(&buf)
		require.NoError(t, err)
		require.Equal(t, sampleHeader(), got.Header)
		require.Len(t, got.Items, len(items))
		for i := range items {
			require.True(t, items[i].Amount.Equal(got.Items[i].Amount))
			got.Items[i].Amount = items[i].Amount
		}
		require.Equal(t, items, got.Items)
		require.Equal(t, int64(3), got.Count)
		require.Equal(t, "3000", got.Total.String())
	}
}

// transferFile writes a valid two-item file and returns its records
// without line breaks, for tests that corrupt one.
func transferRecords(t *testing.T) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, zengin.WriteTransfer(&buf, sampleHeader(), []zengin.Transfer{sampleTransfer(), sampleTransfer()}, zengin.TransferOptions{}))
	return bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\r\n")), []byte("\r\n"))
}

func TestReadTransferErrors(t *testing.T) {
	t.Parallel()
	set := func(rec, col int, s string) func([][]byte) {
		return func(r [][]byte) { copy(r[rec-1][col-1:], s) }
	}
	cases := []struct {
		name    string
		change  func([][]byte)
		record  int
		field   string
		wantErr error
	}{
		{name: "type code", change: set(1, 2, "11"), record: 1, field: "type code", wantErr: zengin.ErrLayout},
		{name: "ebcdic", change: set(1, 4, "1"), record: 1, field: "code kind", wantErr: zengin.ErrLayout},
		{name: "client code", change: set(1, 5, "x"), record: 1, field: "client code", wantErr: zengin.ErrNotNumber},
		{name: "date", change: set(1, 55, "1301"), record: 1, field: "date", wantErr: zengin.ErrDate},
		{name: "header account type", change: set(1, 96, "5"), record: 1, field: "account type", wantErr: zengin.ErrInvalid},
		{name: "amount", change: set(3, 81, "12a"), record: 3, field: "amount", wantErr: zengin.ErrNotNumber},
		{name: "amount zero", change: set(3, 81, "0000000000"), record: 3, field: "amount", wantErr: zengin.ErrInvalid},
		{name: "account type", change: set(2, 43, " "), record: 2, field: "account type", wantErr: zengin.ErrNotNumber},
		{name: "new code", change: set(2, 91, "5"), record: 2, field: "new code", wantErr: zengin.ErrInvalid},
		{name: "customer code", change: set(2, 92, "A"), record: 2, field: "customer code 1", wantErr: zengin.ErrNotNumber},
		{name: "designation", change: set(2, 112, "1"), record: 2, field: "designation", wantErr: zengin.ErrInvalid},
		{name: "edi flag", change: set(2, 113, "N"), record: 2, field: "edi flag", wantErr: zengin.ErrInvalid},
		{name: "count", change: set(4, 2, "000003"), record: 4, field: "count", wantErr: zengin.ErrTotals},
		{name: "total", change: set(4, 8, "000000002001"), record: 4, field: "total", wantErr: zengin.ErrTotals},
		{name: "data before header", change: set(1, 1, "2"), record: 1, field: "data kind", wantErr: zengin.ErrLayout},
		{name: "end before trailer", change: set(4, 1, "9"), record: 4, field: "data kind", wantErr: zengin.ErrLayout},
		{name: "unknown kind", change: set(5, 1, "7"), record: 5, field: "data kind", wantErr: zengin.ErrLayout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := transferRecords(t)
			tc.change(recs)
			got, err := zengin.ReadTransfer(bytes.NewReader(bytes.Join(recs, []byte("\r\n"))))
			require.ErrorIs(t, err, tc.wantErr)
			var re *zengin.RecordError
			require.ErrorAs(t, err, &re)
			require.Equal(t, tc.record, re.Record)
			require.Equal(t, tc.field, re.Field)
			require.Zero(t, got.Header)
			require.Nil(t, got.Items)
		})
	}
}

func TestReadTransferFraming(t *testing.T) {
	t.Parallel()
	recs := transferRecords(t)
	join := func(rs [][]byte, sep string) []byte { return bytes.Join(rs, []byte(sep)) }
	t.Run("LF and EOF mark", func(t *testing.T) {
		t.Parallel()
		got, err := zengin.ReadTransfer(bytes.NewReader(append(join(recs, "\n"), "\n\x1a"...)))
		require.NoError(t, err)
		require.Len(t, got.Items, 2)
	})
	t.Run("no end record", func(t *testing.T) {
		t.Parallel()
		_, err := zengin.ReadTransfer(bytes.NewReader(join(recs[:4], "\r\n")))
		require.ErrorIs(t, err, zengin.ErrTruncated)
		require.EqualError(t, err, "zengin: record 5: data kind: truncated record: file ends where end (9) expected")
	})
	t.Run("record after end", func(t *testing.T) {
		t.Parallel()
		_, err := zengin.ReadTransfer(bytes.NewReader(join(append(recs, recs[4]), "")))
		require.ErrorIs(t, err, zengin.ErrLayout)
	})
	t.Run("short record", func(t *testing.T) {
		t.Parallel()
		rs := transferRecords(t)
		rs[2] = rs[2][:100]
		_, err := zengin.ReadTransfer(bytes.NewReader(join(rs, "\r\n")))
		require.ErrorIs(t, err, zengin.ErrTruncated)
		require.ErrorContains(t, err, "record 3:")
	})
	t.Run("cut file", func(t *testing.T) {
		t.Parallel()
		b := join(recs, "")
		_, err := zengin.ReadTransfer(bytes.NewReader(b[:len(b)-10]))
		require.ErrorIs(t, err, zengin.ErrTruncated)
		require.ErrorContains(t, err, "record 5:")
	})
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		_, err := zengin.ReadTransfer(strings.NewReader(""))
		require.ErrorIs(t, err, zengin.ErrTruncated)
	})
	t.Run("utf-8", func(t *testing.T) {
		t.Parallel()
		rs := transferRecords(t)
		s := strings.Replace(decodeSJIS(t, join(rs, "\r\n")), "ﾔﾏﾀﾞ", "ヤマダ", 1)
		_, err := zengin.ReadTransfer(strings.NewReader(s))
		require.ErrorIs(t, err, zengin.ErrEncoding)
		require.ErrorContains(t, err, "record 1: encoding") // the header's ｶ is 3 bytes in UTF-8
		require.ErrorContains(t, err, "looks like UTF-8")
	})
	t.Run("kanji in cp932", func(t *testing.T) {
		t.Parallel()
		rs := transferRecords(t)
		copy(rs[1][50:], []byte{0x8E, 0x52}) // 山
		_, err := zengin.ReadTransfer(bytes.NewReader(join(rs, "")))
		require.ErrorIs(t, err, zengin.ErrEncoding)
		require.ErrorContains(t, err, "record 2: encoding")
	})
	t.Run("read error", func(t *testing.T) {
		t.Parallel()
		_, err := zengin.ReadTransfer(errReader{})
		require.ErrorContains(t, err, "zengin: read: boom")
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func FuzzReadTransfer(f *testing.F) {
	var buf bytes.Buffer
	if err := zengin.WriteTransfer(&buf, sampleHeader(), []zengin.Transfer{sampleTransfer()}, zengin.TransferOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(bytes.ReplaceAll(buf.Bytes(), []byte("\r\n"), nil))
	f.Add([]byte("1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := zengin.ReadTransfer(bytes.NewReader(data))
		if err != nil {
			require.Zero(t, tf.Count)
			require.Nil(t, tf.Items)
			return
		}
		// Whatever reads also writes back, unless a text field holds
		// characters the writer refuses or a required name is blank, and
		// then reads the same.
		var out bytes.Buffer
		if werr := zengin.WriteTransfer(&out, tf.Header, tf.Items, zengin.TransferOptions{}); werr != nil {
			if !errors.Is(werr, zengin.ErrCharset) {
				require.ErrorIs(t, werr, zengin.ErrInvalid)
				require.ErrorContains(t, werr, "name: invalid value: missing")
			}
			return
		}
		again, err := zengin.ReadTransfer(&out)
		require.NoError(t, err)
		require.Equal(t, tf.Header, again.Header)
		require.Equal(t, len(tf.Items), len(again.Items))
		require.True(t, tf.Total.Equal(again.Total))
	})
}
