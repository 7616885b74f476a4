package zengin

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by RecordError and ItemError; test with errors.Is.
var (
	// ErrNotNumber marks a numeric field holding something other than digits.
	ErrNotNumber = errors.New("not a number")
	// ErrTooLong marks a value longer than its field.
	ErrTooLong = errors.New("too long")
	// ErrCharset marks a character outside the set banks accept.
	ErrCharset = errors.New("character not allowed")
	// ErrEncoding marks bytes that are not single-byte cp932 (JIS X 0201).
	ErrEncoding = errors.New("not cp932 (JIS X 0201)")
	// ErrTruncated marks a record shorter than the layout's record length.
	ErrTruncated = errors.New("truncated record")
	// ErrLayout marks a record out of order or of an unknown kind.
	ErrLayout = errors.New("unexpected record")
	// ErrTotals marks a trailer or end record that disagrees with the data.
	ErrTotals = errors.New("totals do not match")
	// ErrInvalid marks a value that is present but not allowed (a code
	// outside its list, an amount out of range, a missing required value).
	ErrInvalid = errors.New("invalid value")
	// ErrDate marks a date that cannot be read or does not exist.
	ErrDate = errors.New("invalid date")
)

// RecordError is a problem with one field of one record of a file.
type RecordError struct {
	// Record is the 1-based record number in the file: the line number when
	// records end with line breaks. For CSV it is the CSV line number.
	Record int
	// Field names the field, e.g. "amount".
	Field string
	// Err is the cause; it wraps one of the package's sentinel errors.
	Err error
}

// Error formats as `zengin: record 7: amount: not a number "12a"`.
func (e *RecordError) Error() string {
	return fmt.Sprintf("zengin: record %d: %s: %v", e.Record, e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

// ItemError is a problem with one field of a transfer being written.
type ItemError struct {
	// Item is the index into the items slice, or -1 for the header.
	Item int
	// Field names the field, e.g. "account number".
	Field string
	// Err is the cause; it wraps one of the package's sentinel errors.
	Err error
}

// Error formats as `zengin: item 3: amount: ...` or `zengin: header: ...`.
func (e *ItemError) Error() string {
	if e.Item < 0 {
		return fmt.Sprintf("zengin: header: %s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("zengin: item %d: %s: %v", e.Item, e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *ItemError) Unwrap() error { return e.Err }
