package notifier

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"golang.org/x/text/language"
)

// Event is a change in an application's life that a notification reports.
type Event string

// Events of an application's life. Every event but EventEscalated goes to the
// account holder. EventEscalated goes to the reviewer leads (Level 1) or to
// operations (Level 2).
const (
	EventReceived              Event = "received"
	EventRejectedAutomatically Event = "rejected_automatically"
	EventApproved              Event = "approved"
	EventRejected              Event = "rejected"
	EventWithdrawn             Event = "withdrawn"
	EventReviewDelayed         Event = "review_delayed"
	EventEscalated             Event = "escalated"
)

// Events returns every event, in the order of an application's life.
func Events() []Event {
	return []Event{EventReceived, EventRejectedAutomatically, EventApproved, EventRejected,
		EventWithdrawn, EventReviewDelayed, EventEscalated}
}

// Data is the set of values that the templates show. It contains no personal
// data: no names, document numbers, addresses, emails or phone numbers.
type Data struct {
	// ApplicationID identifies the application. Required.
	ApplicationID string
	// Kind is "initial" or "change" (an identity change of a verified
	// account). Anything else reads as "initial".
	Kind string
	// SubjectType is "individual" or "organization". Anything else reads as
	// "individual".
	SubjectType string
	// Reasons are the reviewer's reason codes for EventRejected:
	// name_mismatch, photo_unreadable, address_incomplete, document_expired,
	// quota_exceeded, document_already_bound, other. Each is shown in plain
	// words, and an unknown code in a generic sentence with the code.
	Reasons []string
	// FailedChecks are the automatic check codes for
	// EventRejectedAutomatically, such as hkid_check_digit or
	// photo_unsupported_format. A code may be qualified by its form field, as
	// in "full_name:too_short", which matters for rule codes shared by several
	// fields. Each is shown in plain words, and an unknown code in a generic
	// sentence with the code.
	FailedChecks []string
	// ResubmitAllowed reports whether the account holder may submit a new
	// application.
	ResubmitAllowed bool
	// DueAt is when a decision is due, shown in UTC. The zero time hides it.
	DueAt time.Time
	// Level is the escalation level for EventEscalated: 1 (two business days
	// without a decision) or 2 (three business days, the deadline breached).
	Level int
	// Region is the application's registered region (ISO 3166-1 alpha-2),
	// shown in EventEscalated only.
	Region string
	// ConsoleURL is a link to the application in the console. Empty hides it.
	ConsoleURL string
}

// Content is one notification rendered for every channel.
type Content struct {
	// Subject is the email subject and the message-center title, in one line.
	Subject string
	// Text is the plain-text email body and the message-center body.
	Text string
	// HTML is the HTML email body, a complete document.
	HTML string
	// SMS is the text message, in one line that fits in 3 segments.
	SMS string
}

// Locale names, as Locales returns them.
const (
	LocaleEnglish            = "en"
	LocaleSimplifiedChinese  = "zh-Hans"
	LocaleTraditionalChinese = "zh-Hant"
)

// Locales returns the locales with templates: "en", "zh-Hans", "zh-Hant".
func Locales() []string {
	return []string{LocaleEnglish, LocaleSimplifiedChinese, LocaleTraditionalChinese}
}

var localeMatcher = language.NewMatcher([]language.Tag{
	language.English, language.SimplifiedChinese, language.TraditionalChinese,
})

// MatchLocale returns the template locale for an account's locale, which may
// be one BCP 47 tag or an Accept-Language list. Chinese written in simplified
// characters (zh, zh-CN, zh-SG, zh-Hans and its variants) gives "zh-Hans",
// and Chinese written in traditional characters (zh-TW, zh-HK, zh-MO, zh-Hant
// and its variants) gives "zh-Hant", as golang.org/x/text/language infers
// the script. Everything else, including an invalid tag and languages that
// the matcher only relates to Chinese with no confidence, such as Cantonese
// (yue), gives "en".
func MatchLocale(locale string) string {
	tags, _, err := language.ParseAcceptLanguage(locale)
	if err != nil || len(tags) == 0 {
		return LocaleEnglish
	}
	_, index, confidence := localeMatcher.Match(tags...)
	if confidence == language.No {
		return LocaleEnglish
	}
	return Locales()[index]
}

