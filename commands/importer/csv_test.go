package importer_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/honten/honten/commands/importer"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
)

const header = "handle,title,description,status,categories,sku,variant_title,option1_name,option1_value,price,compare_at_price,tax_rate,stock:main\n"

func TestParseGroupsRowsIntoProducts(t *testing.T) {
	t.Parallel()
	csv := header +
		"tee,無地Tシャツ,綿100%,active,apparel|t-shirts,TEE-S,S,サイズ,S,2200,,10,5\n" +
		"tee,,,,,TEE-M,M,サイズ,M,\"2,200\",2640,10,7\n" +
		"tea,\"煎茶, 100g\",\"静岡の\"\"深蒸し\"\"\",draft,,TEA-1,,,,980,,8,\n"
	products, rowErrs, rows, err := importer.Parse([]byte(csv), money.JPY)
	require.NoError(t, err)
	require.Empty(t, rowErrs)
	require.Equal(t, 3, rows)
	require.Len(t, products, 2)
	tee := products[0]
	require.Equal(t, "tee", tee.Handle)
	require.Len(t, tee.Rows, 2)
	require.Equal(t, "無地Tシャツ", *tee.Rows[0].Title)
	require.Equal(t, []string{"apparel", "t-shirts"}, *tee.Rows[0].Categories)
	require.Nil(t, tee.Rows[1].Title, "empty cells are not given")
	require.Equal(t, "2200", tee.Rows[1].Variant.Price.AmountString(), "thousands separators are accepted")
	require.Equal(t, map[string]int64{"main": 7}, tee.Rows[1].Stock)
	require.Equal(t, 3, tee.Rows[1].Line)
	require.Equal(t, `静岡の"深蒸し"`, *products[1].Rows[0].Description)
	require.Nil(t, products[1].Rows[0].Stock)
}

func TestParseAcceptsBOMAndShiftJIS(t *testing.T) {
	t.Parallel()
	csv := header + "yokan,羊羹 一本,,active,,YOKAN-1,,,,1080,,8,3\n"
	sjis, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(csv))
	require.NoError(t, err)
	for name, data := range map[string][]byte{
		"utf-8":     []byte(csv),
		"utf-8 bom": append([]byte{0xEF, 0xBB, 0xBF}, csv...),
		"shift_jis": sjis,
	} {
		products, rowErrs, _, err := importer.Parse(data, money.JPY)
		require.NoError(t, err, name)
		require.Empty(t, rowErrs, name)
		require.Equal(t, "羊羹 一本", *products[0].Rows[0].Title, name)
	}
}

func TestParseRefusesBadFiles(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"wrong encoding": header + "x,\xff\xfe\xfd\x80\x80,,,,X-1,,,,1,,10,\n",
		"empty":          "",
		"unknown column": "handle,sku,colour\nx,X-1,red\n",
		"no sku column":  "handle,title\nx,y\n",
		"bad stock col":  "handle,sku,stock:Main Store\nx,X-1,1\n",
	} {
		_, _, _, err := importer.Parse([]byte(data), money.JPY)
		require.Error(t, err, name)
		require.Equal(t, errs.KindInvalid, errs.KindOf(err), name)
	}
}

func TestParseReportsRowErrorsAndSkipsTheWholeProduct(t *testing.T) {
	t.Parallel()
	csv := header +
		"good,Good,,active,,GOOD-1,,,,100,,10,1\n" +
		"bad,Bad,,active,,BAD-1,,,,100,,10,1\n" +
		"bad,,,,,BAD-2,,,,100.5,,10,1\n" + // yen has no decimals
		"bad,,,,,BAD 3,,,,-5,,7,x\n" + // sku, price, tax rate, stock
		"quote,\"broken \"quote\",,,,Q-1,,,,1,,10,\n" +
		"short,row\n"
	products, rowErrs, _, err := importer.Parse([]byte(csv), money.JPY)
	require.NoError(t, err)
	require.Len(t, products, 1)
	require.Equal(t, "good", products[0].Handle)
	got := map[string]bool{}
	for _, e := range rowErrs {
		got[strconv.Itoa(e.Row)+":"+e.Column] = true
	}
	for _, want := range []string{"3:", "4:price", "5:sku", "5:price", "5:tax_rate", "5:stock:main", "6:", "7:"} {
		require.True(t, got[want], "missing error %s in %v", want, rowErrs)
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte(header + "tee,T,,active,,TEE-S,S,サイズ,S,2200,,10,5\n"))
	f.Add([]byte("handle,sku\n\"a,b\nc\",x\n"))
	f.Add([]byte{0xEF, 0xBB, 0xBF, 'h'})
	f.Fuzz(func(t *testing.T, data []byte) {
		products, rowErrs, _, err := importer.Parse(data, money.JPY)
		if err != nil {
			if errs.KindOf(err) != errs.KindInvalid {
				t.Fatalf("file error of kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		for _, p := range products {
			if len(p.Rows) == 0 || p.Handle == "" {
				t.Fatalf("empty product %+v", p)
			}
		}
		for _, e := range rowErrs {
			if e.Row < 1 || e.Message == "" {
				t.Fatalf("bad row error %+v", e)
			}
		}
	})
}
