package identity_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/identity"
)

// documentNumberCase is one document_number vector for validateNumber.
type documentNumberCase struct {
	name       string
	number     string
	want       []string
	wantNumber string // checked only when want is empty
}

// validateNumber runs ValidateIndividual on an otherwise valid form with the
// given document type, issuer and number.
func validateNumber(t *testing.T, documentType, issuer string, tests []documentNumberCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := identity.Individual{
				Region:         "HK",
				DocumentType:   documentType,
				IssuingCountry: issuer,
				FullName:       "Chan Tai Man",
				Address:        "1 Harbour Road, Wan Chai, Hong Kong",
				DocumentNumber: tt.number,
			}
			got, vs := identity.ValidateIndividual(in)
			if diff := cmp.Diff(tt.want, codes(vs)); diff != "" {
				t.Errorf("violations mismatch (-want +got):\n%s", diff)
			}
			checkDetails(t, vs, tt.number)
			if len(tt.want) == 0 && got.DocumentNumber != tt.wantNumber {
				t.Errorf("DocumentNumber = %q, want %q", got.DocumentNumber, tt.wantNumber)
			}
		})
	}
}

func TestHKIDNumber(t *testing.T) {
	validateNumber(t, "national_id", "HK", []documentNumberCase{
		{name: "public example with brackets", number: "A123456(3)", want: []string{}, wantNumber: "A1234563"},
		{name: "without brackets", number: "A1234563", want: []string{}, wantNumber: "A1234563"},
		{name: "lower case and space", number: "a123456 (3)", want: []string{}, wantNumber: "A1234563"},
		{name: "full-width brackets", number: "C668668（9）", want: []string{}, wantNumber: "C6686689"},
		{name: "check digit A", number: "G123456(A)", want: []string{}, wantNumber: "G123456A"},
		{name: "check digit a lower case", number: "z683365(a)", want: []string{}, wantNumber: "Z683365A"},
		{name: "check digit 0", number: "K000000(0)", want: []string{}, wantNumber: "K0000000"},
		{name: "two-letter prefix", number: "AB987654(3)", want: []string{}, wantNumber: "AB9876543"},
		{name: "two-letter prefix check A", number: "CA000000(A)", want: []string{}, wantNumber: "CA000000A"},
		{name: "two-letter prefix WX", number: "WX123456(9)", want: []string{}, wantNumber: "WX1234569"},
		{name: "wrong check digit", number: "A123456(4)", want: []string{"document_number:hkid_check_digit"}},
		{name: "wrong check digit two-letter", number: "AB987654(2)", want: []string{"document_number:hkid_check_digit"}},
		{name: "E is not a check digit", number: "C668668(E)", want: []string{"document_number:hkid_format"}},
		{name: "wrong check A", number: "A123456(A)", want: []string{"document_number:hkid_check_digit"}},
		{name: "three-letter prefix", number: "ABC123456(7)", want: []string{"document_number:hkid_format"}},
		{name: "no prefix", number: "1234567(8)", want: []string{"document_number:hkid_format"}},
		{name: "five digits", number: "A12345(6)", want: []string{"document_number:hkid_format"}},
		{name: "bracket misplaced", number: "A12(3456)3", want: []string{"document_number:hkid_format"}},
		{name: "unclosed bracket", number: "B123456(3", want: []string{"document_number:hkid_format"}},
		{name: "empty brackets", number: "A123456()", want: []string{"document_number:hkid_format"}},
	})
}

func TestPRCIDNumber(t *testing.T) {
	validateNumber(t, "national_id", "CN", []documentNumberCase{
		{name: "public example", number: "11010519491231002X", want: []string{}, wantNumber: "11010519491231002X"},
		{name: "lower case x", number: "11010519491231002x", want: []string{}, wantNumber: "11010519491231002X"},
		{name: "digit check", number: "440300199003071234", want: []string{}, wantNumber: "440300199003071234"},
		{name: "leap day 2000", number: "110101200002290018", want: []string{}, wantNumber: "110101200002290018"},
		{name: "spaces", number: "110105 19491231 002X", want: []string{}, wantNumber: "11010519491231002X"},
		{name: "wrong check character", number: "110105194912310021", want: []string{"document_number:prc_id_check_digit"}},
		{name: "wrong digit check", number: "440300199003071235", want: []string{"document_number:prc_id_check_digit"}},
		{name: "no leap day 1900", number: "110101190002290011", want: []string{"document_number:prc_id_birth_date"}},
		{name: "month 13 and wrong check", number: "110105194913310020", want: []string{"document_number:prc_id_birth_date", "document_number:prc_id_check_digit"}},
		{name: "year before 1800", number: "110105179912310020", want: []string{"document_number:prc_id_birth_date", "document_number:prc_id_check_digit"}},
		{name: "17 characters", number: "11010519491231002", want: []string{"document_number:prc_id_format"}},
		{name: "15-digit first generation", number: "110105491231002", want: []string{"document_number:prc_id_format"}},
		{name: "letter inside", number: "1101051949123100AX", want: []string{"document_number:prc_id_format"}},
		{name: "check letter Y", number: "11010519491231002Y", want: []string{"document_number:prc_id_format"}},
	})
}