// Render fills the templates of ev in the locale that MatchLocale picks for
// locale. It returns an error for an unknown event, a missing ApplicationID,
// or an escalation Level other than 1 or 2.
func Render(ev Event, locale string, d Data) (Content, error) {
	set, err := loadTemplates()
	if err != nil {
		return Content{}, err
	}
	loc := MatchLocale(locale)
	tmpl, ok := set.byKey[templateKey{loc, ev}]
	if !ok {
		return Content{}, fmt.Errorf("render: unknown event %q", ev)
	}
	if d.ApplicationID == "" {
		return Content{}, fmt.Errorf("render %s: application id is missing", ev)
	}
	if ev == EventEscalated && d.Level != 1 && d.Level != 2 {
		return Content{}, fmt.Errorf("render %s for application %s: level %d is not 1 or 2", ev, d.ApplicationID, d.Level)
	}
	v := newView(loc, set.phrases[loc], d)

	var c Content
	c.Subject, err = executeText(tmpl.text, "subject", v)
	if err != nil {
		return Content{}, fmt.Errorf("render %s/%s subject: %w", loc, ev, err)
	}
	c.Subject = collapseSpaces(c.Subject)
	v.Subject = c.Subject

	if c.Text, err = executeText(tmpl.text, "text", v); err != nil {
		return Content{}, fmt.Errorf("render %s/%s text: %w", loc, ev, err)
	}
	c.Text = tidyLines(c.Text)

	if c.SMS, err = executeText(tmpl.text, "sms", v); err != nil {
		return Content{}, fmt.Errorf("render %s/%s sms: %w", loc, ev, err)
	}
	c.SMS = collapseSpaces(c.SMS)

	var html bytes.Buffer
	if err := tmpl.html.ExecuteTemplate(&html, "layout", v); err != nil {
		return Content{}, fmt.Errorf("render %s/%s html: %w", loc, ev, err)
	}
	c.HTML = tidyLines(html.String())
	return c, nil
}

// view is the value the templates see. Codes are already turned into
// sentences of the locale.
type view struct {
	Lang            string
	ApplicationID   string
	IsChange        bool
	IsOrganization  bool
	Reasons         []string
	FailedChecks    []string
	ResubmitAllowed bool
	DueAt           string
	Level           int
	Region          string
	ConsoleURL      string
	ConsoleLabel    string
	Footer          string
	Subject         string
}

func newView(loc string, p *phrases, d Data) *view {
	v := &view{
		Lang:            loc,
		ApplicationID:   d.ApplicationID,
		IsChange:        d.Kind == "change",
		IsOrganization:  d.SubjectType == "organization",
		ResubmitAllowed: d.ResubmitAllowed,
		Level:           d.Level,
		Region:          d.Region,
		ConsoleURL:      d.ConsoleURL,
		ConsoleLabel:    p.ConsoleLink,
		Footer:          p.Footer,
	}
	if !d.DueAt.IsZero() {
		v.DueAt = d.DueAt.UTC().Format(p.DateLayout)
	}
	for _, code := range d.Reasons {
		v.Reasons = append(v.Reasons, p.reason(code))
	}
	for _, code := range d.FailedChecks {
		v.FailedChecks = append(v.FailedChecks, p.check(code))
	}
	return v
}

func executeText(t *texttemplate.Template, name string, v *view) (string, error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

var (
	spaceRun     = regexp.MustCompile(`\s+`)
	blankLineRun = regexp.MustCompile(`\n{3,}`)
)

// collapseSpaces turns a template's output into one line, so templates may
// wrap long subjects and SMS texts.
func collapseSpaces(s string) string {
	return strings.TrimSpace(spaceRun.ReplaceAllString(s, " "))
}

// tidyLines trims trailing spaces from each line and keeps at most one blank
// line in a row, so templates may use blank lines around actions.
func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRight(line, " \t\r")
	}
	s = strings.Join(lines, "\n")
	s = blankLineRun.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s) + "\n"
}

//go:embed templates
var templateFS embed.FS

type templateKey struct {
	locale string
	event  Event
}

type eventTemplates struct {
	text *texttemplate.Template // defines "subject", "text" and "sms"
	html *htmltemplate.Template // defines "layout" and "content"
}

type templateSet struct {
	byKey   map[templateKey]eventTemplates
	phrases map[string]*phrases
}

