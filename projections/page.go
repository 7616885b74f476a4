package projections

import (
	"encoding/base64"
	"encoding/json"

	"github.com/honten/honten/domain/errs"
)

// Page asks for one page of a list: at most Limit items after the position
// an opaque Cursor names.
type Page struct {
	Limit  int
	Cursor string
}

// Default and maximum page sizes.
const (
	DefaultLimit = 20
	MaxLimit     = 200
)

// ErrBadCursor means a cursor was not one this server issued.
var ErrBadCursor = errs.New(errs.KindMalformed, "invalid_cursor", "the cursor is not valid for this list")

// DecodeCursor reads the sort key a cursor carries into v (a struct or
// slice). An empty cursor leaves v alone and returns false.
func (p Page) DecodeCursor(v any) (bool, error) {
	if p.Cursor == "" {
		return false, nil
	}
	if len(p.Cursor) > 512 {
		return false, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil {
		return false, ErrBadCursor
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, ErrBadCursor
	}
	return true, nil
}

// EncodeCursor makes the cursor for the sort key v.
func EncodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // sort keys are plain values
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// List is one page of a list, in the API's shape.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// NewList builds a List from up to Limit+1 fetched rows: the extra row
// only says there is a next page, whose cursor is key(last item).
func NewList[T any](rows []T, limit int, key func(T) any) List[T] {
	l := List[T]{Items: rows}
	if l.Items == nil {
		l.Items = []T{}
	}
	if len(rows) > limit {
		l.Items = rows[:limit]
		c := EncodeCursor(key(rows[limit-1]))
		l.NextCursor = &c
	}
	return l
}
