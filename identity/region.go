package identity

import "strings"

// assignedRegions lists the 249 officially assigned ISO 3166-1 alpha-2 codes,
// as shipped in Debian's iso-codes 4.15.0 (iso_3166-1.json). Reserved and
// user-assigned codes such as UK, EU, XK and ZZ are not included.
const assignedRegions = `
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW
`

var regionSet = func() map[string]struct{} {
	set := make(map[string]struct{}, 249)
	for _, code := range strings.Fields(assignedRegions) {
		set[code] = struct{}{}
	}
	return set
}()

// Regions returns the assigned ISO 3166-1 alpha-2 codes in upper case,
// sorted. The caller may modify the returned slice.
func Regions() []string {
	return strings.Fields(assignedRegions)
}

// NormalizeRegion returns code trimmed of surrounding spaces and in upper
// case, and whether that is an assigned ISO 3166-1 alpha-2 code.
func NormalizeRegion(code string) (string, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	_, ok := regionSet[code]
	return code, ok
}

// ValidRegion reports whether code is an assigned ISO 3166-1 alpha-2 code.
// It ignores case and surrounding spaces, as NormalizeRegion does.
func ValidRegion(code string) bool {
	_, ok := NormalizeRegion(code)
	return ok
}

// Document types accepted in Individual.DocumentType.
const (
	DocumentPassport       = "passport"
	DocumentNationalID     = "national_id"
	DocumentDriversLicense = "drivers_license"
	DocumentWorkPermit     = "work_permit"
)

// DocumentTypes lists the accepted document types. Callers must not modify it.
var DocumentTypes = []string{DocumentPassport, DocumentNationalID, DocumentDriversLicense, DocumentWorkPermit}

// NormalizeDocumentType returns s trimmed of surrounding spaces and in lower
// case, and whether that is one of DocumentTypes.
func NormalizeDocumentType(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, t := range DocumentTypes {
		if s == t {
			return s, true
		}
	}
	return s, false
}

// ValidDocumentType reports whether s is one of DocumentTypes. It ignores
// case and surrounding spaces, as NormalizeDocumentType does.
func ValidDocumentType(s string) bool {
	_, ok := NormalizeDocumentType(s)
	return ok
}
