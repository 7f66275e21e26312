package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// ConfigError is an invalid field of one region in a calendar configuration.
type ConfigError struct {
	// Region is the region code as written in the file.
	Region string
	// Field is the JSON field, with an index for list entries, such as
	// "time_zone" or "holidays[2]". It is empty when the error concerns the whole
	// region: an invalid region code, or JSON that does not decode, such as an
	// unknown field, whose name Err then contains.
	Field string
	// Err describes what is wrong with the field.
	Err error
}

// Error returns the region, the field and the problem, such as
// `region "US": holidays[1]: invalid date "2026-02-30", want an existing date as
// YYYY-MM-DD`.
func (e *ConfigError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("region %q: %v", e.Region, e.Err)
	}
	return fmt.Sprintf("region %q: %s: %v", e.Region, e.Field, e.Err)
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error {
	return e.Err
}

// LoadFile reads the JSON calendar configuration at path and returns Default with
// the file's regions merged over it. Regions that the file does not name keep
// their built-in calendar. The format:
//
//	{
//	  "note": "free text, ignored",
//	  "regions": {
//	    "US": {
//	      "time_zone": "America/New_York",
//	      "weekend": ["Saturday", "Sunday"],
//	      "holidays": ["2026-07-03", {"date": "2026-12-25", "name": "Christmas Day"}],
//	      "working_days": [],
//	      "extend": false
//	    }
//	  }
//	}
//
// The top-level object has "regions" (required, not empty) and optional "source"
// and "note" text for maintainers. Each key of "regions" must be two upper-case
// letters, meant as an ISO 3166-1 alpha-2 code. A region has these fields:
//
//   - time_zone: an IANA time zone name. It is required unless extend is true.
//     "Local" is rejected because its meaning depends on the machine.
//   - weekend: English day names, matched case-insensitively. It defaults to
//     Saturday and Sunday when omitted, [] means no weekend days, and all seven
//     days are rejected.
//   - holidays: dates as "YYYY-MM-DD" strings or as {"date": "YYYY-MM-DD",
//     "name": "..."} objects.
//   - working_days: make-up working days, in the same form. Each must fall on a
//     weekend day, or on a holiday of the calendar that the region extends.
//   - extend: when false (the default) the region replaces any existing calendar
//     of that region entirely. When true the holidays and working days are added to
//     the region's built-in calendar. Then time_zone and weekend must be omitted, a
//     holiday in the file turns an existing working day into a holiday, and a
//     working day in the file turns an existing holiday into a working day.
//   - source, note: free text for maintainers, ignored.
//
// Unknown fields are rejected, and one region may not list a date both as a
// holiday and as a working day. A calendar covers (see Calendar.Covers) every year
// in which one of its holidays or working days falls.
//
// LoadFile returns nil and an error when the file cannot be read (wrapping the os
// error, so errors.Is(err, fs.ErrNotExist) works), when it is not JSON (wrapping
// *json.SyntaxError, with the line number), or when the top-level object is
// invalid. Otherwise its error joins one *ConfigError for each invalid region
// field, with the regions in code order. A file that loads never changes Default.
func LoadFile(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load calendar config: %w", err)
	}

	set, err := parse(data, Default())
	if err != nil {
		return nil, fmt.Errorf("load calendar config %s: %w", path, err)
	}
	return set, nil
}

// fileConfig is the top-level object of a configuration file. The regions stay raw
// so that a decoding error can name its region.
type fileConfig struct {
	Source  string                     `json:"source"`
	Note    string                     `json:"note"`
	Regions map[string]json.RawMessage `json:"regions"`
}

// regionConfig is one region of a configuration file. Holidays and working days stay
// raw so that an invalid entry is reported with its index.
type regionConfig struct {
	TimeZone    string            `json:"time_zone"`
	Weekend     []string          `json:"weekend"`
	Holidays    []json.RawMessage `json:"holidays"`
	WorkingDays []json.RawMessage `json:"working_days"`
	Extend      bool              `json:"extend"`
	Source      string            `json:"source"`
	Note        string            `json:"note"`
}

// dateEntry is the object form of a holiday or working day.
type dateEntry struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

