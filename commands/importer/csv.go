// Package importer imports products from CSV: it decodes the file (UTF-8
// with or without BOM, or Shift_JIS, as Japanese shops export it), parses
// and validates every row, groups rows into products by handle, and
// upserts products, variants, prices and stock through the commands — one
// product at a time, each in its own short transaction. A row is applied
// whole or not at all, and so is a product: when one of its rows is
// invalid, none of them is applied. Re-importing a file changes nothing.
//
// The columns are documented in docs/csv.md. It must not import http.
package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/store"
)

// Columns are the known columns, in export order; stock columns are
// "stock:<location code>".
var Columns = []string{"handle", "title", "description", "status", "categories", "sku", "variant_title",
	"option1_name", "option1_value", "option2_name", "option2_value", "option3_name", "option3_value",
	"price", "compare_at_price", "tax_rate", "fulfillment_type", "variant_status", "is_hot"}

// MaxRows bounds a file.
const MaxRows = 200_000

// RowError is a problem with one cell or row. Row is the 1-based line of
// the file (the header is row 1).
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// Row is one parsed variant row. Empty cells are not set: an import leaves
// the stored value alone.
type Row struct {
	Line        int
	Handle      string
	Title       *string
	Description *string
	Status      *string
	Categories  *[]string
	SKU         string
	Variant     VariantPatch
	Stock       map[string]int64 // location code → on hand
}

// VariantPatch holds a row's variant cells; nil (or empty Options) is "not given".
type VariantPatch struct {
	Title           *string
	Options         []catalog.Option
	Price           *money.Money
	CompareAtPrice  *money.Money
	TaxRate         *string
	FulfillmentType *string
	Status          *string
	IsHot           *bool
}

// ErrEncoding means the file is neither UTF-8 nor Shift_JIS.
var ErrEncoding = errs.Field("file", "is neither UTF-8 nor Shift_JIS text")

// Decode returns the file as UTF-8: UTF-8 (a BOM is dropped) or Shift_JIS.
func Decode(data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if utf8.Valid(data) {
		return string(data), nil
	}
	out, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), data)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", ErrEncoding
	}
	return string(out), nil
}

// Product is the rows of one product, in file order.
type Product struct {
	Handle string
	Rows   []Row
}

// Parse reads a CSV file. It returns the products whose rows are all valid,
// the problems of the others (a product with a bad row is skipped whole),
// and an error when the file itself is unusable (encoding, header, size).
func Parse(data []byte, cur money.Currency) ([]Product, []RowError, int, error) {
	text, err := Decode(data)
	if err != nil {
		return nil, nil, 0, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, 0, errs.Field("file", "is empty: the first line must name the columns")
	}
	if err != nil {
		return nil, nil, 0, errs.Field("file", "the header line is not valid CSV: "+err.Error())
	}
	cols, err := columns(header)
	if err != nil {
		return nil, nil, 0, err
	}
	var rowErrs []RowError
	byHandle := map[string]*Product{}
	bad := map[string]bool{}
	var order []string
	rows := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rows++
		if rows > MaxRows {
			return nil, nil, rows, errs.Field("file", fmt.Sprintf("has more than %d rows; split it", MaxRows))
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rowErrs = append(rowErrs, RowError{Row: pe.StartLine, Message: "broken CSV: " + pe.Err.Error()})
				continue
			}
			return nil, nil, rows, err
		}
		line, _ := r.FieldPos(0) // after a successful read: the record has a field 0
		if len(rec) != len(header) {
			rowErrs = append(rowErrs, RowError{Row: line, Message: fmt.Sprintf("has %d cells, the header has %d", len(rec), len(header))})
			if len(rec) > 0 {
				bad[strings.TrimSpace(rec[0])] = true
			}
			continue
		}
		row, problems := parseRow(line, rec, cols, cur)
		if row.Handle != "" {
			if _, ok := byHandle[row.Handle]; !ok {
				byHandle[row.Handle] = &Product{Handle: row.Handle}
				order = append(order, row.Handle)
			}
		}
		if len(problems) > 0 {
			rowErrs = append(rowErrs, problems...)
			bad[row.Handle] = true
			continue
		}
		byHandle[row.Handle].Rows = append(byHandle[row.Handle].Rows, row)
	}
	out := make([]Product, 0, len(order))
	for _, h := range order {
		p := byHandle[h]
		if bad[h] {
			for _, row := range p.Rows {
				rowErrs = append(rowErrs, RowError{Row: row.Line, Message: "not imported: another row of product " + strconv.Quote(h) + " is invalid"})
			}
			continue
		}
		out = append(out, *p)
	}
	sort.SliceStable(rowErrs, func(i, j int) bool { return rowErrs[i].Row < rowErrs[j].Row })
	return out, rowErrs, rows, nil
}

type colIndex struct {
	idx   map[string]int
	stock map[string]int // location code → column
}

