package identity

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizeNumber returns the comparison form of a document or registration
// number. NFKC turns full-width letters, digits and hyphens into ASCII, the
// result is upper-cased, and white space and hyphens or dashes are removed.
func normalizeNumber(s string) string {
	s = strings.ToUpper(norm.NFKC.String(s))
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || isDash(r) {
			return -1
		}
		return r
	}, s)
}

func isDash(r rune) bool {
	return r == '-' || (r >= '\u2010' && r <= '\u2015') || r == '\u2212'
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }
func isASCIIUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// allBytes reports whether s is non-empty and every byte satisfies f.
func allBytes(s string, f func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

func isUpperAlnum(c byte) bool { return isASCIIDigit(c) || isASCIIUpper(c) }

// validateDocumentNumber checks a personal document number by the rule for
// its document type and issuer and returns its normalized form. docType and
// issuer must already be normalized. An unknown type or issuer gets the
// generic rule.
func validateDocumentNumber(vs *violations, docType, issuer, raw string) string {
	const field = FieldDocumentNumber
	if !utf8.ValidString(raw) {
		vs.add(field, CodeInvalidUTF8, "document_number must be valid UTF-8 text.")
		return ""
	}
	number := normalizeNumber(raw)
	if number == "" {
		vs.add(field, CodeRequired, "document_number is required: enter the number printed on the document.")
		return ""
	}

	switch {
	case docType == DocumentPassport:
		return checkPassportNumber(vs, number)
	case docType == DocumentNationalID && issuer == "HK":
		return checkHKID(vs, number)
	case docType == DocumentNationalID && issuer == "CN":
		return checkPRCID(vs, number)
	default:
		if len(number) < 4 || len(number) > 20 || !allBytes(number, isUpperAlnum) {
			vs.add(field, CodeDocumentNumberFormat, "document_number must be 4 to 20 letters A-Z and digits; spaces and hyphens are ignored.")
		}
		return number
	}
}

// checkPassportNumber applies the ICAO 9303 document number rule: at most 9
// characters of A-Z, 0-9 and the filler "<". Trailing fillers are padding in
// the MRZ, so the normalized number drops them.
func checkPassportNumber(vs *violations, number string) string {
	number = strings.TrimRight(number, "<")
	isPassportChar := func(c byte) bool { return isUpperAlnum(c) || c == '<' }
	if len(number) > 9 || !allBytes(number, isPassportChar) {
		vs.add(FieldDocumentNumber, CodePassportFormat, "document_number of a passport must be 1 to 9 letters A-Z and digits, as printed on the data page.")
	}
	return number
}

// checkHKID applies the Hong Kong identity card rule and returns the number
// without brackets, for example "A1234563" for "A123456(3)". The layout is
// one or two letters, six digits and a check digit 0-9 or A, which may be in
// brackets.
func checkHKID(vs *violations, number string) string {
	const field = FieldDocumentNumber
	const formatDetail = "document_number of a Hong Kong identity card must be one or two letters, six digits and a check digit 0-9 or A, for example A123456(3)."

	// Only "(x)" around the last character is a valid use of brackets.
	if strings.ContainsAny(number, "()") {
		n := len(number)
		if n < 3 || number[n-3] != '(' || number[n-1] != ')' || strings.ContainsAny(number[:n-3], "()") {
			vs.add(field, CodeHKIDFormat, formatDetail)
			return number
		}
		number = number[:n-3] + number[n-2:n-1]
	}

	prefixLen := len(number) - 7
	if prefixLen < 1 || prefixLen > 2 ||
		!allBytes(number[:prefixLen], isASCIIUpper) ||
		!allBytes(number[prefixLen:len(number)-1], isASCIIDigit) ||
		!(isASCIIDigit(number[len(number)-1]) || number[len(number)-1] == 'A') {
		vs.add(field, CodeHKIDFormat, formatDetail)
		return number
	}
	if HKIDCheckDigit(number[:len(number)-1]) != number[len(number)-1] {
		vs.add(field, CodeHKIDCheckDigit, "document_number has a wrong Hong Kong identity card check digit: check the character in brackets.")
	}
	return number
}

// HKIDCheckDigit returns the check digit ('0'-'9' or 'A') of a Hong Kong
// identity card number body: one or two upper-case letters followed by six
// digits. A single-letter prefix is padded with a leading space worth 36.
// Letters are worth 10 (A) to 35 (Z), digits their value, and the nine
// positions are weighted 9 down to 1 so that the weighted sum including the
// check digit (A = 10) is divisible by 11. It returns 0 for a body of
// another shape.
func HKIDCheckDigit(body string) byte {
	if len(body) != 7 && len(body) != 8 {
		return 0
	}
	sum := 0
	weight := 9
	if len(body) == 7 {
		sum += 36 * weight
		weight--
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		var value int
		switch {
		case isASCIIUpper(c) && i < len(body)-6:
			value = int(c-'A') + 10
		case isASCIIDigit(c) && i >= len(body)-6:
			value = int(c - '0')
		default:
			return 0
		}
		sum += value * weight
		weight--
	}
	check := (11 - sum%11) % 11
	if check == 10 {
		return 'A'
	}
	return byte('0' + check)
}

// prcWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 of the first
// 17 digits of a PRC resident identity card number.
var prcWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// minPRCBirthYear is the earliest birth year accepted in a PRC resident
// identity card number.
const minPRCBirthYear = 1800

// checkPRCID applies the PRC resident identity card rule (GB 11643): 17
// digits and a check character 0-9 or X. Digits 7 to 14 are the birth date
// as YYYYMMDD, which must be a calendar date.
//
// NOTE: a birth date in the future passes, because this package has no
// clock. The six-digit area code is not checked against the list of codes.
func checkPRCID(vs *violations, number string) string {
	const field = FieldDocumentNumber
	if len(number) != 18 || !allBytes(number[:17], isASCIIDigit) || !(isASCIIDigit(number[17]) || number[17] == 'X') {
		vs.add(field, CodePRCIDFormat, "document_number of a PRC resident identity card must be 17 digits followed by a digit or X.")
		return number
	}
	birth, err := time.Parse("20060102", number[6:14])
	if err != nil || birth.Year() < minPRCBirthYear {
		vs.add(field, CodePRCIDBirthDate, "document_number of a PRC resident identity card must contain a valid birth date as digits 7 to 14 (YYYYMMDD).")
	}
	if PRCIDCheckCharacter(number[:17]) != number[17] {
		vs.add(field, CodePRCIDCheckDigit, "document_number has a wrong PRC resident identity card check character: check the last character.")
	}
	return number
}

// PRCIDCheckCharacter returns the ISO 7064 MOD 11-2 check character ('0'-'9'
// or 'X') for the first 17 digits of a PRC resident identity card number, or
// 0 when body is not 17 ASCII digits.
func PRCIDCheckCharacter(body string) byte {
	if len(body) != 17 || !allBytes(body, isASCIIDigit) {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * prcWeights[i]
	}
	return "10X98765432"[sum%11]
}
