// Package zengin reads and writes the bank files a Japanese shop deals with:
// the 全銀協 (Zengin) 総合振込 transfer request (120-byte records), the
// 入出金取引明細 and 振込入金通知 statements (200-byte records), and the CSV
// exports of net banking. It also folds names to the half-width katakana
// banks print (Fold, ValidName), builds keys for matching payer names
// (MatchKey) and converts 和暦 dates (ParseWareki, FormatWareki).
//
// Zengin files are cp932 (Shift_JIS) restricted to JIS X 0201, so every
// character is one byte: digits, capitals, a few symbols and half-width
// katakana. Numeric fields (N) are right-justified and zero-filled, text
// fields (C) left-justified and space-filled. Records may end with CRLF or
// follow each other without line breaks; readers accept both.
//
// Readers return everything or nothing: on error the returned value is empty
// and the error is a *RecordError naming the record (the line number when
// records end with line breaks) and the field. Writers validate every field
// first and report a *ItemError or *RecordError; nothing is written then.
//
// The package owns no state and needs no database. It imports only the
// standard library, golang.org/x/text and shopspring/decimal; it must not
// import the domain, storage or HTTP packages.
package zengin