func columns(header []string) (colIndex, error) {
	known := map[string]bool{}
	for _, c := range Columns {
		known[c] = true
	}
	ci := colIndex{idx: map[string]int{}, stock: map[string]int{}}
	var v errs.Collector
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case known[name]:
			if _, dup := ci.idx[name]; dup {
				v.Add("columns", fmt.Sprintf("%q appears twice", name))
			}
			ci.idx[name] = i
		case strings.HasPrefix(name, "stock:"):
			code := strings.TrimPrefix(name, "stock:")
			if _, err := store.ParseLocationCode(code); err != nil {
				v.Add("columns", fmt.Sprintf("%q: %q is not a location code", h, code))
				continue
			}
			ci.stock[code] = i
		default:
			v.Add("columns", fmt.Sprintf("unknown column %q (see docs/csv.md)", h))
		}
	}
	for _, req := range []string{"handle", "sku"} {
		if _, ok := ci.idx[req]; !ok {
			v.Add("columns", fmt.Sprintf("the %q column is required", req))
		}
	}
	return ci, v.Err()
}

func parseRow(line int, rec []string, ci colIndex, cur money.Currency) (Row, []RowError) {
	var problems []RowError
	fail := func(col, msg string) { problems = append(problems, RowError{Row: line, Column: col, Message: msg}) }
	get := func(col string) (string, bool) {
		i, ok := ci.idx[col]
		if !ok {
			return "", false
		}
		s := strings.TrimSpace(rec[i])
		return s, s != ""
	}
	str := func(col string) *string {
		if s, ok := get(col); ok {
			return &s
		}
		return nil
	}
	row := Row{Line: line, Title: str("title"), Description: str("description"), Status: str("status")}
	row.Handle, _ = get("handle")
	if row.Handle == "" {
		fail("handle", "is required")
	}
	row.SKU, _ = get("sku")
	if _, err := catalog.ParseSKU(row.SKU); err != nil {
		fail("sku", "must be 1–64 letters, digits, '.', '_' or '-'")
	}
	if row.Status != nil {
		if _, err := catalog.ParseProductStatus(*row.Status); err != nil {
			fail("status", "must be draft, active or archived")
		}
	}
	if s, ok := get("categories"); ok {
		var cats []string
		for _, c := range strings.Split(s, "|") {
			if c = strings.TrimSpace(c); c != "" {
				cats = append(cats, c)
			}
		}
		row.Categories = &cats
	}
	v := &row.Variant
	v.Title = str("variant_title")
	for n := 1; n <= 3; n++ {
		name, nok := get(fmt.Sprintf("option%d_name", n))
		val, vok := get(fmt.Sprintf("option%d_value", n))
		switch {
		case nok && vok:
			v.Options = append(v.Options, catalog.Option{Name: name, Value: val})
		case nok != vok:
			fail(fmt.Sprintf("option%d_value", n), "an option needs both a name and a value")
		}
	}
	parseMoney := func(col string) *money.Money {
		s, ok := get(col)
		if !ok {
			return nil
		}
		m, err := money.Parse(strings.ReplaceAll(s, ",", ""), cur)
		if err != nil {
			fail(col, fmt.Sprintf("must be an amount in %s with at most %d decimals", cur, cur.Decimals()))
			return nil
		}
		if err := catalog.ValidatePrice(col, m); err != nil {
			fail(col, fmt.Sprintf("must be between 0 and %d", catalog.MaxPrice))
			return nil
		}
		return &m
	}
	v.Price = parseMoney("price")
	v.CompareAtPrice = parseMoney("compare_at_price")
	if s, ok := get("tax_rate"); ok {
		if _, err := catalog.ParseTaxRate(s); err != nil {
			fail("tax_rate", "must be 10 or 8")
		}
		v.TaxRate = &s
	}
	if s, ok := get("fulfillment_type"); ok {
		if _, err := catalog.ParseFulfillmentType(s); err != nil {
			fail("fulfillment_type", "must be physical or digital")
		}
		v.FulfillmentType = &s
	}
	if s, ok := get("variant_status"); ok {
		if _, err := catalog.ParseVariantStatus(s); err != nil {
			fail("variant_status", "must be active or inactive")
		}
		v.Status = &s
	}
	if s, ok := get("is_hot"); ok {
		b, err := strconv.ParseBool(strings.ToLower(s))
		if err != nil {
			fail("is_hot", "must be true or false")
		}
		v.IsHot = &b
	}
	for code, i := range ci.stock {
		s := strings.TrimSpace(rec[i])
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > inventory.MaxStock {
			fail("stock:"+code, "must be a whole number from 0 to 1,000,000,000")
			continue
		}
		if row.Stock == nil {
			row.Stock = map[string]int64{}
		}
		row.Stock[code] = n
	}
	return row, problems
}
