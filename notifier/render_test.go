package notifier_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/notifier"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenCase is one rendering kept under testdata/golden/<name>/.
type goldenCase struct {
	name string
	ev   notifier.Event
	data notifier.Data
}

var (
	sampleDue = time.Date(2025, time.March, 12, 9, 30, 0, 0, time.UTC)
	// sampleID is as long as a UUID, so the SMS length checks cover a long id.
	sampleID = "0b6f7c2e-4d1a-4f5e-9c3b-8a2d1e0f7a6c"
)

// goldenCases covers every event, plus the branches that change the wording:
// identity changes, organizations, level 2 and unknown codes.
func goldenCases() []goldenCase {
	base := notifier.Data{
		ApplicationID: sampleID,
		Kind:          "initial",
		SubjectType:   "individual",
		ConsoleURL:    "https://console.example.com/verification/" + sampleID,
	}
	with := func(change func(*notifier.Data)) notifier.Data {
		d := base
		change(&d)
		return d
	}
	return []goldenCase{
		{"received", notifier.EventReceived, with(func(d *notifier.Data) { d.DueAt = sampleDue })},
		{"received_change_organization", notifier.EventReceived, with(func(d *notifier.Data) {
			d.Kind, d.SubjectType, d.ConsoleURL = "change", "organization", ""
		})},
		{"rejected_automatically", notifier.EventRejectedAutomatically, with(func(d *notifier.Data) {
			d.FailedChecks = []string{"hkid_check_digit", "photo_unsupported_format",
				"full_name:too_short", "address:brand_new_rule", "brand_new_check"}
			d.ResubmitAllowed = true
		})},
		{"rejected_automatically_change", notifier.EventRejectedAutomatically, with(func(d *notifier.Data) {
			d.Kind = "change"
			d.FailedChecks = []string{"document_already_bound"}
		})},
		{"approved", notifier.EventApproved, base},
		{"approved_change_organization", notifier.EventApproved, with(func(d *notifier.Data) {
			d.Kind, d.SubjectType = "change", "organization"
		})},
		{"rejected", notifier.EventRejected, with(func(d *notifier.Data) {
			d.Reasons = []string{"name_mismatch", "photo_unreadable", "address_incomplete",
				"document_expired", "quota_exceeded", "document_already_bound", "other", "brand_new_reason"}
			d.ResubmitAllowed = true
		})},
		{"rejected_change", notifier.EventRejected, with(func(d *notifier.Data) {
			d.Kind, d.SubjectType = "change", "organization"
			d.Reasons = []string{"quota_exceeded"}
		})},
		{"withdrawn", notifier.EventWithdrawn, with(func(d *notifier.Data) { d.ResubmitAllowed = true })},
		{"review_delayed", notifier.EventReviewDelayed, with(func(d *notifier.Data) { d.DueAt = sampleDue })},
		{"escalated_level1", notifier.EventEscalated, with(func(d *notifier.Data) {
			d.Level, d.Region, d.DueAt = 1, "HK", sampleDue
			d.ConsoleURL = "https://review.example.com/applications/" + sampleID
		})},
		{"escalated_level2", notifier.EventEscalated, with(func(d *notifier.Data) {
			d.Level, d.Region, d.DueAt = 2, "CN", sampleDue
			d.Kind, d.SubjectType = "change", "organization"
		})},
	}
}

