package database

import (
	"reflect"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// RegisterUUID makes m send and read google/uuid.UUID values, and the
// domain's typed ids (structs that embed one, ids.ID), as PostgreSQL's
// 16-byte uuid, arrays included. Without it pgx takes them through their
// database/sql methods: each id is formatted as a 36-character string and
// parsed back into the same 16 bytes, both ways, which cost about a tenth
// of the process's CPU on the checkout path (bench checkout -cpuprofile).
func RegisterUUID(m *pgtype.Map) {
	t := &pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}}
	m.RegisterType(t)
	m.RegisterType(&pgtype.Type{Name: "_uuid", OID: pgtype.UUIDArrayOID, Codec: &pgtype.ArrayCodec{ElementType: t}})
}

// uuidCodec is pgtype's uuid codec that also takes uuid.UUID and typed ids
// as they are.
type uuidCodec struct{ pgtype.UUIDCodec }

// pgUUID is a uuid as pgtype's uuid codec takes and gives it.
type pgUUID uuid.UUID

// UUIDValue implements pgtype.UUIDValuer.
func (u pgUUID) UUIDValue() (pgtype.UUID, error) { return pgtype.UUID{Bytes: u, Valid: true}, nil }

// ScanUUID implements pgtype.UUIDScanner. A NULL leaves the target as it
// was, as uuid.UUID's own Scan does.
func (u *pgUUID) ScanUUID(v pgtype.UUID) error {
	if v.Valid {
		*u = v.Bytes
	}
	return nil
}

var uuidType = reflect.TypeFor[uuid.UUID]()

// typedID reports whether t is a struct whose only field is an embedded
// uuid.UUID (the domain's typed ids).
func typedID(t reflect.Type) bool {
	return t != nil && t.Kind() == reflect.Struct && t.NumField() == 1 && t.Field(0).Anonymous && t.Field(0).Type == uuidType
}

// PlanEncode implements pgtype.Codec.
func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	var get func(any) pgUUID
	switch {
	case reflect.TypeOf(value) == uuidType:
		get = func(v any) pgUUID { return pgUUID(v.(uuid.UUID)) }
	case typedID(reflect.TypeOf(value)):
		get = func(v any) pgUUID { return pgUUID(reflect.ValueOf(v).Field(0).Interface().(uuid.UUID)) }
	default:
		return c.UUIDCodec.PlanEncode(m, oid, format, value)
	}
	next := c.UUIDCodec.PlanEncode(m, oid, format, pgUUID{})
	if next == nil {
		return nil
	}
	return uuidEncodePlan{next: next, get: get}
}

type uuidEncodePlan struct {
	next pgtype.EncodePlan
	get  func(any) pgUUID
}

func (p uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(p.get(value), buf)
}

// PlanScan implements pgtype.Codec.
func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	var get func(any) *pgUUID
	switch t := reflect.TypeOf(target); {
	case t == reflect.PointerTo(uuidType):
		get = func(v any) *pgUUID { return (*pgUUID)(v.(*uuid.UUID)) }
	case t != nil && t.Kind() == reflect.Pointer && typedID(t.Elem()):
		get = func(v any) *pgUUID {
			return (*pgUUID)(reflect.ValueOf(v).Elem().Field(0).Addr().Interface().(*uuid.UUID))
		}
	default:
		return c.UUIDCodec.PlanScan(m, oid, format, target)
	}
	next := c.UUIDCodec.PlanScan(m, oid, format, (*pgUUID)(nil))
	if next == nil {
		return nil
	}
	return uuidScanPlan{next: next, get: get}
}

type uuidScanPlan struct {
	next pgtype.ScanPlan
	get  func(any) *pgUUID
}

func (p uuidScanPlan) Scan(src []byte, target any) error {
	return p.next.Scan(src, p.get(target))
}
