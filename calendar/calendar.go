// Package calendar counts business days per region. A region's calendar has a
// time zone, weekend days, public holidays and make-up working days (weekend days
// that are working days, as in the CN holiday arrangement).
//
// Default returns the built-in calendars for HK, CN and SG for 2026 and 2027.
// LoadFile merges a JSON configuration file over them. A region without a
// calendar gets the generic calendar: UTC, a Saturday and Sunday weekend, and no
// holidays.
//
// Calendars and sets are immutable after construction and safe for concurrent use.
package calendar

import (
	"fmt"
	"time"

	// Embeds the IANA time zone database, so the region zones load on machines
	// without one.
	_ "time/tzdata"
)

// civilDate is a date without a time zone: a day of the proleptic Gregorian calendar.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

func civilDateOf(t time.Time) civilDate {
	year, month, day := t.Date()
	return civilDate{year: year, month: month, day: day}
}

// midnightUTC returns 00:00 UTC of d. Date arithmetic runs in UTC because a UTC day
// always has 24 hours.
func (d civilDate) midnightUTC() time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC)
}

func (d civilDate) next() civilDate {
	return civilDateOf(d.midnightUTC().AddDate(0, 0, 1))
}

func (d civilDate) weekday() time.Weekday {
	return d.midnightUTC().Weekday()
}

func (d civilDate) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
}

// Calendar is the business-day calendar of one region. A business day is a local
// date in the calendar's time zone that is a make-up working day, or that is
// neither a holiday nor a weekend day.
//
// The zero value is not usable. Get calendars from a Set.
type Calendar struct {
	region      string
	location    *time.Location
	weekend     [7]bool // indexed by time.Weekday
	holidays    map[civilDate]struct{}
	workingDays map[civilDate]struct{}
	years       map[int]struct{} // years with holiday or working-day data
}

// genericCalendar is the calendar of every region without its own calendar: UTC,
// a Saturday and Sunday weekend, and no holidays.
var genericCalendar = &Calendar{
	location: time.UTC,
	weekend:  weekendOf(time.Saturday, time.Sunday),
}

func weekendOf(days ...time.Weekday) [7]bool {
	var weekend [7]bool
	for _, day := range days {
		weekend[day] = true
	}
	return weekend
}

// Region returns the region code of the calendar, such as "HK", or the empty
// string for the generic calendar.
func (c *Calendar) Region() string {
	return c.region
}

// Location returns the time zone in which the calendar's dates are local dates.
// It is UTC for the generic calendar.
func (c *Calendar) Location() *time.Location {
	return c.location
}

// IsBusinessDay reports whether t falls on a business day, judged by t's local
// date in the calendar's time zone. For example, Friday 16:30 UTC is Saturday
// 00:30 in Hong Kong, so it is not a business day in the HK calendar.
func (c *Calendar) IsBusinessDay(t time.Time) bool {
	return c.isBusinessDate(civilDateOf(t.In(c.location)))
}

func (c *Calendar) isBusinessDate(d civilDate) bool {
	if _, ok := c.workingDays[d]; ok {
		return true
	}
	if _, ok := c.holidays[d]; ok {
		return false
	}
	return !c.weekend[d.weekday()]
}

// nextBusinessDate returns the first business day after d. It terminates because
// the loader rejects a weekend of all seven days and the holiday list is finite.
func (c *Calendar) nextBusinessDate(d civilDate) civilDate {
	d = d.next()
	for !c.isBusinessDate(d) {
		d = d.next()
	}
	return d
}

// AddBusinessDays returns the instant n business days after start, in the
// calendar's time zone. It works on start's local date and clock time in that
// zone:
//
//  1. If start's local date is a business day, the clock starts at start.
//     Otherwise the clock starts at 00:00 local time of the next business day.
//  2. Each of the n business days moves the date to the next business day and
//     keeps the local clock time of the clock start. Weekends and holidays are
//     skipped, so a result that would land on one moves to the next business day
//     at the same local time. For n == 0 the result is the clock start.
//
// For example, with n = 2 a submission on Saturday at 10:00 gets Wednesday 00:00,
// which gives it all of Monday and Tuesday. A submission on Friday at 23:30 gets
// Tuesday 23:30.
//
// The local clock time is kept across daylight-saving changes, so the result's
// UTC offset can differ from start's. Where that clock time does not exist or
// occurs twice on the result date, the result is the instant that time.Date
// returns for it. Dates in years without holiday data count weekends only, and
// Covers reports those years.
//
// AddBusinessDays panics if n is negative.
func (c *Calendar) AddBusinessDays(start time.Time, n int) time.Time {
	if n < 0 {
		panic(fmt.Sprintf("calendar: AddBusinessDays called with negative n %d", n))
	}

	local := start.In(c.location)
	day := civilDateOf(local)
	hour, minute, second := local.Clock()
	nanosecond := local.Nanosecond()

	// Step 1: a clock that starts on a weekend or holiday starts at 00:00 of the
	// next business day instead.
	if !c.isBusinessDate(day) {
		day = c.nextBusinessDate(day)
		hour, minute, second, nanosecond = 0, 0, 0, 0
	}

	// Step 2: count n business days, keeping the local clock time.
	for range n {
		day = c.nextBusinessDate(day)
	}

	return time.Date(day.year, day.month, day.day, hour, minute, second, nanosecond, c.location)
}

// Covers reports whether the calendar has holiday data for the year of t's local
// date in the calendar's time zone. A year is covered when at least one holiday or
// make-up working day of the calendar falls in it. Business days in a year that is
// not covered count weekends only, so callers should warn when a deadline falls
// there. The generic calendar covers no year.
func (c *Calendar) Covers(t time.Time) bool {
	_, ok := c.years[t.In(c.location).Year()]
	return ok
}
