package identity

import (
	"strings"
	"unicode/utf8"
)

// brnLength is the length of a Hong Kong Business Registration number.
// maxBRNSuffix is the maximum length of the branch and certificate suffix
// that may follow it, as in the 16-character certificate number
// "12345678-000-01-24-A" once hyphens are removed.
const (
	brnLength    = 8
	maxBRNSuffix = 12
)

// usccAlphabet is the GB 32100-2015 character set of the Unified Social
// Credit Code: digits and upper-case letters except I, O, S, V and Z. A
// character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the GB 32100-2015 weights 3^i mod 31 of the first 17
// characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// validateRegistrationNumber checks an enterprise registration number by the
// rule of its registered region and returns its normalized form. region must
// already be normalized. An unknown region gets the generic rule.
func validateRegistrationNumber(vs *violations, region, raw string) string {
	const field = FieldBusinessRegistrationNumber
	if !utf8.ValidString(raw) {
		vs.add(field, CodeInvalidUTF8, "business_registration_number must be valid UTF-8 text.")
		return ""
	}
	number := normalizeNumber(raw)
	if number == "" {
		vs.add(field, CodeRequired, "business_registration_number is required: enter the number on the registration certificate.")
		return ""
	}

	switch region {
	case "HK":
		// No check digit algorithm is published for the Business
		// Registration number, so only the layout is checked.
		if len(number) < brnLength || len(number) > brnLength+maxBRNSuffix ||
			!allBytes(number[:brnLength], isASCIIDigit) ||
			(len(number) > brnLength && !allBytes(number[brnLength:], isUpperAlnum)) {
			vs.add(field, CodeBRNFormat, "business_registration_number of a Hong Kong business must be the 8-digit Business Registration number, optionally followed by the branch and certificate suffix, for example 12345678-000-01-24-A.")
		}
	case "CN":
		if len(number) != 18 || !allBytes(number, isUSCCChar) {
			vs.add(field, CodeUSCCFormat, "business_registration_number of a Mainland China enterprise must be the 18-character Unified Social Credit Code, using digits and letters except I, O, S, V and Z.")
		} else if USCCCheckCharacter(number[:17]) != number[17] {
			vs.add(field, CodeUSCCCheckCharacter, "business_registration_number has a wrong Unified Social Credit Code check character: check the last character.")
		}
	default:
		if len(number) < 4 || len(number) > 30 || !allBytes(number, isUpperAlnum) {
			vs.add(field, CodeRegistrationNumberFormat, "business_registration_number must be 4 to 30 letters A-Z and digits; spaces and hyphens are ignored.")
		}
	}
	return number
}

func isUSCCChar(c byte) bool { return strings.IndexByte(usccAlphabet, c) >= 0 }

// USCCCheckCharacter returns the GB 32100-2015 check character of the first
// 17 characters of a Unified Social Credit Code: 31 minus the weighted sum
// modulo 31, where a result of 31 becomes '0'. It returns 0 when body is not
// 17 characters of the code's alphabet.
func USCCCheckCharacter(body string) byte {
	if len(body) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		value := strings.IndexByte(usccAlphabet, body[i])
		if value < 0 {
			return 0
		}
		sum += value * usccWeights[i]
	}
	check := (31 - sum%31) % 31
	return usccAlphabet[check]
}
