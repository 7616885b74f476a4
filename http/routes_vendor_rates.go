package http

import (
	"context"
	"net/http"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/vendor"
)

// commissionRatesView is a vendor's commission history.
type commissionRatesView struct {
	Items []vendor.Rate `json:"items"`
}

// vendorCommissionRates answers GET /vendors/{id}/commission-rates: the
// vendor's rate steps, oldest first, from its events. Vendor staff see only
// their own vendor.
func (s *Server) vendorCommissionRates(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, vendor.ParseID, func(ctx context.Context, c *caller, id vendor.ID) (commissionRatesView, int64, error) {
		if vs := c.vendorScope(); vs != nil && *vs != id.UUID {
			return commissionRatesView{}, 0, errs.NotFoundf("vendor")
		}
		rates, err := s.Commands.CommissionRates(ctx, c.Acting, id)
		return commissionRatesView{Items: rates}, 0, err
	})
}
