package order

import (
	"encoding/json"
	"fmt"

	"github.com/honten/honten/domain/money"
)

// UpcastPlacedV1 turns an order.placed payload of schema version 1 into
// version 2. Version 1 carried the tax rounding as an optional "rounding"
// (absent on orders placed before it was frozen: floor, the default) and
// said nothing of whether prices included the tax: readers worked it out
// from the totals (Totals.IncludesTax). Version 2 freezes both in
// "tax_terms". Every other field is kept as it is. It is pure: the event
// store applies it on every read path (stream loads, projectors, bus).
func UpcastPlacedV1(p json.RawMessage) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(p, &fields); err != nil {
		return nil, fmt.Errorf("order.placed v1: %w", err)
	}
	var v1 struct {
		Totals   Totals         `json:"totals"`
		Rounding money.Rounding `json:"rounding"`
	}
	if err := json.Unmarshal(p, &v1); err != nil {
		return nil, fmt.Errorf("order.placed v1: %w", err)
	}
	terms := TaxTerms{PricesIncludeTax: v1.Totals.IncludesTax(), Rounding: v1.Rounding}
	if terms.Rounding == "" {
		terms.Rounding = money.RoundFloor
	}
	b, err := json.Marshal(terms)
	if err != nil {
		return nil, err
	}
	delete(fields, "rounding")
	fields["tax_terms"] = b
	return json.Marshal(fields)
}
