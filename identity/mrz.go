package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// mrzLineLength is the length of each of the two lines of a TD3 (passport)
// machine-readable zone, per ICAO Doc 9303 Part 4.
const mrzLineLength = 44

// Field positions in TD3 line 2, per ICAO Doc 9303 Part 4: start and end
// (exclusive) of each field, and the position of its check digit.
const (
	mrzNumberStart, mrzNumberEnd, mrzNumberCheck       = 0, 9, 9
	mrzBirthStart, mrzBirthEnd, mrzBirthCheck          = 13, 19, 19
	mrzExpiryStart, mrzExpiryEnd, mrzExpiryCheck       = 21, 27, 27
	mrzPersonalStart, mrzPersonalEnd, mrzPersonalCheck = 28, 42, 42
	mrzCompositeCheck                                  = 43
)

// mrzNameStart is the offset of the name field in TD3 line 1, after the
// document code (2 characters) and the issuing state (3 characters).
const mrzNameStart = 5

// MRZCheckDigit returns the ICAO 9303 check digit ('0'-'9') of an MRZ field:
// characters are worth 0-9 (digits), 10-35 (A-Z) or 0 (the filler "<"), they
// are weighted 7, 3, 1 repeating, and the digit is the sum modulo 10. It
// returns 0 when field contains any other character.
func MRZCheckDigit(field string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(field); i++ {
		c := field[i]
		var value int
		switch {
		case isASCIIDigit(c):
			value = int(c - '0')
		case isASCIIUpper(c):
			value = int(c-'A') + 10
		case c == '<':
			value = 0
		default:
			return 0
		}
		sum += value * weights[i%3]
	}
	return byte('0' + sum%10)
}

// parseMRZ splits a TD3 MRZ into its two lines. It accepts the lines
// separated by "\n" or "\r\n", or concatenated into 88 characters, and
// ignores surrounding white space and letter case. ok is false unless both
// lines are 44 characters of A-Z, 0-9 and "<" and line 1 starts with the
// passport document code "P".
func parseMRZ(raw string) (line1, line2 string, ok bool) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	var lines []string
	if strings.Contains(s, "\n") {
		lines = strings.Split(s, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
	} else if len(s) == 2*mrzLineLength {
		lines = []string{s[:mrzLineLength], s[mrzLineLength:]}
	}
	if len(lines) != 2 {
		return "", "", false
	}

	isMRZChar := func(c byte) bool { return isUpperAlnum(c) || c == '<' }
	for _, line := range lines {
		if len(line) != mrzLineLength || !allBytes(line, isMRZChar) {
			return "", "", false
		}
	}
	if lines[0][0] != 'P' {
		return "", "", false
	}
	return lines[0], lines[1], true
}

// validateMRZ checks an optional passport MRZ against ICAO 9303 check digits
// and against the form's normalized passport number and full name. It
// returns the MRZ as two lines joined by "\n", or "" when raw is blank.
func validateMRZ(vs *violations, docType, raw, number, fullName string) string {
	const field = FieldMRZ
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	if docType == "" {
		// The document type is missing or invalid and reported as such, so
		// whether an MRZ applies is unknown.
		return strings.TrimSpace(raw)
	}
	if docType != DocumentPassport {
		vs.add(field, CodeMRZNotApplicable, "mrz is accepted only for passports: remove it or choose document_type passport.")
		return ""
	}
	if !utf8.ValidString(raw) {
		vs.add(field, CodeInvalidUTF8, "mrz must be valid UTF-8 text.")
		return ""
	}
	line1, line2, ok := parseMRZ(raw)
	if !ok {
		vs.add(field, CodeMRZFormat, "mrz must be the two 44-character lines of a passport machine-readable zone (TD3), starting with P, using only A-Z, 0-9 and <.")
		return strings.TrimSpace(raw)
	}

	checks := []struct {
		data  string
		check byte
		code  string
		name  string
	}{
		{line2[mrzNumberStart:mrzNumberEnd], line2[mrzNumberCheck], CodeMRZCheckDigitDocumentNumber, "document number"},
		{line2[mrzBirthStart:mrzBirthEnd], line2[mrzBirthCheck], CodeMRZCheckDigitBirthDate, "birth date"},
		{line2[mrzExpiryStart:mrzExpiryEnd], line2[mrzExpiryCheck], CodeMRZCheckDigitExpiryDate, "expiry date"},
		{line2[mrzPersonalStart:mrzPersonalEnd], line2[mrzPersonalCheck], CodeMRZCheckDigitPersonalNumber, "personal number"},
		{line2[mrzNumberStart:mrzNumberCheck+1] + line2[mrzBirthStart:mrzBirthCheck+1] + line2[mrzExpiryStart:mrzCompositeCheck], line2[mrzCompositeCheck], CodeMRZCheckDigitComposite, "composite"},
	}
	for _, c := range checks {
		// ICAO 9303 allows "<" as the personal number check digit when the
		// personal number field is all fillers.
		if c.code == CodeMRZCheckDigitPersonalNumber && c.check == '<' && strings.Trim(c.data, "<") == "" {
			continue
		}
		if MRZCheckDigit(c.data) != c.check {
			vs.add(field, c.code, "mrz has a wrong "+c.name+" check digit: copy the machine-readable zone again from the passport data page.")
		}
	}

	mrzNumber := strings.TrimRight(line2[mrzNumberStart:mrzNumberEnd], "<")
	if number != "" && mrzNumber != number {
		vs.add(field, CodeMRZNumberMismatch, "mrz document number does not match document_number: check both against the passport.")
	}
	if fullName != "" && !mrzNameMatches(line1[mrzNameStart:], fullName) {
		vs.add(field, CodeMRZNameMismatch, "mrz name does not match full_name: enter full_name in Latin letters as printed on the passport data page.")
	}
	return line1 + "\n" + line2
}

