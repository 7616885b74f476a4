package zengin_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"

	"github.com/honten/honten/internal/zengin"
)

func sjis(t testing.TB, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

// An invented export in the SMBC-like shape.
const smbcLike = "年月日,お引出し,お預入れ,お取り扱い内容,残高,メモ\r\n" +
	"2025/12/1,,\"7,006\",1234567 ﾔﾏﾀﾞ ﾀﾛｳ,\"107,006\",\r\n" +
	"2025/12/1,440,,ﾌﾘｺﾐﾃｽｳﾘﾖｳ,\"106,566\",\r\n" +
	"2025/12/2,,5000,ｽｽﾞｷ ﾊﾅｺ,\"111,566\",\r\n" +
	"2025/12/2,,5000,ｽｽﾞｷ ﾊﾅｺ,\"116,566\",\r\n" +
	",,,,,\r\n"

// An invented export in the MUFG-like shape.
const mufgLike = "\"日付\",\"摘要\",\"摘要内容\",\"支払い金額\",\"預かり金額\",\"差引残高\",\"メモ\",\"未資金化区分\",\"入払区分\"\n" +
	"\"2025/12/01\",\"振込１\",\"ヤマダ　タロウ\",\"\",\"12,000\",\"512,000\",\"\",\"\",\"入金\"\n" +
	"\"2025/12/03\",\"カード\",\"ＡＢＣストア\",\"3,300\",\"\",\"508,700\",\"\",\"\",\"出金\"\n"

func TestReadCSVPresets(t *testing.T) {
	t.Parallel()
	t.Run("SMBC-like", func(t *testing.T) {
		t.Parallel()
		st, err := zengin.ReadCSV(bytes.NewReader(sjis(t, smbcLike)), zengin.CSVLikeSMBC)
		require.NoError(t, err)
		require.Equal(t, zengin.CSV, st.Kind)
		require.Len(t, st.Accounts, 1)
		require.Len(t, st.Lines, 4)
		l := st.Lines[0]
		require.Equal(t, 2, l.Record)
		require.True(t, jst(2025, 12, 1).Equal(l.Date))
		require.Equal(t, "7006", l.Amount.String())
		require.Equal(t, zengin.Deposit, l.Direction)
		require.Equal(t, "1234567 ﾔﾏﾀﾞ ﾀﾛｳ", l.PayerName)
		require.Equal(t, "107006", l.Balance.Decimal.String())
		require.True(t, l.Balance.Valid)
		require.Equal(t, zengin.Withdrawal, st.Lines[1].Direction)
		require.Equal(t, "440", st.Lines[1].Amount.String())
		// Two identical rows get different, stable IDs.
		require.NotEqual(t, st.Lines[2].ID, st.Lines[3].ID)
		again, err := zengin.ReadCSV(bytes.NewReader(sjis(t, smbcLike)), zengin.CSVLikeSMBC)
		require.NoError(t, err)
		for i := range st.Lines {
			require.Equal(t, st.Lines[i].ID, again.Lines[i].ID)
		}
		// Dropping the first row keeps the other IDs.
		rows := strings.SplitAfter(smbcLike, "\r\n")
		shorter := rows[0] + strings.Join(rows[2:], "")
		third, err := zengin.ReadCSV(bytes.NewReader(sjis(t, shorter)), zengin.CSVLikeSMBC)
		require.NoError(t, err)
		require.Equal(t, st.Lines[1].ID, third.Lines[0].ID)
		require.Equal(t, st.Lines[3].ID, third.Lines[2].ID)
	})
	t.Run("MUFG-like", func(t *testing.T) {
		t.Parallel()
		st, err := zengin.ReadCSV(bytes.NewReader(sjis(t, mufgLike)), zengin.CSVLikeMUFG)
		require.NoError(t, err)
		require.Len(t, st.Lines, 2)
		require.Equal(t, "ヤマダ　タロウ", st.Lines[0].PayerName)
		require.Equal(t, "ﾔﾏﾀﾞﾀﾛｳ", zengin.Fold(strings.ReplaceAll(st.Lines[0].PayerName, "　", "")))
		require.Equal(t, "振込１", st.Lines[0].Reference)
		require.Equal(t, "12000", st.Lines[0].Amount.String())
		require.Equal(t, zengin.Withdrawal, st.Lines[1].Direction)
		require.Equal(t, "3300", st.Lines[1].Amount.String())
		require.True(t, jst(2025, 12, 3).Equal(st.Lines[1].Date))
	})
}

func TestReadCSVSignedAmount(t *testing.T) {
	t.Parallel()
	m := zengin.CSVMap{
		SkipRows:   1,
		Date:       zengin.Column{Index: 1},
		DateLayout: "20060102",
		Amount:     zengin.Column{Index: 2},
		Payer:      zengin.Column{Index: 3},
		Reference:  zengin.Column{Index: 4},
	}
	in := "\xef\xbb\xbf口座 1234567\n" +
		"20251201,7006,ﾔﾏﾀﾞ ﾀﾛｳ,A1\n" +
		"20251202,-440,,\n" +
		"20251202,▲1000円,手数料\n" +
		"20251203,\"¥1,200\",ｽｽﾞｷ\n"
	st, err := zengin.ReadCSV(strings.NewReader(in), m)
	require.NoError(t, err)
	require.Len(t, st.Lines, 4)
	require.Equal(t, "A1", st.Lines[0].Reference)
	require.Equal(t, zengin.Withdrawal, st.Lines[1].Direction)
	require.Equal(t, "440", st.Lines[1].Amount.String())
	require.Equal(t, zengin.Withdrawal, st.Lines[2].Direction)
	require.Equal(t, "1000", st.Lines[2].Amount.String())
	require.Equal(t, "1200", st.Lines[3].Amount.String())
	require.False(t, st.Lines[0].Balance.Valid)
}

func TestReadCSVErrors(t *testing.T) {
	t.Parallel()
	cols := zengin.CSVMap{
		Date: zengin.Column{Index: 1}, DateLayout: "2006/1/2",
		Deposit: zengin.Column{Index: 2}, Withdrawal: zengin.Column{Index: 3},
		Balance: zengin.Column{Index: 4},
	}
	cases := []struct {
		name    string
		in      string
		m       zengin.CSVMap
		record  int
		field   string
		wantErr error
	}{
		{name: "date", in: "2025/12/1,1,,\n2025-12-02,1,,\n", m: cols, record: 2, field: "date", wantErr: zengin.ErrDate},
		{name: "deposit", in: "2025/12/1,12a,,\n", m: cols, record: 1, field: "deposit", wantErr: zengin.ErrNotNumber},
		{name: "fraction", in: "2025/12/1,1.5,,\n", m: cols, record: 1, field: "deposit", wantErr: zengin.ErrNotNumber},
		{name: "withdrawal", in: "2025/12/1,,x,\n", m: cols, record: 1, field: "withdrawal", wantErr: zengin.ErrNotNumber},
		{name: "both", in: "2025/12/1,1,2,\n", m: cols, record: 1, field: "amount", wantErr: zengin.ErrInvalid},
		{name: "none", in: "2025/12/1,,,5\n", m: cols, record: 1, field: "amount", wantErr: zengin.ErrInvalid},
		{name: "balance", in: "2025/12/1,1,,-\n", m: cols, record: 1, field: "balance", wantErr: zengin.ErrNotNumber},
		{name: "quote", in: "2025/12/1,1,,\n\"2025/12/2,1\",x\"y,\n", m: cols, record: 2, field: "csv", wantErr: zengin.ErrLayout},
		{name: "missing header column", in: string(sjis(t, "年月日,お預入れ\n")), m: zengin.CSVLikeSMBC, record: 1, field: "header", wantErr: zengin.ErrLayout},
		{name: "no header row", in: "", m: zengin.CSVLikeSMBC, record: 1, field: "header", wantErr: zengin.ErrTruncated},
		{name: "utf-8 read as cp932", in: "年月日,お引出し,お預入れ,お取り扱い内容,残高\n", m: zengin.CSVLikeSMBC, record: 1, field: "encoding", wantErr: zengin.ErrEncoding},
		{name: "cp932 read as utf-8", in: string(sjis(t, "2025/12/1,1,,\nｱ\n")), m: cols, record: 2, field: "encoding", wantErr: zengin.ErrEncoding},
		{name: "no date column", in: "", m: zengin.CSVMap{Amount: zengin.Column{Index: 1}}, field: "map", wantErr: zengin.ErrInvalid},
		{name: "amount and deposit", in: "", m: zengin.CSVMap{Date: zengin.Column{Index: 1}, DateLayout: "2006", Amount: zengin.Column{Index: 2}, Deposit: zengin.Column{Index: 3}}, field: "map", wantErr: zengin.ErrInvalid},
		{name: "no amount", in: "", m: zengin.CSVMap{Date: zengin.Column{Index: 1}, DateLayout: "2006"}, field: "map", wantErr: zengin.ErrInvalid},
		{name: "name without header", in: "", m: zengin.CSVMap{Date: zengin.Column{Name: "日付"}, DateLayout: "2006", Amount: zengin.Column{Index: 2}}, field: "map", wantErr: zengin.ErrInvalid},
		{name: "encoding", in: "", m: zengin.CSVMap{Encoding: 7, Date: zengin.Column{Index: 1}, DateLayout: "2006", Amount: zengin.Column{Index: 2}}, field: "map", wantErr: zengin.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := zengin.ReadCSV(strings.NewReader(tc.in), tc.m)
			require.ErrorIs(t, err, tc.wantErr)
			var re *zengin.RecordError
			require.ErrorAs(t, err, &re)
			require.Equal(t, tc.record, re.Record)
			require.Equal(t, tc.field, re.Field)
			require.Zero(t, st.Kind)
			require.Nil(t, st.Lines)
		})
	}
	_, err := zengin.ReadCSV(errReader{}, cols)
	require.ErrorContains(t, err, "boom")
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(smbcLike), true)
	f.Add(sjis(f, smbcLike), false)
	f.Add(sjis(f, mufgLike), false)
	f.Add([]byte("2025/12/1,1,,\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, utf bool) {
		m := zengin.CSVLikeSMBC
		if utf {
			m.Encoding = zengin.UTF8
		}
		st, err := zengin.ReadCSV(bytes.NewReader(data), m)
		if err != nil {
			require.Nil(t, st.Lines)
			return
		}
		ids := map[string]bool{}
		for _, l := range st.Lines {
			require.True(t, l.Amount.IsPositive())
			require.False(t, ids[l.ID], "IDs are unique within a file")
			ids[l.ID] = true
		}
		again, err := zengin.ReadCSV(bytes.NewReader(data), m)
		require.NoError(t, err)
		require.Equal(t, st, again)
	})
}
