package productviews

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// The storefront document is rendered once, when the projector writes the
// product, and kept as text with a one-byte marker where each stock figure
// goes; a storefront read fills the markers from variant_stock and builds
// no JSON (in the database, building each page's documents from the stored
// jsonb cost seven times the bare read of the same rows). JSON text cannot
// hold these bytes raw (they are control characters, which it escapes), so
// a marker never collides with a merchant's text.
const (
	markAvailable        = '\x01' // the product's available units
	markInStock          = '\x02' // the product's in-stock flag
	markVariantAvailable = '\x03' // the next stocked variant's units
	markVariantInStock   = '\x04' // the next stocked variant's in-stock flag
)

// storefrontDoc is a product's storefront document, rendered: the template
// with its markers, the physical variants on sale whose units fill the
// variant markers (in document order), and whether a digital variant is on
// sale.
type storefrontDoc struct {
	template string
	stock    []uuid.UUID
	digital  bool
}

// renderStorefront turns a product's stored document (jsonb's text) into
// its storefront form: without store_id and location_ids, with only the
// variants on sale and without their is_hot flag, and with markers for the
// stock figures (the product's available and in_stock, each variant's). The
// keys keep jsonb's order (shorter first, then bytewise) and its spacing, so
// the filled document reads as the database would have built it.
func renderStorefront(doc []byte) (storefrontDoc, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return storefrontDoc{}, fmt.Errorf("product document: %w", err)
	}
	var variants []map[string]json.RawMessage
	if raw, ok := top["variants"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &variants); err != nil {
			return storefrontDoc{}, fmt.Errorf("product document variants: %w", err)
		}
	}
	var sf storefrontDoc
	var vs bytes.Buffer
	vs.WriteByte('[')
	n := 0
	for _, v := range variants {
		if str(v["status"]) != "active" {
			continue
		}
		delete(v, "is_hot")
		if str(v["fulfillment_type"]) == "digital" {
			v["available"] = json.RawMessage("null")
			v["in_stock"] = json.RawMessage("true")
			sf.digital = true
		} else {
			id, err := uuid.Parse(str(v["id"]))
			if err != nil {
				return storefrontDoc{}, fmt.Errorf("product document variant id: %w", err)
			}
			sf.stock = append(sf.stock, id)
			v["available"] = json.RawMessage{markVariantAvailable}
			v["in_stock"] = json.RawMessage{markVariantInStock}
		}
		if n > 0 {
			vs.WriteString(", ")
		}
		writeObject(&vs, v)
		n++
	}
	vs.WriteByte(']')
	delete(top, "store_id")
	delete(top, "location_ids")
	top["variants"] = vs.Bytes()
	top["available"] = json.RawMessage{markAvailable}
	top["in_stock"] = json.RawMessage{markInStock}
	var out bytes.Buffer
	writeObject(&out, top)
	sf.template = out.String()
	return sf, nil
}

// writeObject writes m as jsonb writes an object: keys shorter first, then
// bytewise, as "key": value separated by ", ".
func writeObject(b *bytes.Buffer, m map[string]json.RawMessage) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return bytes.Compare([]byte(a), []byte(b))
	})
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(k))
		b.WriteString(": ")
		b.Write(m[k])
	}
	b.WriteByte('}')
}

// str is a JSON string value's text, or "" when it is not a string.
func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// fillStorefront appends the storefront document to dst: the template with
// its markers replaced by the figures. units holds the units of the
// template's stocked variants in order (nil: no stock row yet, 0 units).
// A variant shows its available units (never below 0) and is in stock when
// it has some; the product shows the sum and is in stock when a variant is,
// or when it sells a digital variant.
func fillStorefront(dst []byte, template string, digital bool, units []*int64) ([]byte, error) {
	var total int64
	inStock := digital
	for _, u := range units {
		if u != nil && *u > 0 {
			total += *u
			inStock = true
		}
	}
	// The i-th available marker and the i-th in-stock marker are the i-th
	// stocked variant's.
	unit := func(i int) (int64, error) {
		if i >= len(units) {
			return 0, fmt.Errorf("storefront document: %d stocked variants, more markers", len(units))
		}
		if units[i] == nil {
			return 0, nil
		}
		return max(*units[i], 0), nil
	}
	va, vi := 0, 0
	start := 0
	for i := 0; i < len(template); i++ {
		c := template[i]
		if c > markVariantInStock || c < markAvailable {
			continue
		}
		dst = append(dst, template[start:i]...)
		start = i + 1
		switch c {
		case markAvailable:
			dst = strconv.AppendInt(dst, total, 10)
		case markInStock:
			dst = strconv.AppendBool(dst, inStock)
		case markVariantAvailable:
			u, err := unit(va)
			if err != nil {
				return nil, err
			}
			va++
			dst = strconv.AppendInt(dst, u, 10)
		case markVariantInStock:
			u, err := unit(vi)
			if err != nil {
				return nil, err
			}
			vi++
			dst = strconv.AppendBool(dst, u > 0)
		}
	}
	if va != len(units) || vi != len(units) {
		return nil, fmt.Errorf("storefront document: %d stocked variants, %d and %d markers", len(units), va, vi)
	}
	return append(dst, template[start:]...), nil
}
