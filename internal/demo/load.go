package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/progress"
)

// The demo shop.
const (
	ShopCode   = "honten-demo"
	ShopName   = "本店デモショップ"
	OwnerEmail = "owner@demo.honten.example"
)

var ns = uuid.MustParse("6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b")

// by makes the deterministic issuer of the n-th demo command: the same
// command id on every load gives the same entity and event ids.
func by(name string) commands.By {
	id := uuid.NewSHA1(ns, []byte(name))
	return commands.By{Actor: "system:demo", Correlation: id, CommandID: id}
}

// Loaded describes the loaded demo store.
type Loaded struct {
	Tenant        tenant.ID
	Code          string
	OwnerEmail    string
	OwnerPassword string // random, shown once
	Products      int
	// Orders is how many orders were placed, in every status.
	Orders int
}

// ErrAlreadyLoaded means the demo shop (Load) or the demo mall (LoadMall)
// exists.
var ErrAlreadyLoaded = errors.New("demo: the demo shop is already loaded")

// Load creates the demo shop: tenant, owner, a second location, bank
// account settings, categories, the catalog with stock, and orders in
// every status (checked out from carts, then paid, shipped, delivered or
// cancelled through the backoffice's commands). Each step is
// its own short command, so a load never holds a long transaction.
func Load(ctx context.Context, cmds *commands.Service, log *slog.Logger, rep progress.Reporter) (Loaded, error) {
	if _, taken, err := eventstore.Owner(ctx, cmds.Store().Pool(), eventstore.PlatformScope, commands.ClaimTenantCode, ShopCode); err != nil {
		return Loaded{}, err
	} else if taken {
		return Loaded{}, ErrAlreadyLoaded
	}
	created, _, err := cmds.CreateTenant(ctx, commands.CreateTenant{By: by("tenant"), Code: ShopCode, Name: ShopName, Type: "single_brand"})
	if errors.Is(err, commands.ErrTenantCodeTaken) || errors.Is(err, eventstore.ErrVersionConflict) || errors.Is(err, eventstore.ErrDuplicate) {
		return Loaded{}, ErrAlreadyLoaded
	}
	if err != nil {
		return Loaded{}, fmt.Errorf("demo tenant: %w", err)
	}
	out := Loaded{Tenant: created.Tenant, Code: ShopCode, OwnerEmail: OwnerEmail, OwnerPassword: commands.NewPassword()}
	t := created.Tenant
	if _, _, err := cmds.InviteStaff(ctx, commands.InviteStaff{Tenant: t, By: by("owner"), ByRole: "owner",
		Email: OwnerEmail, Name: "本店 太郎", Role: "owner", Password: out.OwnerPassword}); err != nil {
		return out, fmt.Errorf("demo owner: %w", err)
	}
	osaka, _, err := cmds.AddLocation(ctx, commands.AddLocation{Tenant: t, By: by("location:osaka"), Store: created.Store, Code: "osaka", Name: "大阪倉庫"})
	if err != nil {
		return out, fmt.Errorf("demo location: %w", err)
	}
	if _, err := cmds.UpdateSettings(ctx, commands.UpdateSettings{Tenant: t, By: by("settings"), Change: func(s tenant.Settings) (tenant.Settings, error) {
		s.BankAccount = &tenant.BankAccount{BankName: "みずほ銀行", BankCode: "0001", BranchName: "本店", BranchCode: "100",
			AccountType: "ordinary", AccountNumber: "1234567", AccountHolder: "ｶ)ﾎﾝﾃﾝﾃﾞﾓ"}
		return s, nil
	}}); err != nil {
		return out, fmt.Errorf("demo settings: %w", err)
	}
	catIDs := map[string]string{}
	for _, c := range Categories {
		cmd := commands.CreateCategory{Tenant: t, By: by("category:" + c.Handle), Name: c.Name, Handle: c.Handle}
		if c.Parent != "" {
			pid, err := catalog.ParseCategoryID(catIDs[c.Parent])
			if err != nil {
				return out, err
			}
			cmd.Parent = &pid
		}
		id, _, err := cmds.CreateCategory(ctx, cmd)
		if err != nil {
			return out, fmt.Errorf("demo category %s: %w", c.Handle, err)
		}
		catIDs[c.Handle] = id.String()
	}
	products := Catalog(1)
	if rep == nil {
		rep = (*progress.Bar)(nil)
	}
	rep.Total(int64(len(products)))
	locations := []uuid.UUID{created.Location.UUID, osaka.UUID}
	for i, p := range products {
		cmd := commands.CreateProduct{Tenant: t, By: by(fmt.Sprintf("product:%d", i)), Title: p.Title, Handle: p.Handle,
			Description: p.Description, Categories: p.Categories, Status: p.Status}
		for _, v := range p.Variants {
			vi := commands.VariantInput{SKU: v.SKU, Title: v.Title, Price: yen(v.Price), TaxRate: v.TaxRate, IsHot: v.Hot}
			if v.Compare > 0 {
				c := yen(v.Compare)
				vi.CompareAtPrice = &c
			}
			if v.Digital {
				vi.FulfillmentType = "digital"
			}
			for _, o := range v.Options {
				vi.Options = append(vi.Options, catalog.Option{Name: o[0], Value: o[1]})
			}
			cmd.Variants = append(cmd.Variants, vi)
		}
		if _, _, err := cmds.CreateProduct(ctx, cmd); err != nil {
			return out, fmt.Errorf("demo product %s: %w", p.Handle, err)
		}
		set := commands.SetStock{Tenant: t, By: by(fmt.Sprintf("stock:%d", i)), Product: catalog.ProductID{UUID: cmd.By.DerivedID(0)}, Reason: "demo stock"}
		for k, v := range p.Variants {
			if v.Digital {
				continue
			}
			vid := catalog.VariantID{UUID: cmd.By.DerivedID(100 + k)}
			for li, q := range v.Stock {
				set.Levels = append(set.Levels, commands.StockSet{Variant: vid, Location: store.LocationID{UUID: locations[li]}, OnHand: q})
			}
		}
		if len(set.Levels) > 0 {
			if _, err := cmds.SetStock(ctx, set); err != nil {
				return out, fmt.Errorf("demo stock %s: %w", p.Handle, err)
			}
		}
		rep.Add(1)
		out.Products++
	}
	rep.Done()
	sku := ""
	for _, p := range products {
		for _, v := range p.Variants {
			if sku == "" && !v.Digital && !v.Hot && v.Stock[0] >= 2*int64(len(demoOrders)) {
				sku = v.SKU
			}
		}
	}
	if sku != "" {
		if out.Orders, err = placeOrders(ctx, cmds, t, sku); err != nil {
			return out, err
		}
	}
	if log != nil {
		log.Info("demo store loaded", "shop", ShopCode, "products", out.Products, "orders", out.Orders)
	}
	return out, nil
}

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }
