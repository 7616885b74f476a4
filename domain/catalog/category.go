package catalog

import (
	"time"
	"unicode/utf8"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/slug"
)

// MaxCategoryDepth bounds the category tree (root = depth 1).
const MaxCategoryDepth = 4

// Errors of the category aggregate.
var (
	ErrCategoryCycle = errs.InvalidFields(errs.FieldError{Field: "parent_id", Message: "would make the category its own ancestor"})
	ErrCategoryDepth = errs.InvalidFields(errs.FieldError{Field: "parent_id", Message: "categories nest at most 4 levels deep"})
)

// Category is a node of a tenant's category tree.
type Category struct {
	aggregate.Base
	id       CategoryID
	name     string
	handle   string
	parent   *CategoryID
	position int
}

// CategorySpec is what a category is made of.
type CategorySpec struct {
	Name     string
	Handle   string // derived from the name when empty and the name is ASCII
	Parent   *CategoryID
	Position int
}

func validateCategory(id CategoryID, s *CategorySpec) error {
	var v errs.Collector
	v.Check(s.Name != "" && utf8.RuneCountInString(s.Name) <= 100, "name", "is required, at most 100 characters")
	if s.Handle == "" {
		s.Handle = slug.Slugify(s.Name)
		if s.Handle == "" || len(s.Handle) > 64 {
			s.Handle = "c-" + id.String()[:8] + id.String()[9:13]
		}
	}
	_, err := slug.ParseField("handle", s.Handle, 1, 64)
	v.Merge("", err)
	v.Check(s.Position >= 0 && s.Position <= 100000, "position", "must be between 0 and 100000")
	if s.Parent != nil && *s.Parent == id {
		v.Merge("", ErrCategoryCycle)
	}
	return v.Err()
}

// NewCategory creates a category. The caller checks that the parent exists
// and that the tree stays acyclic and shallow.
func NewCategory(id CategoryID, s CategorySpec, now time.Time) (*Category, error) {
	if err := validateCategory(id, &s); err != nil {
		return nil, err
	}
	c := &Category{}
	c.record(CategoryCreated{ID: id, Name: s.Name, Handle: s.Handle, Parent: s.Parent, Position: s.Position, At: now.UTC()})
	return c, nil
}

// CategoryFromHistory rebuilds a category from its events, without validation.
func CategoryFromHistory(history []aggregate.Event) *Category {
	c := &Category{}
	for _, e := range history {
		c.apply(e)
	}
	c.Replayed(len(history))
	return c
}

// Update replaces the category's fields; nothing is recorded when unchanged.
func (c *Category) Update(s CategorySpec, now time.Time) error {
	if err := validateCategory(c.id, &s); err != nil {
		return err
	}
	samePar := (s.Parent == nil && c.parent == nil) || (s.Parent != nil && c.parent != nil && *s.Parent == *c.parent)
	if s.Name == c.name && s.Handle == c.handle && samePar && s.Position == c.position {
		return nil
	}
	c.record(CategoryUpdated{Name: s.Name, Handle: s.Handle, Parent: s.Parent, Position: s.Position, At: now.UTC()})
	return nil
}

func (c *Category) record(e aggregate.Event) { c.apply(e); c.Record(e) }

func (c *Category) apply(e aggregate.Event) {
	switch e := e.(type) {
	case CategoryCreated:
		c.id, c.name, c.handle, c.parent, c.position = e.ID, e.Name, e.Handle, e.Parent, e.Position
	case CategoryUpdated:
		c.name, c.handle, c.parent, c.position = e.Name, e.Handle, e.Parent, e.Position
	}
}

// ID returns the category's id.
func (c *Category) ID() CategoryID { return c.id }

// Name returns the name.
func (c *Category) Name() string { return c.name }

// Handle returns the URL handle.
func (c *Category) Handle() string { return c.handle }

// Parent returns the parent category, nil for a root.
func (c *Category) Parent() *CategoryID { return c.parent }

// Position returns the category's place among its siblings.
func (c *Category) Position() int { return c.position }
