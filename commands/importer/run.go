package importer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Summary counts what an import did.
type Summary struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Rows      int `json:"processed_rows"`
}

// Importer applies parsed products through the commands.
type Importer struct {
	Commands *commands.Service
	// Workers is how many products are applied at once; 0 means 4.
	Workers int
}

// Apply upserts products for tenant t. job names the import: command ids
// derive from it and the handle, so running the same job again (after a
// crash) creates nothing twice. progress is called after each product with
// the rows done so far. It returns the summary and the problems of the
// products it could not apply.
func (im Importer) Apply(ctx context.Context, t tenant.ID, job uuid.UUID, actor string, products []Product, progress func(Summary)) (Summary, []RowError, error) {
	workers := im.Workers
	if workers <= 0 {
		workers = 4
	}
	var mu sync.Mutex
	var sum Summary
	var problems []RowError
	work := make(chan Product)
	var wg sync.WaitGroup
	var fatal error
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				outcome, errs, err := im.apply(ctx, t, job, actor, p)
				mu.Lock()
				if err != nil && fatal == nil {
					fatal = err
				}
				switch outcome {
				case created:
					sum.Created++
				case updated:
					sum.Updated++
				case unchanged:
					sum.Unchanged++
				}
				problems = append(problems, errs...)
				sum.Rows += len(p.Rows)
				s := sum
				mu.Unlock()
				if progress != nil {
					progress(s)
				}
			}
		}()
	}
	for _, p := range products {
		if ctx.Err() != nil {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
	if fatal == nil {
		fatal = ctx.Err()
	}
	return sum, problems, fatal
}

type outcome int

const (
	failed outcome = iota
	created
	updated
	unchanged
)

func (im Importer) by(job uuid.UUID, actor, what string) commands.By {
	id := uuid.NewSHA1(job, []byte(what))
	return commands.By{Actor: actor, Correlation: job, CommandID: id}
}

// apply upserts one product. Errors a row can be blamed for are returned
// as row errors; infrastructure errors as err.
func (im Importer) apply(ctx context.Context, t tenant.ID, job uuid.UUID, actor string, p Product) (outcome, []RowError, error) {
	cmds := im.Commands
	first := p.Rows[0]
	owner, exists, err := eventstore.Owner(ctx, cmds.Store().Pool(), t.UUID, commands.ClaimProductHandle, p.Handle)
	if err != nil {
		return failed, nil, err
	}
	if !exists {
		c := commands.CreateProduct{Tenant: t, By: im.by(job, actor, "create:"+p.Handle), Handle: p.Handle}
		for _, r := range p.Rows {
			if r.Title != nil && c.Title == "" {
				c.Title = *r.Title
			}
			if r.Description != nil && c.Description == "" {
				c.Description = *r.Description
			}
			if r.Categories != nil && c.Categories == nil {
				c.Categories = *r.Categories
			}
			if r.Status != nil && c.Status == "" {
				c.Status = *r.Status
			}
			c.Variants = append(c.Variants, r.Variant.input(r.SKU))
		}
		if c.Title == "" {
			return failed, []RowError{{Row: first.Line, Column: "title", Message: "is required for a new product"}}, nil
		}
		pid, _, err := cmds.CreateProduct(ctx, c)
		if err != nil && !errors.Is(err, eventstore.ErrDuplicate) { // a duplicate: this job created it before a restart
			return blame(p, err)
		}
		if _, rowErrs, err := im.stock(ctx, t, job, actor, pid, p); err != nil || len(rowErrs) > 0 {
			return failed, rowErrs, err
		}
		return created, nil, nil
	}
	pid := catalog.ProductID{UUID: owner}
	changed := false
	up := commands.UpdateProduct{Tenant: t, By: im.by(job, actor, "update:"+p.Handle), Product: pid}
	for _, r := range p.Rows {
		if r.Title != nil && up.Title == nil {
			up.Title = r.Title
		}
		if r.Description != nil && up.Description == nil {
			up.Description = r.Description
		}
		if r.Categories != nil && up.Categories == nil {
			up.Categories = r.Categories
		}
		if r.Status != nil && up.Status == nil {
			up.Status = r.Status
		}
	}
	// Variants first (publishing may need one), the product's status last.
	status := up.Status
	up.Status = nil
	if res, err := cmds.UpdateProduct(ctx, up); err != nil && !errors.Is(err, eventstore.ErrDuplicate) {
		return blame(p, err)
	} else if len(res.Events) > 0 {
		changed = true
	}
	for _, r := range p.Rows {
		vid, err := commands.VariantBySKU(ctx, cmds.Store().Pool(), t, r.SKU)
		switch {
		case errors.Is(err, eventstore.ErrNotFound):
			_, res, err := cmds.AddVariant(ctx, commands.AddVariant{Tenant: t, By: im.by(job, actor, "variant:"+r.SKU), Product: pid, Variant: r.Variant.input(r.SKU)})
			if err != nil && !errors.Is(err, eventstore.ErrDuplicate) {
				return blameRow(r, err)
			}
			changed = changed || len(res.Events) > 0
			continue
		case err != nil:
			return failed, nil, err
		}
		other, err := commands.VariantProduct(ctx, cmds.Store().Pool(), t, vid)
		if err != nil {
			return failed, nil, err
		}
		if other != pid {
			return failed, []RowError{{Row: r.Line, Column: "sku", Message: "belongs to another product"}}, nil
		}
		uv := r.Variant.update(vid)
		uv.Tenant, uv.By = t, im.by(job, actor, "variant-update:"+r.SKU)
		_, res, err := cmds.UpdateVariant(ctx, uv)
		if err != nil && !errors.Is(err, eventstore.ErrDuplicate) {
			return blameRow(r, err)
		}
		changed = changed || len(res.Events) > 0
	}
	stockChanged, rowErrs, err := im.stock(ctx, t, job, actor, pid, p)
	if err != nil || len(rowErrs) > 0 {
		return failed, rowErrs, err
	}
	changed = changed || stockChanged
	if status != nil {
		res, err := cmds.UpdateProduct(ctx, commands.UpdateProduct{Tenant: t, By: im.by(job, actor, "status:"+p.Handle), Product: pid, Status: status})
		if err != nil && !errors.Is(err, eventstore.ErrDuplicate) {
			return blame(p, err)
		}
		changed = changed || len(res.Events) > 0
	}
	if changed {
		return updated, nil, nil
	}
	return unchanged, nil, nil
}

func (v VariantPatch) input(sku string) commands.VariantInput {
	in := commands.VariantInput{SKU: sku, Options: v.Options, CompareAtPrice: v.CompareAtPrice}
	if v.Title != nil {
		in.Title = *v.Title
	}
	if v.Price != nil {
		in.Price = *v.Price
	}
	if v.TaxRate != nil {
		in.TaxRate = *v.TaxRate
	}
	if v.FulfillmentType != nil {
		in.FulfillmentType = *v.FulfillmentType
	}
	if v.Status != nil {
		in.Status = *v.Status
	}
	if v.IsHot != nil {
		in.IsHot = *v.IsHot
	}
	return in
}

func (v VariantPatch) update(id catalog.VariantID) commands.UpdateVariant {
	u := commands.UpdateVariant{Variant: id, Title: v.Title, Price: v.Price, TaxRate: v.TaxRate,
		FulfillmentType: v.FulfillmentType, Status: v.Status, IsHot: v.IsHot}
	if len(v.Options) > 0 {
		o := v.Options
		u.Options = &o
	}
	if v.CompareAtPrice != nil {
		c := v.CompareAtPrice
		u.CompareAtPrice = &c
	}
	return u
}

// csvColumn maps a command's field name to the CSV column it came from:
// a variant's field ("variants[2].price") to its own name.
func csvColumn(field string) string {
	if i := strings.Index(field, "]."); i >= 0 && strings.HasPrefix(field, "variants[") {
		field = field[i+2:]
	}
	return field
}

// blame turns a command's error into row errors on the product's first row
// (or the variant row a variants[i] field points at).
func blame(p Product, err error) (outcome, []RowError, error) {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.KindInternal {
		return failed, nil, err
	}
	if len(e.Fields) == 0 {
		return failed, []RowError{{Row: p.Rows[0].Line, Message: e.Message}}, nil
	}
	var out []RowError
	for _, f := range e.Fields {
		row := p.Rows[0].Line
		var i int
		if _, err := fmt.Sscanf(f.Field, "variants[%d]", &i); err == nil && i < len(p.Rows) {
			row = p.Rows[i].Line
		}
		out = append(out, RowError{Row: row, Column: csvColumn(f.Field), Message: f.Message})
	}
	return failed, out, nil
}

func blameRow(r Row, err error) (outcome, []RowError, error) {
	return blame(Product{Rows: []Row{r}}, err)
}

// stock sets the on-hand units the rows give, at locations of the product's
// store named by code, in one command. It reports whether anything changed.
func (im Importer) stock(ctx context.Context, t tenant.ID, job uuid.UUID, actor string, pid catalog.ProductID, p Product) (bool, []RowError, error) {
	cmds := im.Commands
	pool := cmds.Store().Pool()
	var storeID uuid.UUID
	set := commands.SetStock{Tenant: t, By: im.by(job, actor, "stock:"+p.Handle), Product: pid, Reason: "csv import"}
	lineOf := map[int]Row{}
	for _, r := range p.Rows {
		if len(r.Stock) == 0 {
			continue
		}
		if storeID == uuid.Nil {
			if err := pool.QueryRow(ctx, `SELECT payload->>'store_id' FROM events WHERE tenant_id = $1 AND stream_id = $2 AND stream_version = 1`, t, pid).Scan(&storeID); err != nil {
				return false, nil, fmt.Errorf("store of product %s: %w", pid, err)
			}
		}
		vid, err := commands.VariantBySKU(ctx, pool, t, r.SKU)
		if err != nil {
			return false, nil, err
		}
		codes := make([]string, 0, len(r.Stock))
		for code := range r.Stock {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			loc, ok, err := eventstore.Owner(ctx, pool, t.UUID, commands.ClaimLocationCode, storeID.String()+"/"+code)
			if err != nil {
				return false, nil, err
			}
			if !ok {
				return false, []RowError{{Row: r.Line, Column: "stock:" + code, Message: "no location with this code in the product's store"}}, nil
			}
			lineOf[len(set.Levels)] = r
			set.Levels = append(set.Levels, commands.StockSet{Variant: vid, Location: store.LocationID{UUID: loc}, OnHand: r.Stock[code]})
		}
	}
	if len(set.Levels) == 0 {
		return false, nil, nil
	}
	res, err := cmds.SetStock(ctx, set)
	if err != nil && !errors.Is(err, eventstore.ErrDuplicate) {
		return false, []RowError{{Row: p.Rows[0].Line, Column: "stock", Message: errMessage(err)}}, nil
	}
	return len(res.Events) > 0, nil, nil
}

func errMessage(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Error()
	}
	return err.Error()
}
