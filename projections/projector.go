package projections

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/eventstore"
)

// Projector builds one read model.
type Projector interface {
	// Name is the frozen name of the projector's logic, "<model>.v<N>":
	// changing it rebuilds the model into a new generation.
	Name() string
	// Schema describes the model's tables and DDL functions. It returns the
	// same value on every call (the runner keeps what it needs of it).
	Schema() Schema
	// Apply folds a batch of events (in global order) into the model's
	// tables through tx. Table names are unqualified: the runner points the
	// transaction's search_path at the generation being written. Apply must be
	// deterministic — derive every value from the events, never from the
	// clock — so a replay gives the same rows. It ignores event types it does
	// not know.
	Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error
}

// Schema describes a read model's storage.
type Schema struct {
	// Tables are created by Create in a generation's schema and exposed as
	// views of the same name in public.
	Tables []string
	// Create names the SQL function (from migrations) that creates the
	// tables in the schema given as its only argument.
	Create string
	// Index names the SQL function that creates secondary indexes; a rebuild
	// calls it after the bulk load. Optional.
	Index string
	// PayloadTypes lists the event types whose payloads Apply reads; other
	// events arrive without payload. Empty means all payloads.
	PayloadTypes []string
	// NoPayloads means Apply reads only envelopes, never payloads.
	NoPayloads bool
	// External marks a model kept outside PostgreSQL (a search engine's
	// index): reads do not wait for it unless they name it.
	External bool
}

// EventNames returns the names of the events of every list, in order: a
// Schema's PayloadTypes built from the domain packages' Events lists.
func EventNames(lists ...[]eventstore.Event) []string {
	var out []string
	for _, evs := range lists {
		for _, e := range evs {
			out = append(out, e.EventName())
		}
	}
	return out
}

var nameRe = regexp.MustCompile(`^([a-z][a-z0-9_]*)\.v([0-9]+)$`)

// Model returns the read model name of a projector name ("stock_levels.v2" → "stock_levels").
func Model(name string) string {
	if m := nameRe.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return name
}

func validate(p Projector) error {
	if !nameRe.MatchString(p.Name()) {
		return fmt.Errorf("projections: bad projector name %q, want <model>.v<N>", p.Name())
	}
	s := p.Schema()
	if len(s.Tables) == 0 || s.Create == "" {
		return fmt.Errorf("projections: %s: schema needs tables and a create function", p.Name())
	}
	for _, t := range append(append([]string{}, s.Tables...), s.Create, s.Index) {
		if t != "" && !identRe.MatchString(t) {
			return fmt.Errorf("projections: %s: bad identifier %q", p.Name(), t)
		}
	}
	return nil
}

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func schemaName(model string, gen int) string { return fmt.Sprintf("rm_%s_%d", model, gen) }

func quote(ident string) string { return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"` }
