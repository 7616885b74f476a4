package http

import (
	"net/http"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/staff"
)

// perm is a permission an admin route requires. docs/rbac.md is the
// rendered matrix of rolePerms; a test walks every route × role.
type perm string

// Permissions.
const (
	permSelf            perm = "self"             // any signed-in staff member
	permPlatform        perm = "platform"         // platform administrators only
	permSettingsRead    perm = "settings:read"    //
	permSettingsWrite   perm = "settings:write"   //
	permStaffRead       perm = "staff:read"       //
	permStaffWrite      perm = "staff:write"      //
	permVendorsRead     perm = "vendors:read"     // vendor role: own vendor only
	permVendorsWrite    perm = "vendors:write"    //
	permStoresRead      perm = "stores:read"      //
	permStoresWrite     perm = "stores:write"     //
	permCatalogRead     perm = "catalog:read"     // vendor role: own products only
	permCatalogWrite    perm = "catalog:write"    // vendor role: own products only
	permCategoriesWrite perm = "categories:write" // the shop's category tree (not vendors: a mall's tree is the mall's)
	permInventoryRead   perm = "inventory:read"   // vendor role: own products only
	permInventoryWrite  perm = "inventory:write"  // vendor role: own products only
	permOrdersRead      perm = "orders:read"      // vendor role: own lines and shipments only
	permOrdersWrite     perm = "orders:write"     // reinstate
	permOrdersCancel    perm = "orders:cancel"    // vendor role: own vendor's lines only
	permPaymentsWrite   perm = "payments:write"   // record receipts, reconcile
	permShipmentsWrite  perm = "shipments:write"  // vendor role: own shipments only
	permPromotionsRead  perm = "promotions:read"  //
	permPromotionsWrite perm = "promotions:write" //
	permPayoutsRead     perm = "payouts:read"     // vendor role: own ledger only
	permPayoutsWrite    perm = "payouts:write"    //
	permLedgerRead      perm = "ledger:read"      // the whole ledger (trial balance): not vendors
	permAuditRead       perm = "audit:read"       // history and the event feed
	permImports         perm = "imports"          // CSV imports and exports
	permOperations      perm = "operations"       // the shop's own read-model lag
	permPoison          perm = "poison"           // failed reactions: own shop's (platform admins: all)
	permCustomersRead   perm = "customers:read"   // customer accounts: personal data, not vendors
	permCustomersWrite  perm = "customers:write"  // forget a customer or a guest buyer
	permWebhooksRead    perm = "webhooks:read"    // endpoints and their delivery logs
	permWebhooksWrite   perm = "webhooks:write"   // endpoints, secrets, retries by hand
)

var allStaff = []staff.Role{staff.Owner, staff.Admin, staff.Operator, staff.Finance, staff.Vendor, staff.Viewer}

// rolePerms is the route × role matrix.
var rolePerms = map[perm][]staff.Role{
	permSelf:            allStaff,
	permPlatform:        {},
	permSettingsRead:    {staff.Owner, staff.Admin, staff.Operator, staff.Finance, staff.Viewer},
	permSettingsWrite:   {staff.Owner, staff.Admin},
	permStaffRead:       {staff.Owner, staff.Admin},
	permStaffWrite:      {staff.Owner, staff.Admin},
	permVendorsRead:     allStaff,
	permVendorsWrite:    {staff.Owner, staff.Admin},
	permStoresRead:      allStaff,
	permStoresWrite:     {staff.Owner, staff.Admin},
	permCatalogRead:     allStaff,
	permCatalogWrite:    {staff.Owner, staff.Admin, staff.Operator, staff.Vendor},
	permCategoriesWrite: {staff.Owner, staff.Admin, staff.Operator},
	permInventoryRead:   allStaff,
	permInventoryWrite:  {staff.Owner, staff.Admin, staff.Operator, staff.Vendor},
	permOrdersRead:      allStaff,
	permOrdersWrite:     {staff.Owner, staff.Admin, staff.Operator},
	permOrdersCancel:    {staff.Owner, staff.Admin, staff.Operator, staff.Vendor},
	permPaymentsWrite:   {staff.Owner, staff.Admin, staff.Finance},
	permShipmentsWrite:  {staff.Owner, staff.Admin, staff.Operator, staff.Vendor},
	permPromotionsRead:  {staff.Owner, staff.Admin, staff.Operator, staff.Finance, staff.Viewer},
	permPromotionsWrite: {staff.Owner, staff.Admin, staff.Operator},
	permPayoutsRead:     {staff.Owner, staff.Admin, staff.Finance, staff.Vendor},
	permPayoutsWrite:    {staff.Owner, staff.Admin, staff.Finance},
	permLedgerRead:      {staff.Owner, staff.Admin, staff.Finance},
	permAuditRead:       {staff.Owner, staff.Admin, staff.Finance, staff.Viewer},
	permImports:         {staff.Owner, staff.Admin, staff.Operator},
	permOperations:      {staff.Owner, staff.Admin},
	permPoison:          {staff.Owner, staff.Admin},
	permCustomersRead:   {staff.Owner, staff.Admin, staff.Operator},
	permCustomersWrite:  {staff.Owner, staff.Admin},
	permWebhooksRead:    {staff.Owner, staff.Admin},
	permWebhooksWrite:   {staff.Owner, staff.Admin},
}

// allowed reports whether c may use a route requiring p.
func allowed(c *caller, p perm) bool {
	if p == permPlatform {
		return c.PlatformAdmin
	}
	for _, r := range rolePerms[p] {
		if r == c.role() {
			return true
		}
	}
	return false
}

// requirePerm is the middleware enforcing p.
func requirePerm(p perm) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := callerFrom(r.Context())
			if c == nil {
				writeError(w, r, errs.Unauthenticatedf("sign in first"))
				return
			}
			if !allowed(c, p) {
				writeError(w, r, errs.Forbiddenf("your role ("+string(c.role())+") may not do this"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RoutePermissions returns the backoffice routes ("METHOD /path") with the
// roles allowed on each ("platform" for platform administrators only), the
// route × role matrix docs/rbac.md renders.
func (s *Server) RoutePermissions() map[string][]string {
	out := map[string][]string{}
	for route, p := range s.perms {
		if p == permPlatform {
			out[route] = []string{"platform"}
			continue
		}
		roles := []string{}
		for _, r := range rolePerms[p] {
			roles = append(roles, string(r))
		}
		out[route] = roles
	}
	return out
}
