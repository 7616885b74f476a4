package zengin_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/honten/honten/internal/zengin"
)

func ExampleFold() {
	fmt.Println(zengin.Fold("カ）サンプル商会"))
	fmt.Println(zengin.Fold("やまだ　きょうこ"))
	fmt.Println(zengin.ValidName(zengin.Fold("カ）サンプル商会")))
	// Output:
	// ｶ)ｻﾝﾌﾟﾙ商会
	// ﾔﾏﾀﾞ ｷﾖｳｺ
	// character not allowed: '商' at position 8
}

func ExampleMatchKey() {
	fmt.Println(zengin.MatchKey("ｶ)ｻﾝﾌﾟﾙｼﾖｳｶｲ") == zengin.MatchKey("サンプルショウカイ（カ"))
	fmt.Println(zengin.MatchKey("1234567 ﾔﾏﾀﾞ ﾀﾛｳ"))
	// Output:
	// true
	// 1234567ﾔﾏﾀﾀﾛｳ
}

func ExampleParseWareki() {
	now := time.Date(2025, 12, 5, 0, 0, 0, 0, zengin.JST)
	for _, s := range []string{"071201", "310430", "010430", "000000"} {
		t, err := zengin.ParseWareki(s, now)
		fmt.Println(s, t.Format(time.DateOnly), err)
	}
	// Output:
	// 071201 2025-12-01 <nil>
	// 310430 2019-04-30 <nil>
	// 010430 1989-04-30 <nil>
	// 000000 0001-01-01 <nil>
}

func ExampleWriteTransfer() {
	h := zengin.TransferHeader{
		ClientCode: "0000012345", ClientName: "ｶ)ｻﾝﾌﾟﾙｼﾖｳｶｲ",
		Date:     zengin.MonthDay{Month: time.December, Day: 5},
		BankCode: "9999", BranchCode: "123", AccountType: zengin.Ordinary, AccountNumber: "1234567",
	}
	refund := zengin.Transfer{
		BankCode: "9998", BranchCode: "001", AccountType: zengin.Ordinary, AccountNumber: "7654321",
		Name: zengin.Fold("ヤマダ タロウ"), Amount: decimal.NewFromInt(725),
	}
	var buf bytes.Buffer
	fmt.Println(zengin.WriteTransfer(&buf, h, []zengin.Transfer{refund}, zengin.TransferOptions{}), buf.Len())
	refund.Amount = decimal.Zero
	fmt.Println(zengin.WriteTransfer(&buf, h, []zengin.Transfer{refund}, zengin.TransferOptions{}))
	// Output:
	// <nil> 488
	// zengin: item 0: amount: invalid value: 0 must be more than 0
}
