package zengin

import (
	"fmt"
	"time"
)

// JST is Japan Standard Time (UTC+9, no daylight saving). Dates read from
// bank files are midnight JST of that day.
var JST = time.FixedZone("JST", 9*60*60)

// era is one Japanese era: its first day and its name. An era ends the day
// before the next one starts.
type era struct {
	name  string
	first time.Time
}

// eras, newest first. 令和元年 is 2019, 平成元年 1989, 昭和元年 1926,
// 大正元年 1912.
var eras = []era{
	{"令和", time.Date(2019, time.May, 1, 0, 0, 0, 0, JST)},
	{"平成", time.Date(1989, time.January, 8, 0, 0, 0, 0, JST)},
	{"昭和", time.Date(1926, time.December, 25, 0, 0, 0, 0, JST)},
	{"大正", time.Date(1912, time.July, 30, 0, 0, 0, 0, JST)},
}

// ParseWareki reads a Zengin date, YYMMDD in the Japanese era, which the
// file does not name. It tries the newest era first and takes the first era
// in which the day exists and is not after now's day in JST: 令和01-04-30
// does not exist (that day, 2019-04-30, is 平成31-04-30, "310430"), so
// "010430" is 平成01-04-30, 1989; "310501" is neither 令和31 (future) nor
// 平成31 (ended) and reads as 昭和31-05-01. "000000" is the zero time. The
// result is midnight JST. Errors wrap ErrNotNumber, or ErrDate when no era
// has the day.
func ParseWareki(s string, now time.Time) (time.Time, error) {
	if len(s) != 6 || !isDigits(s) {
		return time.Time{}, fmt.Errorf("%w %q", ErrNotNumber, s)
	}
	if s == "000000" {
		return time.Time{}, nil
	}
	yy := atoi(s[0:2])
	mm := atoi(s[2:4])
	dd := atoi(s[4:6])
	if yy == 0 || mm < 1 || mm > 12 || dd < 1 || dd > 31 {
		return time.Time{}, fmt.Errorf("%w %q", ErrDate, s)
	}
	n := now.In(JST)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, JST)
	for i, e := range eras {
		t := time.Date(e.first.Year()+yy-1, time.Month(mm), dd, 0, 0, 0, 0, JST)
		if t.Day() != dd {
			continue // 31 April and the like normalise into the next month
		}
		if t.Before(e.first) || (i > 0 && !t.Before(eras[i-1].first)) {
			continue
		}
		if t.After(today) {
			continue
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w %q: no era has this day on or before %s", ErrDate, s, today.Format(time.DateOnly))
}

// FormatWareki writes t's day in JST as YYMMDD in its Japanese era; the zero
// time is "000000". It returns an error wrapping ErrDate for days before
// 大正 or past era year 99.
func FormatWareki(t time.Time) (string, error) {
	if t.IsZero() {
		return "000000", nil
	}
	t = t.In(JST)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, JST)
	for _, e := range eras {
		if day.Before(e.first) {
			continue
		}
		y := t.Year() - e.first.Year() + 1
		if y > 99 {
			break
		}
		return fmt.Sprintf("%02d%02d%02d", y, int(t.Month()), t.Day()), nil
	}
	return "", fmt.Errorf("%w: %s cannot be written as a 2-digit era year", ErrDate, day.Format(time.DateOnly))
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi converts a short string of digits checked by isDigits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
