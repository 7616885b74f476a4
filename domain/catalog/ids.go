package catalog

import "github.com/honten/honten/domain/ids"

// Stream types.
const (
	ProductStream  = "product"
	CategoryStream = "category"
)

type productKind struct{}

func (productKind) Kind() string { return "product" }

type variantKind struct{}

func (variantKind) Kind() string { return "variant" }

type categoryKind struct{}

func (categoryKind) Kind() string { return "category" }

// ProductID identifies a product.
type ProductID = ids.ID[productKind]

// VariantID identifies a variant (and its inventory stream).
type VariantID = ids.ID[variantKind]

// CategoryID identifies a category.
type CategoryID = ids.ID[categoryKind]

// NewProductID returns a fresh product ID.
func NewProductID() ProductID { return ids.New[productKind]() }

// NewVariantID returns a fresh variant ID.
func NewVariantID() VariantID { return ids.New[variantKind]() }

// NewCategoryID returns a fresh category ID.
func NewCategoryID() CategoryID { return ids.New[categoryKind]() }

// ParseProductID parses a product ID.
func ParseProductID(s string) (ProductID, error) { return ids.Parse[productKind](s) }

// ParseVariantID parses a variant ID.
func ParseVariantID(s string) (VariantID, error) { return ids.Parse[variantKind](s) }

// ParseCategoryID parses a category ID.
func ParseCategoryID(s string) (CategoryID, error) { return ids.Parse[categoryKind](s) }