func TestRenderGolden(t *testing.T) {
	covered := make(map[notifier.Event]bool)
	for _, gc := range goldenCases() {
		covered[gc.ev] = true
		for _, loc := range notifier.Locales() {
			t.Run(gc.name+"/"+loc, func(t *testing.T) {
				got, err := notifier.Render(gc.ev, loc, gc.data)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				parts := []struct{ file, content string }{
					{loc + ".subject.txt", got.Subject},
					{loc + ".text.txt", got.Text},
					{loc + ".html", got.HTML},
					{loc + ".sms.txt", got.SMS},
				}
				for _, part := range parts {
					checkGolden(t, filepath.Join("testdata", "golden", gc.name, part.file), part.content)
				}
			})
		}
	}
	for _, ev := range notifier.Events() {
		if !covered[ev] {
			t.Errorf("event %s has no golden case", ev)
		}
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./notifier -run TestRenderGolden -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestRenderSMSFitsThreeSegments(t *testing.T) {
	for _, gc := range goldenCases() {
		for _, loc := range notifier.Locales() {
			c, err := notifier.Render(gc.ev, loc, gc.data)
			if err != nil {
				t.Fatalf("%s/%s: Render: %v", gc.name, loc, err)
			}
			encoding, segments := notifier.Segments(c.SMS)
			if segments < 1 || segments > 3 {
				t.Errorf("%s/%s: SMS takes %d %s segments, want 1-3: %q", gc.name, loc, segments, encoding, c.SMS)
			}
			if loc == notifier.LocaleEnglish && encoding != notifier.EncodingGSM7 {
				t.Errorf("%s/%s: English SMS encoding = %s, want GSM-7 (a character outside GSM 03.38 slipped in): %q",
					gc.name, loc, encoding, c.SMS)
			}
		}
	}
}

func TestRenderOneLineParts(t *testing.T) {
	for _, gc := range goldenCases() {
		for _, loc := range notifier.Locales() {
			c, err := notifier.Render(gc.ev, loc, gc.data)
			if err != nil {
				t.Fatalf("%s/%s: Render: %v", gc.name, loc, err)
			}
			for part, s := range map[string]string{"subject": c.Subject, "sms": c.SMS} {
				if s == "" || strings.ContainsAny(s, "\r\n\t") || s != strings.TrimSpace(s) {
					t.Errorf("%s/%s: %s = %q, want one non-empty trimmed line", gc.name, loc, part, s)
				}
			}
			if !strings.Contains(c.Text, gc.data.ApplicationID) {
				t.Errorf("%s/%s: text does not name the application id", gc.name, loc)
			}
		}
	}
}

func TestRenderMatchesLocale(t *testing.T) {
	d := notifier.Data{ApplicationID: "app-1"}
	want := map[string]string{}
	for _, loc := range notifier.Locales() {
		c, err := notifier.Render(notifier.EventApproved, loc, d)
		if err != nil {
			t.Fatalf("Render(%s): %v", loc, err)
		}
		want[loc] = c.Subject
	}

	tests := []struct{ locale, want string }{
		{"zh-CN", "zh-Hans"},
		{"zh-HK", "zh-Hant"},
		{"fr-FR", "en"},
		{"", "en"},
	}
	for _, tt := range tests {
		c, err := notifier.Render(notifier.EventApproved, tt.locale, d)
		if err != nil {
			t.Fatalf("Render(%q): %v", tt.locale, err)
		}
		if diff := cmp.Diff(want[tt.want], c.Subject); diff != "" {
			t.Errorf("Render(%q) subject mismatch (-want +got):\n%s", tt.locale, diff)
		}
	}
}

func TestMatchLocale(t *testing.T) {
	tests := []struct{ locale, want string }{
		{"", "en"},
		{"en", "en"},
		{"en-GB", "en"},
		{"fr", "en"},
		{"ja-JP", "en"},
		{"not a tag!", "en"},
		{"yue-HK", "en"},
		{"zh", "zh-Hans"},
		{"zh-CN", "zh-Hans"},
		{"zh-SG", "zh-Hans"},
		{"zh-Hans", "zh-Hans"},
		{"zh-Hans-HK", "zh-Hans"},
		{"zh-TW", "zh-Hant"},
		{"zh-HK", "zh-Hant"},
		{"zh-MO", "zh-Hant"},
		{"zh-Hant", "zh-Hant"},
		{"zh-Hant-CN", "zh-Hant"},
		{"zh_TW", "zh-Hant"},
		{"ZH-hk", "zh-Hant"},
		{"de-CH, zh-HK;q=0.5", "zh-Hant"},
	}
	for _, tt := range tests {
		if got := notifier.MatchLocale(tt.locale); got != tt.want {
			t.Errorf("MatchLocale(%q) = %q, want %q", tt.locale, got, tt.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		ev   notifier.Event
		data notifier.Data
	}{
		{"unknown event", notifier.Event("archived"), notifier.Data{ApplicationID: "app-1"}},
		{"missing application id", notifier.EventApproved, notifier.Data{}},
		{"escalation level 0", notifier.EventEscalated, notifier.Data{ApplicationID: "app-1"}},
		{"escalation level 3", notifier.EventEscalated, notifier.Data{ApplicationID: "app-1", Level: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := notifier.Render(tt.ev, "en", tt.data); err == nil {
				t.Errorf("Render(%q) returned no error", tt.ev)
			}
		})
	}
}

func TestRenderHTMLEscapes(t *testing.T) {
	d := notifier.Data{
		ApplicationID: `<script>alert("x")</script>`,
		ConsoleURL:    "javascript:alert(1)",
		FailedChecks:  []string{"<b>new</b>"},
	}
	c, err := notifier.Render(notifier.EventRejectedAutomatically, "en", d)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	for _, bad := range []string{"<script>", "javascript:", "<b>new</b>"} {
		if strings.Contains(c.HTML, bad) {
			t.Errorf("HTML contains %q unescaped", bad)
		}
	}
	if !strings.Contains(c.HTML, "&lt;script&gt;") {
		t.Errorf("HTML does not contain the escaped application id")
	}
}

func TestRenderUnknownCodes(t *testing.T) {
	tests := []struct {
		ev   notifier.Event
		data notifier.Data
		want string
	}{
		{notifier.EventRejected, notifier.Data{ApplicationID: "a", Reasons: []string{"brand_new_reason"}},
			"The reviewer found a problem (code brand_new_reason)."},
		{notifier.EventRejectedAutomatically, notifier.Data{ApplicationID: "a", FailedChecks: []string{"brand_new_check"}},
			"An automatic check failed (code brand_new_check)."},
		{notifier.EventRejectedAutomatically, notifier.Data{ApplicationID: "a", FailedChecks: []string{"full_name:too_short"}},
			"Full name is too short."},
		{notifier.EventRejectedAutomatically, notifier.Data{ApplicationID: "a", FailedChecks: []string{"document_number:hkid_check_digit"}},
			"The check digit of the Hong Kong identity card number is wrong."},
		{notifier.EventRejectedAutomatically, notifier.Data{ApplicationID: "a", FailedChecks: []string{"unknown_field:too_short"}},
			"An automatic check failed (code unknown_field:too_short)."},
	}
	for _, tt := range tests {
		c, err := notifier.Render(tt.ev, "en", tt.data)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if !strings.Contains(c.Text, tt.want) {
			t.Errorf("Render(%s, %v %v) text lacks %q:\n%s", tt.ev, tt.data.Reasons, tt.data.FailedChecks, tt.want, c.Text)
		}
	}
}
