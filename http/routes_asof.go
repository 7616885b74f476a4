package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections/orderviews"
	"github.com/honten/honten/projections/productviews"
)

// asOf reads the as_of query parameter: whether it is there, and its
// bound. A value that is neither a position token nor an RFC 3339 time is
// a 400 naming the parameter.
func asOf(r *http.Request) (eventstore.Until, bool, error) {
	q := r.URL.Query()
	if !q.Has("as_of") {
		return eventstore.Until{}, false, nil
	}
	u, err := eventstore.ParseUntil(q.Get("as_of"))
	if err != nil {
		e := errs.Malformedf("as_of is %v", err)
		e.Fields = []errs.FieldError{{Field: "as_of", Message: "must be a position token (X-Event-Position) or an RFC 3339 time"}}
		return u, true, e
	}
	return u, true, nil
}

// orderAsOf is an order's detail as it stood at the as_of bound, with the
// position of the last event it reflects.
type orderAsOf struct {
	orderviews.Detail
	AsOf string `json:"as_of"`
}

// getOrderAsOf is GET /orders/{id}?as_of=: the order folded from its
// events (and its payments' and shipments') up to the bound; 404 when the
// order did not exist yet.
func (s *Server) getOrderAsOf(w http.ResponseWriter, r *http.Request, u eventstore.Until) {
	serveOne(w, r, order.ParseID, func(ctx context.Context, c *caller, id order.ID) (any, int64, error) {
		d, last, err := orderviews.GetAsOf(ctx, s.Pool, s.Store.Registry(), c.Acting, id.UUID, c.vendorScope(), u)
		return orderAsOf{Detail: d, AsOf: last.Token()}, d.Version, err
	})
}

// getProductAsOf is GET /products/{id}?as_of=: the product folded from its
// events (and its variants' stock and the shop's categories) up to the
// bound; 404 when the product did not exist yet.
func (s *Server) getProductAsOf(w http.ResponseWriter, r *http.Request, u eventstore.Until) {
	serveOne(w, r, catalog.ParseProductID, func(ctx context.Context, c *caller, id catalog.ProductID) (json.RawMessage, int64, error) {
		p, last, err := productviews.GetAsOf(ctx, s.Pool, s.Store.Registry(), c.Acting, id.UUID, u)
		if err != nil {
			return nil, 0, err
		}
		if vs := c.vendorScope(); vs != nil && p.Vendor != *vs {
			return nil, 0, errs.NotFoundf("product")
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(p.Doc, &doc); err != nil {
			return nil, 0, errors.Join(errors.New("product document"), err)
		}
		doc["as_of"], _ = json.Marshal(last.Token())
		b, err := json.Marshal(doc)
		return b, p.Version, err
	})
}
