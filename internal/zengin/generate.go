package zengin

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
)

// syntheticNames are invented payer names with the noise real statements
// have: company abbreviations in both positions, order numbers in front,
// voiced marks, folded small kana and stray spaces.
var syntheticNames = []string{
	"ﾔﾏﾀﾞ ﾀﾛｳ", "ｽｽﾞｷ ﾊﾅｺ", "ｻﾄｳ ｼﾞﾛｳ", "ﾀﾅｶ ﾐｷ", "ｶ)ｻﾝﾌﾟﾙｼﾖｳｶｲ", "ﾃｽﾄｼﾖｳｼﾞ(ｶ",
	"ﾕ)ﾐﾅﾐﾔ", "ﾄﾞ)ｷﾀﾉｺｳﾎﾞｳ", "ｲﾄｳ  ｹﾝ", "ﾜﾀﾅﾍﾞ ﾕｳｷ", "ﾅｶﾑﾗ ｼﾕﾝ", "ｺﾊﾞﾔｼ ｱﾔ",
}

// SyntheticStatement returns an invented statement of kind TransferNotice
// or Transactions with n lines on one account (bank 9999, which does not
// exist), dated on day (a JST day in the 令和 era) and the days before it.
// About a third of the deposits carry a 7-digit order number before the
// name; in Transactions about a fifth of the lines are withdrawals, and in
// TransferNotice about one in fifty is a cancellation. The same rng state
// gives the same statement. It is meant for tests and benchmarks and
// returns an error only for a kind it cannot write.
func SyntheticStatement(rng *rand.Rand, kind Kind, n int, day time.Time) (Statement, error) {
	if kind != TransferNotice && kind != Transactions {
		return Statement{}, fmt.Errorf("zengin: synthetic statement: %w: kind %d", ErrInvalid, int(kind))
	}
	d := day.In(JST)
	to := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, JST)
	from := to.AddDate(0, 0, -6)
	a := Account{
		Created: to, From: from, To: to,
		BankCode: "9999", BankName: "ﾃｽﾄｷﾞﾝｺｳ", BranchCode: "123", BranchName: "ﾎﾝﾃﾝ",
		AccountType: Ordinary, AccountNumber: "1234567", Name: "ｶ)ｻﾝﾌﾟﾙｼﾖｳｶｲ",
	}
	if kind == Transactions {
		a.Passbook = "1"
		a.OpeningBalance = decimal.NewFromInt(rng.Int64N(5_000_000))
	}
	st := Statement{Kind: kind, Accounts: []Account{a}}
	balance := a.OpeningBalance
	for i := range n {
		date := from.AddDate(0, 0, i*7/max(n, 1))
		l := Line{
			Reference: fmt.Sprintf("%06d", i+1),
			Date:      date,
			ValueDate: date,
			Direction: Deposit,
			Amount:    decimal.NewFromInt(100 * (1 + rng.Int64N(2000))),
			PayerName: syntheticNames[rng.IntN(len(syntheticNames))],
			PayerBank: "ｻﾝﾌﾟﾙｷﾞﾝｺｳ", PayerBranch: "ｴｷﾏｴ",
		}
		if rng.IntN(3) == 0 {
			l.PayerName = fmt.Sprintf("%07d %s", 1_000_000+rng.IntN(9_000_000), l.PayerName)
		}
		if kind == Transactions {
			l.Reference = fmt.Sprintf("%08d", i+1)
			l.TxType = "11"
			if rng.IntN(5) == 0 {
				l.Direction, l.TxType = Withdrawal, "14"
				l.PayerName, l.PayerBank, l.PayerBranch = "", "", ""
				l.Description = "ﾌﾘｺﾐﾃｽｳﾘﾖｳ"
			}
			if l.Direction == Withdrawal && l.Amount.GreaterThan(balance) {
				l.Direction, l.TxType = Deposit, "10"
			}
			balance = balance.Add(l.Signed())
		} else if rng.IntN(50) == 0 {
			l.Cancel = true
		}
		st.Lines = append(st.Lines, l)
	}
	if kind == Transactions {
		st.Accounts[0].ClosingBalance = balance
	}
	return st, nil
}
