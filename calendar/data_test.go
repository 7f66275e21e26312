package calendar_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/calendar"
)

// TestDefaultData pins the built-in data in the form that decides deadlines: the
// weekdays that are not business days and the weekend days that are. A change to
// data/holidays.json must update this table, and the table can be checked against
// the official lists.
func TestDefaultData(t *testing.T) {
	t.Parallel()

	tests := []struct {
		region              string
		year                int
		wantClosedWeekdays  []string
		wantWorkingWeekends []string
	}{
		{
			region: "HK",
			year:   2026,
			wantClosedWeekdays: []string{
				"2026-01-01", "2026-02-17", "2026-02-18", "2026-02-19", "2026-04-03", "2026-04-06", "2026-04-07",
				"2026-05-01", "2026-05-25", "2026-06-19", "2026-07-01", "2026-10-01", "2026-10-19", "2026-12-25",
			},
		},
		{
			region: "HK",
			year:   2027, // computed, not official
			wantClosedWeekdays: []string{
				"2027-01-01", "2027-02-08", "2027-02-09", "2027-03-26", "2027-03-29", "2027-04-05", "2027-05-13",
				"2027-06-09", "2027-07-01", "2027-09-16", "2027-10-01", "2027-10-08", "2027-12-27",
			},
		},
		{
			region: "CN",
			year:   2026,
			wantClosedWeekdays: []string{
				"2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
				"2026-02-23", "2026-04-06", "2026-05-01", "2026-05-04", "2026-05-05", "2026-06-19", "2026-09-25",
				"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07",
			},
			wantWorkingWeekends: []string{
				"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
			},
		},
		{
			region: "CN",
			year:   2027, // computed, not official
			wantClosedWeekdays: []string{
				"2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12",
				"2027-04-05", "2027-05-03", "2027-05-04", "2027-05-05", "2027-06-09", "2027-09-15", "2027-10-01",
				"2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07",
			},
			wantWorkingWeekends: []string{
				"2027-01-31", "2027-02-20", "2027-05-08", "2027-09-26", "2027-10-09",
			},
		},
		{
			region: "SG",
			year:   2026,
			wantClosedWeekdays: []string{
				"2026-01-01", "2026-02-17", "2026-02-18", "2026-04-03", "2026-05-01", "2026-05-27", "2026-06-01",
				"2026-08-10", "2026-11-09", "2026-12-25",
			},
		},
		{
			region: "SG",
			year:   2027, // computed, not official
			wantClosedWeekdays: []string{
				"2027-01-01", "2027-02-08", "2027-03-10", "2027-03-26", "2027-05-17", "2027-05-20", "2027-08-09",
				"2027-10-28",
			},
		},
	}

	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.region, " ", tt.year), func(t *testing.T) {
			t.Parallel()
			cal := calendar.Default().For(tt.region)

			var closedWeekdays, workingWeekends []string
			for day := time.Date(tt.year, time.January, 1, 12, 0, 0, 0, cal.Location()); day.Year() == tt.year; day = day.AddDate(0, 0, 1) {
				weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
				business := cal.IsBusinessDay(day)
				switch {
				case !weekend && !business:
					closedWeekdays = append(closedWeekdays, day.Format(time.DateOnly))
				case weekend && business:
					workingWeekends = append(workingWeekends, day.Format(time.DateOnly))
				}
			}

			if diff := cmp.Diff(tt.wantClosedWeekdays, closedWeekdays); diff != "" {
				t.Errorf("weekdays that are not business days mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWorkingWeekends, workingWeekends); diff != "" {
				t.Errorf("weekend days that are business days mismatch (-want +got):\n%s", diff)
			}
			if !cal.Covers(time.Date(tt.year, time.July, 1, 0, 0, 0, 0, cal.Location())) {
				t.Errorf("Covers(%d) = false, want true", tt.year)
			}
		})
	}
}
