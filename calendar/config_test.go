package calendar_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/calendar"
)

// writeConfig writes content to a file in a fresh temporary folder and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "calendar.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return path
}

// configErrorFields returns "REGION FIELD" for every *calendar.ConfigError in the
// tree of err, in order.
func configErrorFields(err error) []string {
	var fields []string
	var walk func(error)
	walk = func(err error) {
		var configErr *calendar.ConfigError
		if errors.As(err, &configErr) && configErr == err {
			fields = append(fields, configErr.Region+" "+configErr.Field)
			return
		}
		switch wrapped := err.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range wrapped.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			if inner := wrapped.Unwrap(); inner != nil {
				walk(inner)
			}
		}
	}
	walk(err)
	return fields
}

func TestLoadFileMergesOverDefault(t *testing.T) {
	t.Parallel()
	set := loadExample(t)

	if set.For("HK") != calendar.Default().For("HK") {
		t.Error("For(HK) is not the built-in calendar, but the example file does not name HK")
	}

	tests := []struct {
		name   string
		region string
		at     time.Time
		want   bool
	}{
		{"US holiday", "US", localTime(t, "America/New_York", "2026-07-03 12:00"), false},
		{"US weekday", "US", localTime(t, "America/New_York", "2026-07-06 12:00"), true},
		{"SG extension keeps built-in holiday", "SG", localTime(t, "Asia/Singapore", "2026-08-10 12:00"), false},
		{"SG extension keeps built-in weekday", "SG", localTime(t, "Asia/Singapore", "2026-08-11 12:00"), true},
		{"CN untouched", "CN", localTime(t, "Asia/Shanghai", "2026-02-14 12:00"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := set.For(tt.region).IsBusinessDay(tt.at); got != tt.want {
				t.Errorf("For(%q).IsBusinessDay(%s) = %t, want %t", tt.region, tt.at.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}

func TestLoadFileReplacesAndExtends(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `{
  "regions": {
    "HK": {"time_zone": "Asia/Hong_Kong"},
    "CN": {
      "extend": true,
      "holidays": ["2026-03-02", "2026-02-14"],
      "working_days": [{"date": "2026-10-07", "name": "holiday turned into a working day"}]
    },
    "IL": {"time_zone": "Asia/Jerusalem", "weekend": ["friday", "SATURDAY"]},
    "XA": {"time_zone": "UTC", "weekend": []}
  }
}`)
	set, err := calendar.LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}

	tests := []struct {
		name   string
		region string
		at     time.Time
		want   bool
	}{
		{"HK replaced without holidays", "HK", localTime(t, "Asia/Hong_Kong", "2026-04-07 12:00"), true},
		{"HK replaced keeps default weekend", "HK", localTime(t, "Asia/Hong_Kong", "2026-04-04 12:00"), false},
		{"CN extension adds weekday holiday", "CN", localTime(t, "Asia/Shanghai", "2026-03-02 12:00"), false},
		{"CN extension holiday removes make-up day", "CN", localTime(t, "Asia/Shanghai", "2026-02-14 12:00"), false},
		{"CN extension working day removes holiday", "CN", localTime(t, "Asia/Shanghai", "2026-10-07 12:00"), true},
		{"CN extension keeps other make-up day", "CN", localTime(t, "Asia/Shanghai", "2026-02-28 12:00"), true},
		{"CN extension keeps other holiday", "CN", localTime(t, "Asia/Shanghai", "2026-10-06 12:00"), false},
		{"IL friday weekend", "IL", localTime(t, "Asia/Jerusalem", "2026-03-06 12:00"), false},
		{"IL sunday working", "IL", localTime(t, "Asia/Jerusalem", "2026-03-08 12:00"), true},
		{"empty weekend saturday", "XA", time.Date(2026, time.March, 7, 12, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := set.For(tt.region).IsBusinessDay(tt.at); got != tt.want {
				t.Errorf("For(%q).IsBusinessDay(%s) = %t, want %t", tt.region, tt.at.Format(time.RFC3339), got, tt.want)
			}
		})
	}

	t.Run("replaced region covers no year", func(t *testing.T) {
		t.Parallel()
		if set.For("HK").Covers(localTime(t, "Asia/Hong_Kong", "2026-06-01 12:00")) {
			t.Error("replaced HK calendar without dates covers 2026")
		}
	})
	t.Run("default unchanged", func(t *testing.T) {
		t.Parallel()
		if calendar.Default().For("HK").IsBusinessDay(localTime(t, "Asia/Hong_Kong", "2026-04-07 12:00")) {
			t.Error("Default() HK lost its 7 April 2026 holiday after LoadFile replaced HK")
		}
		if !calendar.Default().For("CN").IsBusinessDay(localTime(t, "Asia/Shanghai", "2026-02-14 12:00")) {
			t.Error("Default() CN lost its 14 February 2026 make-up day after LoadFile extended CN")
		}
	})
}

func TestLoadFileConfigErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		content    string
		wantFields []string // "REGION FIELD" of each *ConfigError, in order
		wantText   string   // part of the error message
	}{
		{
			name:       "unknown time zone",
			content:    `{"regions": {"US": {"time_zone": "America/New_Yrok"}}}`,
			wantFields: []string{"US time_zone"},
			wantText:   `region "US": time_zone: time zone "America/New_Yrok" not found`,
		},
		{
			name:       "missing time zone",
			content:    `{"regions": {"US": {"holidays": ["2026-07-03"]}}}`,
			wantFields: []string{"US time_zone"},
			wantText:   "missing",
		},
		{
			name:       "machine time zone",
			content:    `{"regions": {"US": {"time_zone": "Local"}}}`,
			wantFields: []string{"US time_zone"},
			wantText:   `"Local" depends on the machine`,
		},
		{
			name:       "time zone of wrong type",
			content:    `{"regions": {"US": {"time_zone": 5}}}`,
			wantFields: []string{"US time_zone"},
			wantText:   "cannot unmarshal number",
		},
		{
			name:       "nonexistent date",
			content:    `{"regions": {"US": {"time_zone": "UTC", "holidays": ["2026-07-03", "2026-02-30"]}}}`,
			wantFields: []string{"US holidays[1]"},
			wantText:   `region "US": holidays[1]: invalid date "2026-02-30"`,
		},
		{
			name:       "date in wrong format",
			content:    `{"regions": {"US": {"time_zone": "UTC", "holidays": ["07/03/2026"]}}}`,
			wantFields: []string{"US holidays[0]"},
			wantText:   "want an existing date as YYYY-MM-DD",
		},
		{
			name:       "bad working day date",
			content:    `{"regions": {"XA": {"time_zone": "UTC", "working_days": ["2026-13-01"]}}}`,
			wantFields: []string{"XA working_days[0]"},
			wantText:   `invalid date "2026-13-01"`,
		},
		{
			name:       "entry object without date",
			content:    `{"regions": {"US": {"time_zone": "UTC", "holidays": [{"name": "Christmas Day"}]}}}`,
			wantFields: []string{"US holidays[0]"},
			wantText:   `missing "date"`,
		},
		{
			name:       "entry of wrong type",
			content:    `{"regions": {"US": {"time_zone": "UTC", "holidays": [20260703]}}}`,
			wantFields: []string{"US holidays[0]"},
			wantText:   "invalid entry",
		},
		{
			name:       "entry object with unknown field",
			content:    `{"regions": {"US": {"time_zone": "UTC", "holidays": [{"date": "2026-07-03", "title": "x"}]}}}`,
			wantFields: []string{"US holidays[0]"},
			wantText:   `unknown field "title"`,
		},
		{
			name:       "unknown weekday",
			content:    `{"regions": {"US": {"time_zone": "UTC", "weekend": ["Saturday", "Sat"]}}}`,
			wantFields: []string{"US weekend[1]"},
			wantText:   `region "US": weekend[1]: unknown weekday "Sat"`,
		},
		{
			name: "weekend of seven days",
			content: `{"regions": {"US": {"time_zone": "UTC", "weekend":
				["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}}}`,
			wantFields: []string{"US weekend"},
			wantText:   "all seven days",
		},
		{
			name:       "working day on a weekday",
			content:    `{"regions": {"CN": {"time_zone": "Asia/Shanghai", "working_days": ["2026-02-16"]}}}`,
			wantFields: []string{"CN working_days[0]"},
			wantText:   "2026-02-16 is a Monday",
		},
		{
			name: "date in both lists",
			content: `{"regions": {"CN": {"time_zone": "Asia/Shanghai",
				"holidays": ["2026-02-14"], "working_days": ["2026-02-14"]}}}`,
			wantFields: []string{"CN working_days[0]"},
			wantText:   "also listed in holidays",
		},
		{
			name:       "extend without built-in calendar",
			content:    `{"regions": {"US": {"extend": true, "holidays": ["2026-07-03"]}}}`,
			wantFields: []string{"US extend"},
			wantText:   "no built-in calendar to extend",
		},
		{
			name:       "extend with time zone",
			content:    `{"regions": {"HK": {"extend": true, "time_zone": "Asia/Hong_Kong"}}}`,
			wantFields: []string{"HK time_zone"},
			wantText:   "not allowed with extend",
		},
		{
			name:       "extend with weekend",
			content:    `{"regions": {"HK": {"extend": true, "weekend": ["Sunday"]}}}`,
			wantFields: []string{"HK weekend"},
			wantText:   "not allowed with extend",
		},
		{
			name:       "extend working day on weekday that is no holiday",
			content:    `{"regions": {"HK": {"extend": true, "working_days": ["2026-04-08"]}}}`,
			wantFields: []string{"HK working_days[0]"},
			wantText:   "2026-04-08 is a Wednesday",
		},
		{
			name:       "lower-case region code",
			content:    `{"regions": {"hk": {"time_zone": "Asia/Hong_Kong"}}}`,
			wantFields: []string{"hk "},
			wantText:   "invalid region code",
		},
		{
			name:       "unknown region field",
			content:    `{"regions": {"US": {"time_zone": "UTC", "holiday": ["2026-07-03"]}}}`,
			wantFields: []string{"US "},
			wantText:   `region "US": json: unknown field "holiday"`,
		},
		{
			name: "errors in several regions and fields",
			content: `{"regions": {
				"US": {"time_zone": "Mars/Olympus", "holidays": ["2026-02-30"]},
				"CN": {"time_zone": "Asia/Shanghai", "weekend": ["Sonntag"]}}}`,
			wantFields: []string{"CN weekend[0]", "US time_zone", "US holidays[0]"},
			wantText:   `region "CN": weekend[0]`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tt.content)

			set, err := calendar.LoadFile(path)

			if err == nil {
				t.Fatal("LoadFile returned no error")
			}
			if set != nil {
				t.Error("LoadFile returned a Set together with an error")
			}
			if diff := cmp.Diff(tt.wantFields, configErrorFields(err)); diff != "" {
				t.Errorf("ConfigError fields mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
		})
	}
}

func TestLoadFileFileErrors(t *testing.T) {
	t.Parallel()

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		_, err := calendar.LoadFile(filepath.Join(t.TempDir(), "absent.json"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadFile error = %v, want one that wraps fs.ErrNotExist", err)
		}
	})

	t.Run("syntax error names line", func(t *testing.T) {
		t.Parallel()
		_, err := calendar.LoadFile(writeConfig(t, "{\n  \"regions\": {\n    \"US\": {,}\n  }\n}"))
		var syntaxErr *json.SyntaxError
		if !errors.As(err, &syntaxErr) {
			t.Fatalf("LoadFile error = %v, want one that wraps *json.SyntaxError", err)
		}
		if !strings.Contains(err.Error(), "line 3") {
			t.Errorf("error %q does not contain %q", err, "line 3")
		}
	})

	tests := []struct {
		name     string
		content  string
		wantText string
	}{
		{"missing regions", `{"note": "nothing"}`, `missing or empty "regions"`},
		{"empty regions", `{"regions": {}}`, `missing or empty "regions"`},
		{"unknown top-level field", `{"region": {}}`, `unknown field "region"`},
		{"trailing data", `{"regions": {"US": {"time_zone": "UTC"}}} {}`, "unexpected data after"},
		{"not an object", `["US"]`, "cannot unmarshal array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := calendar.LoadFile(writeConfig(t, tt.content))
			if err == nil {
				t.Fatal("LoadFile returned no error")
			}
			if set != nil {
				t.Error("LoadFile returned a Set together with an error")
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}