// loadTemplates parses every embedded template once.
var loadTemplates = sync.OnceValues(func() (*templateSet, error) {
	set := &templateSet{
		byKey:   make(map[templateKey]eventTemplates),
		phrases: make(map[string]*phrases),
	}
	for _, loc := range Locales() {
		p, err := loadPhrases(loc)
		if err != nil {
			return nil, err
		}
		set.phrases[loc] = p

		for _, ev := range Events() {
			text, err := texttemplate.New("").Option("missingkey=error").ParseFS(templateFS,
				"templates/"+loc+"/common.txt.tmpl", "templates/"+loc+"/"+string(ev)+".txt.tmpl")
			if err != nil {
				return nil, fmt.Errorf("parse text templates of %s/%s: %w", loc, ev, err)
			}
			html, err := htmltemplate.New("").Option("missingkey=error").ParseFS(templateFS,
				"templates/layout.html.tmpl", "templates/"+loc+"/"+string(ev)+".html.tmpl")
			if err != nil {
				return nil, fmt.Errorf("parse html templates of %s/%s: %w", loc, ev, err)
			}
			for _, name := range []string{"subject", "text", "sms"} {
				if text.Lookup(name) == nil {
					return nil, fmt.Errorf("text templates of %s/%s do not define %q", loc, ev, name)
				}
			}
			if html.Lookup("content") == nil {
				return nil, fmt.Errorf("html template of %s/%s does not define \"content\"", loc, ev)
			}
			set.byKey[templateKey{loc, ev}] = eventTemplates{text: text, html: html}
		}
	}
	return set, nil
})

// phrases are the sentences of one locale that are not part of a template:
// the words for reason and check codes, the footer and the date layout.
// They live in templates/<locale>/phrases.json.
type phrases struct {
	// Footer closes every HTML email.
	Footer string `json:"footer"`
	// ConsoleLink is the text of the console link in HTML emails.
	ConsoleLink string `json:"console_link"`
	// DateLayout is a time.Format layout for dates, which are shown in UTC.
	DateLayout string `json:"date_layout"`
	// Reasons maps a reviewer's reason code to a sentence.
	Reasons map[string]string `json:"reasons"`
	// ReasonUnknown is the sentence for an unknown reason code, with %s for
	// the code.
	ReasonUnknown string `json:"reason_unknown"`
	// Checks maps an automatic check code to a sentence.
	Checks map[string]string `json:"checks"`
	// Fields maps a form field to its name, for rule codes shared by fields.
	Fields map[string]string `json:"fields"`
	// Rules maps a rule code shared by fields, such as too_short, to the
	// words that follow the field's name.
	Rules map[string]string `json:"rules"`
	// FieldRule joins a field name (first %s) and a rule (second %s).
	FieldRule string `json:"field_rule"`
	// CheckUnknown is the sentence for an unknown check code, with %s for the
	// code.
	CheckUnknown string `json:"check_unknown"`
}

func loadPhrases(loc string) (*phrases, error) {
	raw, err := templateFS.ReadFile("templates/" + loc + "/phrases.json")
	if err != nil {
		return nil, fmt.Errorf("read phrases of %s: %w", loc, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p phrases
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse phrases of %s: %w", loc, err)
	}
	if p.Footer == "" || p.ConsoleLink == "" || p.DateLayout == "" {
		return nil, fmt.Errorf("phrases of %s: footer, console_link or date_layout is missing", loc)
	}
	// Each pattern is used with fmt.Sprintf and a fixed number of strings.
	patterns := []struct {
		name, pattern string
		args          int
	}{
		{"reason_unknown", p.ReasonUnknown, 1},
		{"check_unknown", p.CheckUnknown, 1},
		{"field_rule", p.FieldRule, 2},
	}
	for _, pt := range patterns {
		if strings.Count(pt.pattern, "%s") != pt.args || strings.Count(pt.pattern, "%") != pt.args {
			return nil, fmt.Errorf("phrases of %s: %s must contain %%s exactly %d times and no other %%", loc, pt.name, pt.args)
		}
	}
	return &p, nil
}

// reason returns the sentence for a reviewer's reason code.
func (p *phrases) reason(code string) string {
	if s, ok := p.Reasons[code]; ok {
		return s
	}
	return fmt.Sprintf(p.ReasonUnknown, code)
}

// check returns the sentence for an automatic check code, given as "code" or
// "field:code". A code with its own sentence wins over the field's name.
func (p *phrases) check(qualified string) string {
	field, code, hasField := strings.Cut(qualified, ":")
	if !hasField {
		code = field
	}
	if s, ok := p.Checks[code]; ok {
		return s
	}
	if hasField {
		name, knownField := p.Fields[field]
		rule, knownRule := p.Rules[code]
		if knownField && knownRule {
			return fmt.Sprintf(p.FieldRule, name, rule)
		}
	}
	return fmt.Sprintf(p.CheckUnknown, qualified)
}
