// Package contact owns the buyer contact values: e-mail address, Japanese
// phone number, postal code (郵便番号), prefecture (都道府県), person name
// and postal address. Each parser normalises what people type on Japanese
// keyboards (full-width digits, dash variants, 〒) and stores one canonical
// form.
//
// These values are personal data. Never log them, never put them in error
// messages (the errors here name the field, not the value) and never send
// them to metrics. Their LogValue methods redact them if one slips into a
// slog call anyway.
//
// It imports only the standard library, golang.org/x/text and domain/errs.
package contact
