package identity

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Length limits in characters, counted as Unicode code points after NFC.
const (
	minNameLength           = 2
	maxNameLength           = 100
	minAddressLength        = 5
	maxAddressLength        = 255
	minEnterpriseNameLength = 2
	maxEnterpriseNameLength = 200
)

// nameMarkup lists the characters that full_name rejects as markup, because
// they start or quote HTML and XML syntax.
const nameMarkup = "<>&\"`"

// nameSeparators lists the punctuation allowed in full_name besides letters,
// combining marks and spaces: straight and curly apostrophes, hyphen, period,
// comma, and the middle dots U+00B7 and U+30FB. The Hawaiian okina U+02BB is
// a modifier letter, so unicode.IsLetter already accepts it.
const nameSeparators = "'’-.,·・"

// NameKey returns the form of s used to compare names, for example in the
// ICP filing check: NFC-normalized, trimmed, and with each run of white space
// collapsed to one U+0020 space. Case, punctuation and script are kept, so the
// comparison is otherwise exact.
func NameKey(s string) string {
	return normalizeText(s)
}

// normalizeText applies NFC, collapses runs of white space to one space and
// trims the result.
func normalizeText(s string) string {
	return collapseSpaces(norm.NFC.String(s))
}

func collapseSpaces(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// isControl reports whether r is a C0 or C1 control character or DEL, a line
// or paragraph separator (U+2028, U+2029), or a bidirectional embedding,
// override or isolate control (U+202A–U+202E, U+2066–U+2069). The
// bidirectional controls can make displayed text differ from stored text.
func isControl(r rune) bool {
	switch {
	case unicode.Is(unicode.Cc, r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202A' && r <= '\u202E':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

func containsControl(s string) bool {
	return strings.IndexFunc(s, isControl) >= 0
}

// checkLength adds too_short or too_long when the code point count of s is
// outside [minLength, maxLength].
func checkLength(vs *violations, field, s string, minLength, maxLength int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLength:
		vs.add(field, CodeTooShort, field+" must be at least "+strconv.Itoa(minLength)+" characters long.")
	case n > maxLength:
		vs.add(field, CodeTooLong, field+" must be at most "+strconv.Itoa(maxLength)+" characters long.")
	}
}

// validateFullName checks a person's name and returns its normalized form.
func validateFullName(vs *violations, raw string) string {
	const field = FieldFullName
	if !utf8.ValidString(raw) {
		vs.add(field, CodeInvalidUTF8, "full_name must be valid UTF-8 text.")
		return ""
	}

	// Controls are checked before spaces are collapsed, because a tab or a
	// line separator is also white space and would otherwise disappear.
	nfc := norm.NFC.String(raw)
	name := collapseSpaces(nfc)
	if name == "" {
		vs.add(field, CodeRequired, "full_name is required: enter the name as it appears on the document.")
		return ""
	}
	if containsControl(nfc) {
		vs.add(field, CodeControlCharacters, "full_name must not contain control characters or line breaks.")
	}

	var letters, digits int
	runes := []rune(name)
	for i, r := range runes {
		switch {
		case (r == '\u200C' || r == '\u200D') && i > 0 && i < len(runes)-1 &&
			usesJoiners(runes[i-1]) && usesJoiners(runes[i+1]):
			// Zero width non-joiner and joiner between letters of scripts
			// that shape with them, as Persian and Indic names do.
		case isControl(r):
			// Reported above.
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		case unicode.In(r, unicode.Mn, unicode.Mc):
			// Combining marks, as used by Thai, Devanagari or decomposed accents.
		case r == ' ' || strings.ContainsRune(nameSeparators, r):
		case strings.ContainsRune(nameMarkup, r):
			vs.add(field, CodeMarkup, "full_name must not contain markup characters such as < > & \" or `.")
		default:
			vs.add(field, CodeInvalidCharacters, "full_name may contain only letters, spaces, apostrophes, hyphens, periods, commas and middle dots.")
		}
	}

	switch {
	case letters == 0 && digits > 0:
		vs.add(field, CodeDigitsOnly, "full_name must be a name written in letters, not a number.")
	case digits > 0:
		vs.add(field, CodeContainsDigits, "full_name must not contain digits.")
	case letters == 0:
		vs.add(field, CodeNoLetters, "full_name must contain letters.")
	}
	checkLength(vs, field, name, minNameLength, maxNameLength)
	return name
}

// validateAddress checks a postal address and returns its normalized form.
// Any printable character is allowed, including emoji and characters outside
// the Basic Multilingual Plane. Line breaks are control characters, so a
// multi-line address must be sent on one line.
func validateAddress(vs *violations, field, raw string) string {
	if !utf8.ValidString(raw) {
		vs.add(field, CodeInvalidUTF8, field+" must be valid UTF-8 text.")
		return ""
	}
	nfc := norm.NFC.String(raw)
	address := collapseSpaces(nfc)
	if address == "" {
		vs.add(field, CodeRequired, field+" is required: enter the complete address.")
		return ""
	}
	if containsControl(nfc) {
		vs.add(field, CodeControlCharacters, field+" must not contain control characters or line breaks; separate address lines with commas.")
	}
	checkLength(vs, field, address, minAddressLength, maxAddressLength)
	return address
}

// validateEnterpriseName checks an enterprise name and returns it trimmed but
// otherwise as given. Digits and most punctuation are allowed, and so is a
// bare ampersand ("Marks & Spencer"). Tags and character references such as
// "&lt;" count as markup.
func validateEnterpriseName(vs *violations, raw string) string {
	const field = FieldEnterpriseName
	if !utf8.ValidString(raw) {
		vs.add(field, CodeInvalidUTF8, "enterprise_name must be valid UTF-8 text.")
		return ""
	}
	name := strings.TrimSpace(raw)
	if name == "" {
		vs.add(field, CodeRequired, "enterprise_name is required: enter the name exactly as on the registration certificate.")
		return ""
	}
	if containsControl(name) {
		vs.add(field, CodeControlCharacters, "enterprise_name must not contain control characters or line breaks.")
	}
	if strings.ContainsAny(name, "<>") || containsCharacterReference(name) {
		vs.add(field, CodeMarkup, "enterprise_name must not contain markup such as < > or character references like &amp;.")
	}
	checkLength(vs, field, norm.NFC.String(name), minEnterpriseNameLength, maxEnterpriseNameLength)
	return name
}

// containsCharacterReference reports whether s contains an HTML character
// reference: "&" followed by a name, "#digits" or "#x" and hex digits, and ";".
func containsCharacterReference(s string) bool {
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			return false
		}
		s = s[i+1:]
		end := strings.IndexByte(s, ';')
		if end > 0 && isReferenceBody(s[:end]) {
			return true
		}
	}
}

func isReferenceBody(body string) bool {
	isDigit := func(r rune) bool { return r >= '0' && r <= '9' }
	isHex := func(r rune) bool { return isDigit(r) || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F') }
	isAlnum := func(r rune) bool { return isDigit(r) || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
	all := func(s string, f func(rune) bool) bool {
		return s != "" && strings.IndexFunc(s, func(r rune) bool { return !f(r) }) < 0
	}

	switch {
	case strings.HasPrefix(body, "#x") || strings.HasPrefix(body, "#X"):
		return all(body[2:], isHex)
	case strings.HasPrefix(body, "#"):
		return all(body[1:], isDigit)
	default:
		return all(body, isAlnum) && !isDigit(rune(body[0]))
	}
}

// Mask returns a hint of s that hides most of it, such as "E1****78": the
// first two and last two characters around "****" when s has at least six
// characters, otherwise the first character and "****". It returns "" for an
// empty s. Characters are counted after NFC as a base code point with its
// combining marks, emoji modifiers and zero-width-joiner sequences, so a mark
// is never split from its base in any script.
func Mask(s string) string {
	chars := splitCharacters(norm.NFC.String(s))
	n := len(chars)
	switch {
	case n == 0:
		return ""
	case n >= 6:
		return chars[0] + chars[1] + "****" + chars[n-2] + chars[n-1]
	default:
		return chars[0] + "****"
	}
}

// splitCharacters splits s into user-perceived characters. It approximates
// Unicode grapheme clusters by attaching combining marks (Mn, Mc, Me), emoji
// modifiers (U+1F3FB–U+1F3FF) and the code point after a zero width joiner
// (U+200D) to the preceding code point.
func splitCharacters(s string) []string {
	var chars []string
	start := -1
	joinNext := false
	for i, r := range s {
		extends := joinNext ||
			unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me) ||
			(r >= 0x1F3FB && r <= 0x1F3FF) ||
			r == '\u200D'
		joinNext = r == '\u200D'
		if extends && start >= 0 {
			continue
		}
		if start >= 0 {
			chars = append(chars, s[start:i])
		}
		start = i
	}
	if start >= 0 {
		chars = append(chars, s[start:])
	}
	return chars
}

// joinerScripts are the scripts whose spelling uses U+200C and U+200D.
// In other scripts the two are invisible and only make equal-looking names
// differ, so they stay rejected.
var joinerScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati,
	unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala,
	unicode.Myanmar, unicode.Khmer,
}

func usesJoiners(r rune) bool {
	return (unicode.IsLetter(r) || unicode.In(r, unicode.Mn, unicode.Mc)) && unicode.In(r, joinerScripts...)
}