// parse decodes a configuration and merges its regions over a copy of base, which
// it does not change.
func parse(data []byte, base *Set) (*Set, error) {
	var config fileConfig
	if err := decodeStrict(data, &config); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			line := 1 + bytes.Count(data[:syntaxErr.Offset], []byte("\n"))
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		return nil, err
	}
	if len(config.Regions) == 0 {
		return nil, errors.New(`missing or empty "regions" object, want at least one region`)
	}

	merged := &Set{calendars: maps.Clone(base.calendars)}
	if merged.calendars == nil {
		merged.calendars = make(map[string]*Calendar)
	}

	var errs []error
	for _, code := range slices.Sorted(maps.Keys(config.Regions)) {
		calendar, err := buildRegion(code, config.Regions[code], base.calendars[code])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		merged.calendars[code] = calendar
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return merged, nil
}

// decodeStrict decodes exactly one JSON value into v and rejects unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(v); err != nil {
		return err
	}
	if _, err := decoder.Token(); err != io.EOF {
		return errors.New("unexpected data after the top-level JSON value")
	}
	return nil
}

// buildRegion validates one region and returns its calendar. base is the existing
// calendar of the region, or nil. The error joins one *ConfigError per invalid
// field.
func buildRegion(code string, raw json.RawMessage, base *Calendar) (*Calendar, error) {
	if !isRegionCode(code) {
		return nil, &ConfigError{Region: code, Err: errors.New(
			`invalid region code, want an ISO 3166-1 alpha-2 code in upper case such as "HK"`)}
	}

	var config regionConfig
	if err := decodeStrict(raw, &config); err != nil {
		field := ""
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field = typeErr.Field
		}
		return nil, &ConfigError{Region: code, Field: field, Err: err}
	}

	var calendar *Calendar
	var errs []error
	if config.Extend {
		calendar, errs = extendedCalendar(code, config, base)
	} else {
		calendar, errs = newCalendar(code, config)
	}
	if calendar == nil {
		// Report invalid dates too, so that one run lists every error of the region.
		_, holidayErrs := parseDates(code, "holidays", config.Holidays)
		_, workingErrs := parseDates(code, "working_days", config.WorkingDays)
		errs = append(append(errs, holidayErrs...), workingErrs...)
		return nil, errors.Join(errs...)
	}

	errs = append(errs, addDates(calendar, code, config)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return calendar, nil
}

func isRegionCode(code string) bool {
	if len(code) != 2 {
		return false
	}
	for _, r := range code {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// newCalendar returns an empty calendar with the time zone and weekend of config,
// or nil with the errors when they are invalid.
func newCalendar(code string, config regionConfig) (*Calendar, []error) {
	var errs []error

	location, err := loadLocation(config.TimeZone)
	if err != nil {
		errs = append(errs, &ConfigError{Region: code, Field: "time_zone", Err: err})
	}

	weekend := weekendOf(time.Saturday, time.Sunday)
	if config.Weekend != nil {
		var weekendErrs []error
		weekend, weekendErrs = parseWeekend(code, config.Weekend)
		errs = append(errs, weekendErrs...)
	}

	if len(errs) > 0 {
		return nil, errs
	}
	return &Calendar{
		region:      code,
		location:    location,
		weekend:     weekend,
		holidays:    make(map[civilDate]struct{}),
		workingDays: make(map[civilDate]struct{}),
		years:       make(map[int]struct{}),
	}, nil
}

// extendedCalendar returns a copy of base for config to add dates to, or nil with
// the errors when the region cannot be extended.
func extendedCalendar(code string, config regionConfig, base *Calendar) (*Calendar, []error) {
	var errs []error
	if base == nil {
		errs = append(errs, &ConfigError{Region: code, Field: "extend", Err: errors.New(
			"no built-in calendar to extend, so set extend to false and give time_zone")})
	}
	if config.TimeZone != "" {
		errs = append(errs, &ConfigError{Region: code, Field: "time_zone", Err: errors.New(
			"not allowed with extend, which keeps the built-in value, so omit it or set extend to false")})
	}
	if config.Weekend != nil {
		errs = append(errs, &ConfigError{Region: code, Field: "weekend", Err: errors.New(
			"not allowed with extend, which keeps the built-in value, so omit it or set extend to false")})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &Calendar{
		region:      code,
		location:    base.location,
		weekend:     base.weekend,
		holidays:    maps.Clone(base.holidays),
		workingDays: maps.Clone(base.workingDays),
		years:       maps.Clone(base.years),
	}, nil
}

func loadLocation(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, errors.New(`missing, want an IANA time zone name such as "Asia/Hong_Kong"`)
	case "Local":
		return nil, errors.New(`"Local" depends on the machine, want an IANA time zone name such as "Asia/Hong_Kong"`)
	}
	location, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q not found, want an IANA time zone name such as \"Asia/Hong_Kong\": %w", name, err)
	}
	return location, nil
}

