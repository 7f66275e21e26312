package calendar_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/calendar"
)

// localTime parses "2006-01-02 15:04" as a local time in the named zone.
func localTime(t testing.TB, zone, value string) time.Time {
	t.Helper()
	location, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("load location %q: %v", zone, err)
	}
	parsed, err := time.ParseInLocation("2006-01-02 15:04", value, location)
	if err != nil {
		t.Fatalf("parse %q: %v", value, err)
	}
	return parsed
}

// loadExample loads testdata/example.json, which adds a US calendar in
// America/New_York and extends the built-in SG calendar.
func loadExample(t testing.TB) *calendar.Set {
	t.Helper()
	set, err := calendar.LoadFile("testdata/example.json")
	if err != nil {
		t.Fatalf("LoadFile(testdata/example.json): %v", err)
	}
	return set
}

func TestAddBusinessDays(t *testing.T) {
	t.Parallel()
	builtin := calendar.Default()
	example := loadExample(t)

	tests := []struct {
		name   string
		set    *calendar.Set
		region string
		start  time.Time
		n      int
		want   string // RFC 3339, so the local clock time and the UTC offset are both pinned
	}{
		{
			name:   "weekday keeps clock time",
			set:    builtin,
			region: "HK",
			start:  localTime(t, "Asia/Hong_Kong", "2026-03-03 10:00"), // Tuesday
			n:      2,
			want:   "2026-03-05T10:00:00+08:00",
		},
		{
			name:   "saturday starts next business day at midnight",
			set:    builtin,
			region: "HK",
			start:  localTime(t, "Asia/Hong_Kong", "2026-03-07 10:00"),
			n:      2,
			want:   "2026-03-11T00:00:00+08:00",
		},
		{
			name:   "sunday with zero days",
			set:    builtin,
			region: "HK",
			start:  localTime(t, "Asia/Hong_Kong", "2026-03-08 18:45"),
			n:      0,
			want:   "2026-03-09T00:00:00+08:00",
		},
		{
			name:   "business day with zero days",
			set:    builtin,
			region: "HK",
			start:  localTime(t, "Asia/Hong_Kong", "2026-03-09 18:45"),
			n:      0,
			want:   "2026-03-09T18:45:00+08:00",
		},
		{
			name:   "late friday counts as friday",
			set:    builtin,
			region: "HK",
			start:  localTime(t, "Asia/Hong_Kong", "2026-03-06 23:30"),
			n:      2,
			want:   "2026-03-10T23:30:00+08:00",
		},
		{
			name:   "late friday given in UTC",
			set:    builtin,
			region: "HK",
			start:  time.Date(2026, time.March, 6, 15, 30, 0, 0, time.UTC), // Friday 23:30 in Hong Kong
			n:      2,
			want:   "2026-03-10T23:30:00+08:00",
		},
		{
			name:   "friday in UTC is saturday in zone",
			set:    builtin,
			region: "HK",
			start:  time.Date(2026, time.March, 6, 16, 30, 0, 0, time.UTC), // Saturday 00:30 in Hong Kong
			n:      2,
			want:   "2026-03-11T00:00:00+08:00",
		},
		{
			name:   "submission on public holiday",
			set:    builtin,
			region: "HK",
			// Good Friday, followed by a holiday Saturday, Sunday and the holidays on Monday 6 and Tuesday 7 April.
			start: localTime(t, "Asia/Hong_Kong", "2026-04-03 10:00"),
			n:     2,
			want:  "2026-04-10T00:00:00+08:00",
		},
		{
			name:   "deadline moves past Easter holidays",
			set:    builtin,
			region: "HK",
			// Plain day counting would end on Good Friday, 3 April.
			start: localTime(t, "Asia/Hong_Kong", "2026-04-01 10:00"),
			n:     2,
			want:  "2026-04-08T10:00:00+08:00",
		},
		{
			name:   "deadline moves past Lunar New Year",
			set:    builtin,
			region: "HK",
			start:  localTime(t, "Asia/Hong_Kong", "2026-02-16 15:00"),
			n:      3,
			want:   "2026-02-24T15:00:00+08:00",
		},
		{
			name:   "CN make-up saturday is a business day",
			set:    builtin,
			region: "CN",
			start:  localTime(t, "Asia/Shanghai", "2026-02-13 10:00"), // Friday
			n:      1,
			want:   "2026-02-14T10:00:00+08:00",
		},
		{
			name:   "CN make-up saturday then Spring Festival",
			set:    builtin,
			region: "CN",
			start:  localTime(t, "Asia/Shanghai", "2026-02-13 10:00"),
			n:      2,
			want:   "2026-02-24T10:00:00+08:00",
		},
		{
			name:   "CN submission on make-up saturday",
			set:    builtin,
			region: "CN",
			start:  localTime(t, "Asia/Shanghai", "2026-02-28 09:00"),
			n:      2,
			want:   "2026-03-03T09:00:00+08:00",
		},
		{
			name:   "CN make-up sunday is a business day",
			set:    builtin,
			region: "CN",
			start:  localTime(t, "Asia/Shanghai", "2026-09-18 10:00"), // Friday
			n:      1,
			want:   "2026-09-20T10:00:00+08:00",
		},
		{
			name:   "SG Monday in lieu of National Day",
			set:    builtin,
			region: "SG",
			start:  localTime(t, "Asia/Singapore", "2026-08-07 10:00"), // Friday
			n:      1,
			want:   "2026-08-11T10:00:00+08:00",
		},
		{
			name:   "SG deadline moves past Hari Raya Haji",
			set:    builtin,
			region: "SG",
			start:  localTime(t, "Asia/Singapore", "2026-05-26 10:00"),
			n:      1,
			want:   "2026-05-28T10:00:00+08:00",
		},
		{
			name:   "generic calendar uses UTC",
			set:    builtin,
			region: "FR",
			start:  time.Date(2026, time.March, 6, 16, 30, 0, 0, time.UTC), // Friday
			n:      2,
			want:   "2026-03-10T16:30:00Z",
		},
		{
			name:   "generic calendar saturday",
			set:    builtin,
			region: "FR",
			start:  time.Date(2026, time.March, 7, 10, 0, 0, 0, time.UTC),
			n:      2,
			want:   "2026-03-11T00:00:00Z",
		},
		{
			name:   "US across DST start keeps clock time",
			set:    example,
			region: "US",
			// Daylight saving time starts on Sunday 8 March 2026, so the offset moves from -05:00 to -04:00.
			start: localTime(t, "America/New_York", "2026-03-06 10:00"),
			n:     2,
			want:  "2026-03-10T10:00:00-04:00",
		},
		{
			name:   "US saturday before DST start",
			set:    example,
			region: "US",
			start:  localTime(t, "America/New_York", "2026-03-07 10:00"),
			n:      1,
			want:   "2026-03-10T00:00:00-04:00",
		},
		{
			name:   "US across DST end keeps clock time",
			set:    example,
			region: "US",
			// Daylight saving time ends on Sunday 1 November 2026.
			start: localTime(t, "America/New_York", "2026-10-30 10:00"),
			n:     1,
			want:  "2026-11-02T10:00:00-05:00",
		},
		{
			name:   "US federal holiday",
			set:    example,
			region: "US",
			start:  localTime(t, "America/New_York", "2026-11-25 16:00"), // Wednesday before Thanksgiving
			n:      1,
			want:   "2026-11-27T16:00:00-05:00",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.set.For(tt.region).AddBusinessDays(tt.start, tt.n).Format(time.RFC3339Nano)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("For(%q).AddBusinessDays(%s, %d) mismatch (-want +got):\n%s",
					tt.region, tt.start.Format(time.RFC3339), tt.n, diff)
			}
		})
	}
}