func TestPassportNumber(t *testing.T) {
	validateNumber(t, "passport", "SE", []documentNumberCase{
		{name: "ICAO specimen", number: "L898902C3", want: []string{}, wantNumber: "L898902C3"},
		{name: "one character", number: "7", want: []string{}, wantNumber: "7"},
		{name: "trailing fillers", number: "AB12<<<", want: []string{}, wantNumber: "AB12"},
		{name: "inner filler", number: "AB<12", want: []string{}, wantNumber: "AB<12"},
		{name: "ten characters", number: "L898902C31", want: []string{"document_number:passport_format"}},
		{name: "only fillers", number: "<<<", want: []string{"document_number:passport_format"}},
		{name: "punctuation", number: "L8989/02", want: []string{"document_number:passport_format"}},
		{name: "non-ASCII letter", number: "Ł898902", want: []string{"document_number:passport_format"}},
	})
}

func TestGenericDocumentNumber(t *testing.T) {
	// A national ID from an issuer without its own rule, and an HK driver's
	// licence, both get the generic rule.
	validateNumber(t, "national_id", "SG", []documentNumberCase{
		{name: "NRIC", number: "S1234567D", want: []string{}, wantNumber: "S1234567D"},
		{name: "four characters", number: "ab-12", want: []string{}, wantNumber: "AB12"},
		{name: "twenty characters", number: "12345678901234567890", want: []string{}, wantNumber: "12345678901234567890"},
		{name: "three characters", number: "A12", want: []string{"document_number:document_number_format"}},
		{name: "21 characters", number: "123456789012345678901", want: []string{"document_number:document_number_format"}},
		{name: "slash", number: "S123/4567", want: []string{"document_number:document_number_format"}},
		{name: "HKID brackets not removed", number: "A123456(3)", want: []string{"document_number:document_number_format"}},
		{name: "invalid UTF-8", number: "S123\xff4567", want: []string{"document_number:invalid_utf8"}},
	})
	validateNumber(t, "drivers_license", "HK", []documentNumberCase{
		{name: "HK licence is not an HKID", number: "A1234567", want: []string{}, wantNumber: "A1234567"},
	})
}

func TestCheckCharacterFunctions(t *testing.T) {
	tests := []struct {
		name string
		got  byte
		want byte
	}{
		{name: "HKID A123456", got: identity.HKIDCheckDigit("A123456"), want: '3'},
		{name: "HKID C668668", got: identity.HKIDCheckDigit("C668668"), want: '9'},
		{name: "HKID G123456", got: identity.HKIDCheckDigit("G123456"), want: 'A'},
		{name: "HKID K000000", got: identity.HKIDCheckDigit("K000000"), want: '0'},
		{name: "HKID AB987654", got: identity.HKIDCheckDigit("AB987654"), want: '3'},
		{name: "HKID lower case", got: identity.HKIDCheckDigit("a123456"), want: 0},
		{name: "HKID digit prefix", got: identity.HKIDCheckDigit("1234567"), want: 0},
		{name: "HKID short", got: identity.HKIDCheckDigit("A12345"), want: 0},
		{name: "PRC example", got: identity.PRCIDCheckCharacter("11010519491231002"), want: 'X'},
		{name: "PRC digit", got: identity.PRCIDCheckCharacter("44030019900307123"), want: '4'},
		{name: "PRC letter", got: identity.PRCIDCheckCharacter("4403001990030712A"), want: 0},
		{name: "USCC example", got: identity.USCCCheckCharacter("91350100M000100Y4"), want: '3'},
		{name: "USCC remainder zero", got: identity.USCCCheckCharacter("91110000710931239"), want: '0'},
		{name: "USCC letter I", got: identity.USCCCheckCharacter("91350100I000100Y4"), want: 0},
		{name: "MRZ number", got: identity.MRZCheckDigit("L898902C3"), want: '6'},
		{name: "MRZ birth date", got: identity.MRZCheckDigit("740812"), want: '2'},
		{name: "MRZ expiry date", got: identity.MRZCheckDigit("120415"), want: '9'},
		{name: "MRZ personal number", got: identity.MRZCheckDigit("ZE184226B<<<<<"), want: '1'},
		{name: "MRZ fillers", got: identity.MRZCheckDigit("<<<<<<<<<<<<<<"), want: '0'},
		{name: "MRZ lower case", got: identity.MRZCheckDigit("l898902c3"), want: 0},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: check character = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
