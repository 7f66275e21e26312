package notifier

import "unicode/utf16"

// SMS encodings reported by Segments.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

// Segment capacities from 3GPP TS 23.040. A multipart message spends part of
// each segment on the user data header (UDH) that links the parts, so its
// segments hold fewer characters than a single message.
const (
	gsm7SingleSeptets    = 160
	gsm7MultipartSeptets = 153
	ucs2SingleUnits      = 70
	ucs2MultipartUnits   = 67
)

// gsm7Basic is the GSM 03.38 default alphabet (3GPP TS 23.038, section 6.2.1).
// Each character costs one septet. The escape code 0x1B has no character.
var gsm7Basic = buildRuneSet(
	"@£$¥èéùìòÇ\nØø\rÅå" +
		"Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
		" !\"#¤%&'()*+,-./" +
		"0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
		"¿abcdefghijklmnopqrstuvwxyzäöñüà")

// gsm7Extension is the GSM 03.38 default extension table. Each character is
// sent as the escape code plus one septet, so it costs two septets.
var gsm7Extension = buildRuneSet("\f^{}\\[~]|€")

func buildRuneSet(chars string) map[rune]bool {
	set := make(map[rune]bool, len(chars))
	for _, r := range chars {
		set[r] = true
	}
	return set
}

// Segments reports the encoding an SMS gateway uses for text and how many
// segments the message takes.
//
// Text made only of GSM 03.38 characters is sent as GSM-7: a basic character
// costs one septet and an extension character (€ [ ] { } ^ ~ | \ and form
// feed) costs two. One message holds 160 septets, and each part of a longer
// message holds 153. Any other character switches the whole text to UCS-2,
// counted in UTF-16 code units, so a character outside the Basic Multilingual
// Plane (most emoji) costs two: one message holds 70 units and each part of a
// longer one 67.
//
// An escape pair or a surrogate pair is never split across two parts, so a
// part may end one septet or unit short of its capacity, as handset and
// gateway implementations do. Empty text returns ("GSM-7", 0).
func Segments(text string) (encoding string, count int) {
	if text == "" {
		return EncodingGSM7, 0
	}

	costs, ok := gsm7Costs(text)
	if ok {
		return EncodingGSM7, countSegments(costs, gsm7SingleSeptets, gsm7MultipartSeptets)
	}
	return EncodingUCS2, countSegments(ucs2Costs(text), ucs2SingleUnits, ucs2MultipartUnits)
}

// gsm7Costs returns the septets of each character, or false when text has a
// character that GSM-7 cannot encode.
func gsm7Costs(text string) ([]int, bool) {
	var costs []int
	for _, r := range text {
		switch {
		case gsm7Basic[r]:
			costs = append(costs, 1)
		case gsm7Extension[r]:
			costs = append(costs, 2)
		default:
			return nil, false
		}
	}
	return costs, true
}

// ucs2Costs returns the UTF-16 code units of each character. An invalid UTF-8
// byte decodes to U+FFFD and costs one unit.
func ucs2Costs(text string) []int {
	var costs []int
	for _, r := range text {
		units := utf16.RuneLen(r)
		if units < 1 {
			units = 1 // sent as U+FFFD
		}
		costs = append(costs, units)
	}
	return costs
}

// countSegments returns how many segments hold characters of the given costs.
// It packs parts greedily and starts a new part when the next character does
// not fit whole into the current one.
func countSegments(costs []int, single, multipart int) int {
	total := 0
	for _, c := range costs {
		total += c
	}
	if total <= single {
		return 1
	}

	count, used := 1, 0
	for _, c := range costs {
		if used+c > multipart {
			count++
			used = 0
		}
		used += c
	}
	return count
}