// mrzNameMatches compares the TD3 name field (primary identifier, "<<", and
// secondary identifiers, with "<" between words) with a form name.
//
// The comparison is on name parts and ignores their order, because forms
// often put given names first while the MRZ puts the surname first. The form
// name is transliterated to A-Z with the ICAO 9303 Part 3 table. Diacritics
// are dropped, and Ä, Å, Ö, Ü and Ñ may take any of their transliterations.
// Ligatures and letters such as ß, Æ and Ø are expanded. Apostrophes are
// dropped, and spaces, hyphens, commas, periods and middle dots separate
// parts. Each MRZ part must equal a different form part and no form part may
// be left over. When the name field is full (its last character is not "<"),
// the MRZ name may be truncated: the last MRZ part may be a prefix of its form
// part and form parts may be left over.
//
// NOTE: a form name in a script that has no ICAO Latin transliteration here,
// such as Chinese or Cyrillic, never matches. Truncation of given names to
// initials is not recognised.
func mrzNameMatches(nameField, fullName string) bool {
	mrzParts := strings.FieldsFunc(nameField, func(r rune) bool { return r == '<' })
	formParts, ok := transliterateName(fullName)
	if !ok || len(mrzParts) == 0 {
		return false
	}
	truncated := nameField[len(nameField)-1] != '<'
	if len(mrzParts) > len(formParts) || (!truncated && len(mrzParts) != len(formParts)) {
		return false
	}

	canPair := func(i, j int) bool {
		prefixAllowed := truncated && i == len(mrzParts)-1
		for _, candidate := range formParts[j] {
			if candidate == mrzParts[i] || (prefixAllowed && strings.HasPrefix(candidate, mrzParts[i])) {
				return true
			}
		}
		return false
	}
	return matchAll(len(mrzParts), len(formParts), canPair)
}

// matchAll reports whether each of n left items can be paired with a
// different one of m right items, using Kuhn's augmenting path algorithm.
func matchAll(n, m int, canPair func(i, j int) bool) bool {
	pairOf := make([]int, m)
	for j := range pairOf {
		pairOf[j] = -1
	}
	var augment func(i int, visited []bool) bool
	augment = func(i int, visited []bool) bool {
		for j := 0; j < m; j++ {
			if visited[j] || !canPair(i, j) {
				continue
			}
			visited[j] = true
			if pairOf[j] < 0 || augment(pairOf[j], visited) {
				pairOf[j] = i
				return true
			}
		}
		return false
	}
	for i := 0; i < n; i++ {
		if !augment(i, make([]bool, m)) {
			return false
		}
	}
	return true
}

// icaoAlternatives lists letters that ICAO 9303 Part 3 transliterates in
// more than one way.
var icaoAlternatives = map[rune][]string{
	'Ä': {"AE", "A"},
	'Å': {"AA", "A"},
	'Ö': {"OE", "O"},
	'Ü': {"UE", "UXX", "U"},
	'Ñ': {"N", "NXX"},
}

// icaoExpansions lists letters that ICAO 9303 Part 3 transliterates to
// something other than their base letter without diacritics.
var icaoExpansions = map[rune]string{
	'Æ': "AE", 'Œ': "OE", 'Ø': "OE", 'Þ': "TH", 'ß': "SS", 'ẞ': "SS", 'Ĳ': "IJ",
	'Ð': "D", 'Đ': "D", 'Ħ': "H", 'ı': "I", 'Ł': "L", 'Ŀ': "L", 'Ŋ': "N", 'Ŧ': "T",
}

// maxNameVariants caps the transliterations kept for one name part, so a
// name full of letters with alternatives cannot grow the work exponentially.
const maxNameVariants = 64

// transliterateName splits a form name into parts and returns, for each
// part, its possible MRZ spellings in A-Z. ok is false when a letter has no
// transliteration.
func transliterateName(name string) (parts [][]string, ok bool) {
	current := []string{""}
	flush := func() {
		if current[0] != "" {
			parts = append(parts, current)
		}
		current = []string{""}
	}

	for _, r := range norm.NFC.String(name) {
		switch {
		case unicode.IsSpace(r) || strings.ContainsRune("-,.·・", r):
			flush()
			continue
		case strings.ContainsRune("'’ʻʼ", r):
			continue
		}
		options, ok := transliterateRune(r)
		if !ok {
			return nil, false
		}
		if len(current)*len(options) > maxNameVariants {
			options = options[:1]
		}
		next := make([]string, 0, len(current)*len(options))
		for _, prefix := range current {
			for _, option := range options {
				next = append(next, prefix+option)
			}
		}
		current = next
	}
	flush()
	return parts, true
}

// transliterateRune returns the ICAO spellings of one letter or combining
// mark. A combining mark has the single spelling "".
func transliterateRune(r rune) ([]string, bool) {
	upper := unicode.ToUpper(r)
	if alternatives, found := icaoAlternatives[upper]; found {
		return alternatives, true
	}
	if expansion, found := icaoExpansions[upper]; found {
		return []string{expansion}, true
	}
	if expansion, found := icaoExpansions[r]; found {
		return []string{expansion}, true
	}

	var b strings.Builder
	for _, d := range norm.NFD.String(string(upper)) {
		switch {
		case d >= 'A' && d <= 'Z':
			b.WriteRune(d)
		case unicode.Is(unicode.Mn, d):
			// Diacritics are dropped.
		default:
			return nil, false
		}
	}
	return []string{b.String()}, true
}
