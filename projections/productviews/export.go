package productviews

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// exportColumns are the product columns of the CSV format (docs/csv.md);
// stock columns "stock:<location code>" follow, one per location.
var exportColumns = []string{"handle", "title", "description", "status", "categories", "sku", "variant_title",
	"option1_name", "option1_value", "option2_name", "option2_value", "option3_name", "option3_value",
	"price", "compare_at_price", "tax_rate", "fulfillment_type", "variant_status", "is_hot"}

// StockFunc returns on-hand units by variant and location code for a page
// of variants.
type StockFunc func(ctx context.Context, t tenant.ID, variants []uuid.UUID) (map[uuid.UUID]map[string]int64, error)

// ExportCSV streams every product of tenant t (all statuses) as CSV, a row
// per variant, in the import format: importing the file back changes
// nothing. locations are the stock columns to write (location codes).
func ExportCSV(ctx context.Context, q eventstore.Querier, t tenant.ID, locations []string, stock StockFunc, w io.Writer) error {
	cw := csv.NewWriter(w)
	header := append([]string{}, exportColumns...)
	for _, l := range locations {
		header = append(header, "stock:"+l)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	after := uuid.Nil
	for {
		rows, err := q.Query(ctx, `SELECT id, doc FROM products WHERE tenant_id = $1 AND id > $2 AND doc IS NOT NULL ORDER BY id LIMIT 500`, t, after)
		if err != nil {
			return fmt.Errorf("export products: %w", err)
		}
		type row struct {
			id  uuid.UUID
			doc []byte
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.doc)
		})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		var docs []exportDoc
		var variants []uuid.UUID
		for _, x := range page {
			var d exportDoc
			if err := json.Unmarshal(x.doc, &d); err != nil {
				return err
			}
			docs = append(docs, d)
			for _, v := range d.Variants {
				variants = append(variants, v.ID)
			}
		}
		levels := map[uuid.UUID]map[string]int64{}
		if stock != nil && len(locations) > 0 {
			if levels, err = stock(ctx, t, variants); err != nil {
				return err
			}
		}
		for _, d := range docs {
			cats := make([]string, len(d.Categories))
			for i, c := range d.Categories {
				cats[i] = c.Handle
			}
			for i, v := range d.Variants {
				rec := make([]string, 0, len(header))
				title, desc, status, catCell := "", "", "", ""
				if i == 0 {
					title, desc, status, catCell = d.Title, d.Description, d.Status, strings.Join(cats, "|")
				}
				rec = append(rec, d.Handle, title, desc, status, catCell, v.SKU, v.Title)
				for k := 0; k < 3; k++ {
					if k < len(v.Options) {
						rec = append(rec, v.Options[k].Name, v.Options[k].Value)
					} else {
						rec = append(rec, "", "")
					}
				}
				cmp := ""
				if v.CompareAt != nil {
					cmp = v.CompareAt.Amount
				}
				rec = append(rec, v.Price.Amount, cmp, v.TaxRate, v.Fulfillment, v.Status, fmt.Sprint(v.IsHot))
				for _, l := range locations {
					cell := ""
					if v.Fulfillment == "physical" {
						cell = fmt.Sprint(levels[v.ID][l])
					}
					rec = append(rec, cell)
				}
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if f, ok := w.(interface{ Flush() }); ok {
			f.Flush()
		}
		after = page[len(page)-1].id
	}
	cw.Flush()
	return cw.Error()
}

type exportDoc struct {
	Handle      string `json:"handle"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Categories  []struct {
		Handle string `json:"handle"`
	} `json:"categories"`
	Variants []struct {
		ID      uuid.UUID `json:"id"`
		SKU     string    `json:"sku"`
		Title   string    `json:"title"`
		Options []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"options"`
		Price       struct{ Amount string }  `json:"price"`
		CompareAt   *struct{ Amount string } `json:"compare_at_price"`
		TaxRate     string                   `json:"tax_rate"`
		Fulfillment string                   `json:"fulfillment_type"`
		Status      string                   `json:"status"`
		IsHot       bool                     `json:"is_hot"`
	} `json:"variants"`
}