func TestAddBusinessDaysUTCOffsetAcrossDST(t *testing.T) {
	t.Parallel()
	us := loadExample(t).For("US")
	start := localTime(t, "America/New_York", "2026-03-06 10:00")

	got := us.AddBusinessDays(start, 2)

	// Four calendar days minus the hour lost at the DST start.
	if diff := cmp.Diff(4*24*time.Hour-time.Hour, got.Sub(start)); diff != "" {
		t.Errorf("elapsed time mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("2026-03-10T14:00:00Z", got.UTC().Format(time.RFC3339)); diff != "" {
		t.Errorf("UTC result mismatch (-want +got):\n%s", diff)
	}
	if got.Location() != us.Location() {
		t.Errorf("result location = %v, want %v", got.Location(), us.Location())
	}
}

// TestAddBusinessDaysLandsOnBusinessDay checks every start day of 2026 and 2027 in
// each built-in region: the result is a business day, and exactly n business days
// lie after the clock start up to the result.
func TestAddBusinessDaysLandsOnBusinessDay(t *testing.T) {
	t.Parallel()
	for _, region := range calendar.Default().Regions() {
		t.Run(region, func(t *testing.T) {
			t.Parallel()
			cal := calendar.Default().For(region)
			first := time.Date(2026, time.January, 1, 9, 15, 0, 0, cal.Location())
			for start := first; start.Year() < 2028; start = start.AddDate(0, 0, 1) {
				for n := range 4 {
					got := cal.AddBusinessDays(start, n)
					if !cal.IsBusinessDay(got) {
						t.Fatalf("AddBusinessDays(%s, %d) = %s, which is not a business day", start.Format(time.DateTime), n, got.Format(time.DateTime))
					}
					if !got.After(start) && (n > 0 || !got.Equal(start)) {
						t.Fatalf("AddBusinessDays(%s, %d) = %s, not after start", start.Format(time.DateTime), n, got.Format(time.DateTime))
					}
					count := 0
					for day := cal.AddBusinessDays(start, 0).AddDate(0, 0, 1); !day.After(got); day = day.AddDate(0, 0, 1) {
						if cal.IsBusinessDay(day) {
							count++
						}
					}
					if count != n {
						t.Fatalf("AddBusinessDays(%s, %d) = %s, which is %d business days after the clock start",
							start.Format(time.DateTime), n, got.Format(time.DateTime), count)
					}
				}
			}
		})
	}
}

func TestAddBusinessDaysNegativePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("AddBusinessDays with n = -1 did not panic")
		}
	}()
	calendar.Default().For("HK").AddBusinessDays(time.Now(), -1)
}

