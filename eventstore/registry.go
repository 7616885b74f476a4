package eventstore

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/honten/honten/domain/personal"
)

// Upcaster turns a payload of one schema version into the next version's
// shape. It is pure: same input, same output, no I/O.
type Upcaster func(payload json.RawMessage) (json.RawMessage, error)

// Versioned is implemented by events whose payload shape changed: the
// current schema version (1 when not implemented).
type Versioned interface {
	SchemaVersion() int
}

// Registry maps event names to Go types and holds the upcasters that bring
// old payloads to the current shape. Build it once at start-up; it is safe
// for concurrent reads afterwards.
type Registry struct {
	mu      sync.RWMutex
	types   map[string]reflect.Type
	current map[string]int
	up      map[string]map[int]Upcaster
	// personal describes the event types carrying personal data.
	personal map[string]personalInfo
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{types: map[string]reflect.Type{}, current: map[string]int{}, up: map[string]map[int]Upcaster{}, personal: map[string]personalInfo{}}
}

// Register adds event types, given as zero values (order.Placed{}). It
// panics on a duplicate name for another type: names are global and frozen.
func (r *Registry) Register(events ...Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range events {
		t := reflect.TypeOf(e)
		name := e.EventName()
		if prev, ok := r.types[name]; ok && prev != t {
			panic(fmt.Sprintf("eventstore: event name %q registered for %v and %v", name, prev, t))
		}
		r.types[name] = t
		v := 1
		if ve, ok := e.(Versioned); ok {
			v = ve.SchemaVersion()
		}
		r.current[name] = v
		if pd, ok := e.(personal.Data); ok {
			r.personal[name] = newPersonalInfo(pd)
		}
	}
}

// Upcast registers fn to turn payloads of event name at schema version from
// into version from+1.
func (r *Registry) Upcast(name string, from int, fn Upcaster) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.up[name] == nil {
		r.up[name] = map[int]Upcaster{}
	}
	r.up[name][from] = fn
}

// Names returns every registered event name, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.types))
	for n := range r.types {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Known reports whether name is registered.
func (r *Registry) Known(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.types[name]
	return ok
}

// Encode returns e's payload as an append writes it, and the schema
// version it is written at. It returns an error for unregistered events.
func (r *Registry) Encode(e Event) (json.RawMessage, int, error) { return r.encode(e) }

// encode returns the payload and schema version of e.
func (r *Registry) encode(e Event) (json.RawMessage, int, error) {
	r.mu.RLock()
	_, ok := r.types[e.EventName()]
	v := r.current[e.EventName()]
	r.mu.RUnlock()
	if !ok {
		return nil, 0, fmt.Errorf("eventstore: event %q (%T) is not registered", e.EventName(), e)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, 0, fmt.Errorf("eventstore: encode %s: %w", e.EventName(), err)
	}
	return b, v, nil
}

// Upcasted returns env's payload brought to the current schema version.
func (r *Registry) Upcasted(env Envelope) (json.RawMessage, error) {
	r.mu.RLock()
	cur, ok := r.current[env.Type]
	chain := r.up[env.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("eventstore: unknown event type %q", env.Type)
	}
	return upcast(env, cur, chain)
}

// upcast runs chain on env's payload from its schema version to cur.
func upcast(env Envelope, cur int, chain map[int]Upcaster) (json.RawMessage, error) {
	p := env.Payload
	for v := env.SchemaVersion; v < cur; v++ {
		fn := chain[v]
		if fn == nil {
			return nil, fmt.Errorf("eventstore: no upcaster for %s from schema version %d", env.Type, v)
		}
		var err error
		if p, err = fn(p); err != nil {
			return nil, fmt.Errorf("eventstore: upcast %s v%d: %w", env.Type, v, err)
		}
	}
	if env.SchemaVersion > cur {
		return nil, fmt.Errorf("eventstore: %s has schema version %d, newer than this build's %d", env.Type, env.SchemaVersion, cur)
	}
	return p, nil
}

// Decode returns env's event as its registered Go type, upcast to the
// current schema version. It returns an error for unknown event types.
func (r *Registry) Decode(env Envelope) (Event, error) {
	if env.Data != nil {
		return env.Data, nil
	}
	r.mu.RLock()
	t, ok := r.types[env.Type]
	cur := r.current[env.Type]
	chain := r.up[env.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("eventstore: unknown event type %q", env.Type)
	}
	p, err := upcast(env, cur, chain)
	if err != nil {
		return nil, err
	}
	p = r.redactSealed(env.Type, p)
	ptr := reflect.New(t)
	if err := json.Unmarshal(p, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("eventstore: decode %s at %s: %w", env.Type, env.Position, err)
	}
	return ptr.Elem().Interface().(Event), nil
}
