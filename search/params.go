package search

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/errs"
)

// ErrBadEncoding means the query string is not valid UTF-8.
var ErrBadEncoding = errs.New(errs.KindMalformed, "bad_encoding", "query parameters must be UTF-8")

// maxPrice bounds price filters (larger bounds are treated as no bound).
var maxPrice = decimal.NewFromInt(1_000_000_000_000)

// ParseParams reads the storefront search parameters: q, category and
// vendor (ids, repeated or comma-separated), price_min, price_max (decimal
// major units), in_stock (true/false/1/0), sort, limit and offset. Unknown
// parameters are ignored. It returns ErrBadEncoding for invalid UTF-8 and an
// Invalid error naming every bad field otherwise (bad ids, price_min above
// price_max, limit outside 1..100, offset outside 0..1000, q over 1,000
// characters, unknown sort).
func ParseParams(v url.Values) (Query, error) {
	for k, vals := range v {
		if !utf8.ValidString(k) {
			return Query{}, ErrBadEncoding
		}
		for _, s := range vals {
			if !utf8.ValidString(s) {
				return Query{}, ErrBadEncoding
			}
		}
	}
	var c errs.Collector
	q := Query{Text: strings.TrimSpace(v.Get("q")), Sort: SortRelevance, Limit: DefaultLimit}
	c.Check(utf8.RuneCountInString(q.Text) <= MaxQueryRunes, "q", "must be at most 1000 characters")
	q.Categories = parseIDs(&c, "category", v["category"])
	q.Vendors = parseIDs(&c, "vendor", v["vendor"])
	q.PriceMin = parsePrice(&c, "price_min", v.Get("price_min"))
	q.PriceMax = parsePrice(&c, "price_max", v.Get("price_max"))
	if q.PriceMin != nil && q.PriceMax != nil && q.PriceMin.GreaterThan(*q.PriceMax) {
		c.Add("price_min", "must not be above price_max")
	}
	if s := v.Get("in_stock"); s != "" {
		b, err := strconv.ParseBool(s)
		c.Check(err == nil, "in_stock", "must be true or false")
		q.InStock = b
	}
	if s := v.Get("sort"); s != "" {
		switch Sort(s) {
		case SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest:
			q.Sort = Sort(s)
		default:
			c.Add("sort", "must be one of: relevance, price_asc, price_desc, newest")
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			c.Add("limit", "must be an integer from 1 to 100")
		} else {
			q.Limit = n
		}
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxDepth {
			c.Add("offset", "must be an integer from 0 to 1000")
		} else {
			q.Offset = n
		}
	}
	if err := c.Err(); err != nil {
		return Query{}, err
	}
	return q.Normalized(), nil
}

// Normalized returns q with defaults applied and paging capped: Limit in
// 1..MaxLimit, Offset in 0..MaxDepth, Offset+Limit at most MaxDepth (the
// page past the cap is empty), filter lists without duplicates.
func (q Query) Normalized() Query {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	q.Limit = min(q.Limit, MaxLimit)
	q.Offset = min(max(q.Offset, 0), MaxDepth)
	if q.Offset+q.Limit > MaxDepth {
		q.Limit = MaxDepth - q.Offset
	}
	if q.Sort == "" {
		q.Sort = SortRelevance
	}
	q.Categories = dedupe(q.Categories)
	q.Vendors = dedupe(q.Vendors)
	return q
}

func dedupe(ids []uuid.UUID) []uuid.UUID {
	out := []uuid.UUID{}
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func parseIDs(c *errs.Collector, field string, vals []string) []uuid.UUID {
	var out []uuid.UUID
	n := 0
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			n++
			if n > MaxFilterValues {
				c.Add(field, "at most 50 values")
				return nil
			}
			id, err := uuid.Parse(s)
			if err != nil || len(s) != 36 {
				c.Add(field, "must be ids (UUIDs)")
				return nil
			}
			out = append(out, id)
		}
	}
	return out
}

func parsePrice(c *errs.Collector, field, s string) *decimal.Decimal {
	if s == "" {
		return nil
	}
	ok := len(s) <= 20
	for i := 0; ok && i < len(s); i++ {
		ok = (s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && i > 0 && i < len(s)-1)
	}
	if !ok || strings.Count(s, ".") > 1 {
		c.Add(field, "must be a non-negative decimal number")
		return nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		c.Add(field, "must be a non-negative decimal number")
		return nil
	}
	if d.GreaterThan(maxPrice) {
		d = maxPrice
	}
	return &d
}