func TestIsBusinessDay(t *testing.T) {
	t.Parallel()
	builtin := calendar.Default()

	tests := []struct {
		name   string
		region string
		at     time.Time
		want   bool
	}{
		{"HK ordinary friday", "HK", localTime(t, "Asia/Hong_Kong", "2026-03-06 12:00"), true},
		{"HK saturday", "HK", localTime(t, "Asia/Hong_Kong", "2026-03-07 12:00"), false},
		{"HK holiday after Easter Monday", "HK", localTime(t, "Asia/Hong_Kong", "2026-04-07 12:00"), false},
		{"HK day after Easter holidays", "HK", localTime(t, "Asia/Hong_Kong", "2026-04-08 12:00"), true},
		{"HK friday 23:59 as UTC", "HK", time.Date(2026, time.March, 6, 15, 59, 0, 0, time.UTC), true},
		{"HK saturday 00:30 as UTC", "HK", time.Date(2026, time.March, 6, 16, 30, 0, 0, time.UTC), false},
		{"CN make-up saturday", "CN", localTime(t, "Asia/Shanghai", "2026-02-14 12:00"), true},
		{"CN make-up sunday", "CN", localTime(t, "Asia/Shanghai", "2026-01-04 12:00"), true},
		{"CN saturday in Spring Festival", "CN", localTime(t, "Asia/Shanghai", "2026-02-21 12:00"), false},
		{"CN New Year's Eve", "CN", localTime(t, "Asia/Shanghai", "2026-02-16 12:00"), false},
		{"CN break weekday", "CN", localTime(t, "Asia/Shanghai", "2026-10-07 12:00"), false},
		{"SG Monday in lieu", "SG", localTime(t, "Asia/Singapore", "2026-08-10 12:00"), false},
		{"SG Deepavali in lieu", "SG", localTime(t, "Asia/Singapore", "2026-11-09 12:00"), false},
		{"SG Hari Raya Puasa saturday", "SG", localTime(t, "Asia/Singapore", "2026-03-21 12:00"), false},
		{"generic monday", "FR", time.Date(2026, time.January, 5, 12, 0, 0, 0, time.UTC), true},
		{"generic sunday", "FR", time.Date(2026, time.January, 4, 12, 0, 0, 0, time.UTC), false},
		{"generic new year has no holiday", "FR", time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC), true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := builtin.For(tt.region).IsBusinessDay(tt.at); got != tt.want {
				t.Errorf("For(%q).IsBusinessDay(%s) = %t, want %t", tt.region, tt.at.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	t.Parallel()
	builtin := calendar.Default()
	example := loadExample(t)

	tests := []struct {
		name   string
		set    *calendar.Set
		region string
		at     time.Time
		want   bool
	}{
		{"HK 2025", builtin, "HK", localTime(t, "Asia/Hong_Kong", "2025-12-31 23:59"), false},
		{"HK 2026", builtin, "HK", localTime(t, "Asia/Hong_Kong", "2026-01-01 00:00"), true},
		{"HK 2027", builtin, "HK", localTime(t, "Asia/Hong_Kong", "2027-12-31 23:59"), true},
		{"HK 2028 local while 2027 in UTC", builtin, "HK", time.Date(2027, time.December, 31, 20, 0, 0, 0, time.UTC), false},
		{"CN 2027", builtin, "CN", localTime(t, "Asia/Shanghai", "2027-06-01 12:00"), true},
		{"SG 2028", builtin, "SG", localTime(t, "Asia/Singapore", "2028-01-03 12:00"), false},
		{"generic 2026", builtin, "FR", time.Date(2026, time.June, 1, 12, 0, 0, 0, time.UTC), false},
		{"US from config 2026", example, "US", localTime(t, "America/New_York", "2026-06-01 12:00"), true},
		{"US from config 2027", example, "US", localTime(t, "America/New_York", "2027-06-01 12:00"), false},
		{"SG extended to 2028", example, "SG", localTime(t, "Asia/Singapore", "2028-01-03 12:00"), true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.set.For(tt.region).Covers(tt.at); got != tt.want {
				t.Errorf("For(%q).Covers(%s) = %t, want %t", tt.region, tt.at.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}

func TestFor(t *testing.T) {
	t.Parallel()
	var nilSet *calendar.Set

	tests := []struct {
		name         string
		set          *calendar.Set
		region       string
		wantRegion   string
		wantLocation string
	}{
		{"built-in region", calendar.Default(), "HK", "HK", "Asia/Hong_Kong"},
		{"lower-case code", calendar.Default(), "cn", "CN", "Asia/Shanghai"},
		{"SG zone", calendar.Default(), "SG", "SG", "Asia/Singapore"},
		{"unknown region falls back", calendar.Default(), "US", "", "UTC"},
		{"empty code falls back", calendar.Default(), "", "", "UTC"},
		{"zero set falls back", &calendar.Set{}, "HK", "", "UTC"},
		{"nil set falls back", nilSet, "HK", "", "UTC"},
		{"configured region", loadExample(t), "US", "US", "America/New_York"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.set.For(tt.region)
			if got == nil {
				t.Fatalf("For(%q) = nil", tt.region)
			}
			if diff := cmp.Diff(tt.wantRegion, got.Region()); diff != "" {
				t.Errorf("For(%q).Region() mismatch (-want +got):\n%s", tt.region, diff)
			}
			if diff := cmp.Diff(tt.wantLocation, got.Location().String()); diff != "" {
				t.Errorf("For(%q).Location() mismatch (-want +got):\n%s", tt.region, diff)
			}
		})
	}
}

func TestRegions(t *testing.T) {
	t.Parallel()
	var nilSet *calendar.Set

	tests := []struct {
		name string
		set  *calendar.Set
		want []string
	}{
		{"default", calendar.Default(), []string{"CN", "HK", "SG"}},
		{"example config", loadExample(t), []string{"CN", "HK", "SG", "US"}},
		{"nil set", nilSet, nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.set.Regions()); diff != "" {
				t.Errorf("Regions() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkAddBusinessDays(b *testing.B) {
	cn := calendar.Default().For("CN")
	// Friday before the 2026 Spring Festival break, so the count crosses a make-up
	// working day and nine holidays.
	start := localTime(b, "Asia/Shanghai", "2026-02-13 10:00")

	for _, n := range []int{3, 250} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				cn.AddBusinessDays(start, n)
			}
		})
	}
}
