package calendar

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Set maps region codes (ISO 3166-1 alpha-2, such as "HK") to calendars. A nil or
// zero Set has no region calendars, so For returns the generic calendar for every
// region.
type Set struct {
	calendars map[string]*Calendar
}

//go:embed data/holidays.json
var defaultData []byte

var defaultSet = sync.OnceValue(func() *Set {
	set, err := parse(defaultData, &Set{})
	if err != nil {
		// The embedded file is part of the build and a test loads it, so this is a
		// programming error, not a runtime condition.
		panic(fmt.Sprintf("calendar: invalid embedded data/holidays.json: %v", err))
	}
	return set
})

// Default returns the built-in calendars, parsed once from the embedded
// data/holidays.json:
//
//   - HK: Asia/Hong_Kong, Saturday and Sunday weekend, the General Holidays.
//   - CN: Asia/Shanghai, Saturday and Sunday weekend, every day of the State
//     Council holiday breaks, and the make-up working days on weekends.
//   - SG: Asia/Singapore, Saturday and Sunday weekend, the public holidays gazetted
//     by the Ministry of Manpower, including the Mondays in lieu of Sunday holidays.
//
// Each region has data for 2026 and 2027. Every call returns the same Set, which is
// read-only.
//
// NOTE: the 2027 dates of all three regions are computed, not official. They come
// from the holiday rules and from lunar and Islamic calendar calculations, and the
// CN 2027 break days and make-up working days are a guess in the pattern of recent
// years. Replace them by configuration (LoadFile) when the official lists are
// published.
func Default() *Set {
	return defaultSet()
}

// For returns the calendar of region, or the generic calendar (UTC, Saturday and
// Sunday weekend, no holidays) when the set has none. The region code is matched
// case-insensitively. For never returns nil.
func (s *Set) For(region string) *Calendar {
	if s != nil {
		if calendar, ok := s.calendars[strings.ToUpper(region)]; ok {
			return calendar
		}
	}
	return genericCalendar
}

// Regions returns the region codes that have their own calendar, sorted.
func (s *Set) Regions() []string {
	if s == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(s.calendars))
}