var weekdaysByName = map[string]time.Weekday{
	"sunday":    time.Sunday,
	"monday":    time.Monday,
	"tuesday":   time.Tuesday,
	"wednesday": time.Wednesday,
	"thursday":  time.Thursday,
	"friday":    time.Friday,
	"saturday":  time.Saturday,
}

func parseWeekend(code string, names []string) ([7]bool, []error) {
	var weekend [7]bool
	var errs []error
	for i, name := range names {
		day, ok := weekdaysByName[strings.ToLower(name)]
		if !ok {
			errs = append(errs, &ConfigError{Region: code, Field: fmt.Sprintf("weekend[%d]", i), Err: fmt.Errorf(
				"unknown weekday %q, want an English day name such as \"Saturday\"", name)})
			continue
		}
		weekend[day] = true
	}
	if !slices.Contains(weekend[:], false) {
		errs = append(errs, &ConfigError{Region: code, Field: "weekend", Err: errors.New(
			"all seven days are weekend days, so no day could be a business day")})
	}
	return weekend, errs
}

// addDates parses the holidays and working days of config and adds them to
// calendar. A date in the file replaces the opposite kind of entry on the same date
// in calendar, which matters only when the region extends a calendar.
func addDates(calendar *Calendar, code string, config regionConfig) []error {
	holidays, errs := parseDates(code, "holidays", config.Holidays)
	workingDays, workingErrs := parseDates(code, "working_days", config.WorkingDays)
	errs = append(errs, workingErrs...)

	for _, day := range holidays {
		calendar.holidays[day] = struct{}{}
		delete(calendar.workingDays, day)
		calendar.years[day.year] = struct{}{}
	}

	for i, day := range workingDays {
		field := fmt.Sprintf("working_days[%d]", i)
		if slices.Contains(holidays, day) {
			errs = append(errs, &ConfigError{Region: code, Field: field, Err: fmt.Errorf(
				"%s is also listed in holidays, so remove it from one of the two lists", day)})
			continue
		}
		_, isHoliday := calendar.holidays[day]
		if !calendar.weekend[day.weekday()] && !isHoliday {
			errs = append(errs, &ConfigError{Region: code, Field: field, Err: fmt.Errorf(
				"%s is a %s, which is already a working day, want a weekend day or a holiday of the extended calendar", day, day.weekday())})
			continue
		}
		calendar.workingDays[day] = struct{}{}
		delete(calendar.holidays, day)
		calendar.years[day.year] = struct{}{}
	}
	return errs
}

// parseDates parses a list of "YYYY-MM-DD" strings or {"date", "name"} objects. The
// returned slice has an entry for each valid element only.
func parseDates(code, field string, entries []json.RawMessage) ([]civilDate, []error) {
	var days []civilDate
	var errs []error
	for i, raw := range entries {
		day, err := parseDateEntry(raw)
		if err != nil {
			errs = append(errs, &ConfigError{Region: code, Field: fmt.Sprintf("%s[%d]", field, i), Err: err})
			continue
		}
		days = append(days, day)
	}
	return days, errs
}

func parseDateEntry(raw json.RawMessage) (civilDate, error) {
	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		return parseDate(text)
	}

	var entry dateEntry
	if err := decodeStrict(raw, &entry); err != nil {
		return civilDate{}, fmt.Errorf(`invalid entry, want "YYYY-MM-DD" or {"date": "YYYY-MM-DD", "name": "..."}: %w`, err)
	}
	if entry.Date == "" {
		return civilDate{}, errors.New(`missing "date" in the entry object`)
	}
	return parseDate(entry.Date)
}

func parseDate(text string) (civilDate, error) {
	t, err := time.Parse(time.DateOnly, text)
	if err != nil {
		return civilDate{}, fmt.Errorf("invalid date %q, want an existing date as YYYY-MM-DD", text)
	}
	return civilDateOf(t), nil
}
