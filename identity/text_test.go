package identity_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/identity"
)

// validateName runs ValidateIndividual on an otherwise valid form without an
// MRZ, so only full_name rules can fail.
func validateName(name string) (identity.NormalizedIndividual, []identity.Violation) {
	in := validPassport()
	in.FullName = name
	in.MRZ = ""
	return identity.ValidateIndividual(in)
}

func TestFullName(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		want     []string
		wantName string // checked only when want is empty
	}{
		{name: "Latin", value: "Anna Maria Eriksson", want: []string{}, wantName: "Anna Maria Eriksson"},
		{name: "Chinese", value: "陳大文", want: []string{}, wantName: "陳大文"},
		{name: "two CJK characters", value: "王芳", want: []string{}, wantName: "王芳"},
		{name: "CJK Extension B", value: "𠮷田太郎", want: []string{}, wantName: "𠮷田太郎"},
		{name: "Extension B only two", value: "𠀀𠀁", want: []string{}, wantName: "𠀀𠀁"},
		{name: "Japanese middle dot", value: "ジョン・スミス", want: []string{}, wantName: "ジョン・スミス"},
		{name: "Uyghur middle dot", value: "阿里木·买买提", want: []string{}, wantName: "阿里木·买买提"},
		{name: "Korean", value: "김민준", want: []string{}, wantName: "김민준"},
		{name: "Korean jamo composed by NFC", value: "\u1100\u1161\u11a8\u1100\u1161", want: []string{}, wantName: "각가"},
		{name: "Arabic", value: "محمد بن سلمان", want: []string{}, wantName: "محمد بن سلمان"},
		{name: "Devanagari combining marks", value: "अनुष्का शर्मा", want: []string{}, wantName: "अनुष्का शर्मा"},
		{name: "Thai combining marks", value: "สมชาย ใจดี", want: []string{}, wantName: "สมชาย ใจดี"},
		{name: "Cyrillic", value: "Иван Иванов", want: []string{}, wantName: "Иван Иванов"},
		{name: "Greek", value: "Γιώργος Παπαδόπουλος", want: []string{}, wantName: "Γιώργος Παπαδόπουλος"},
		{name: "apostrophe hyphen period comma", value: "O'Brien-Smith, J. R.", want: []string{}, wantName: "O'Brien-Smith, J. R."},
		{name: "curly apostrophe", value: "D’Angelo", want: []string{}, wantName: "D’Angelo"},
		{name: "okina", value: "Kaʻahumanu", want: []string{}, wantName: "Kaʻahumanu"},
		{name: "NFC composes accents", value: "Jose\u0301", want: []string{}, wantName: "Jos\u00e9"},
		{name: "spaces collapsed", value: "  Anna \u3000 Eriksson\u00a0 ", want: []string{}, wantName: "Anna Eriksson"},
		{name: "two characters", value: "Li", want: []string{}, wantName: "Li"},
		{name: "100 characters", value: strings.Repeat("a", 100), want: []string{}, wantName: strings.Repeat("a", 100)},
		{name: "100 Extension B characters", value: strings.Repeat("𠮷", 100), want: []string{}, wantName: strings.Repeat("𠮷", 100)},
		{name: "one character", value: "李", want: []string{"full_name:too_short"}},
		{name: "101 characters", value: strings.Repeat("a", 101), want: []string{"full_name:too_long"}},
		{name: "length counted after NFC", value: strings.Repeat("e\u0301", 100), want: []string{}, wantName: strings.Repeat("é", 100)},
		{name: "empty", value: "", want: []string{"full_name:required"}},
		{name: "tab", value: "Anna\tEriksson", want: []string{"full_name:control_characters"}},
		{name: "newline", value: "Anna\nEriksson", want: []string{"full_name:control_characters"}},
		{name: "NUL", value: "Anna\x00Eriksson", want: []string{"full_name:control_characters"}},
		{name: "C1 control", value: "Anna\u0085Eriksson", want: []string{"full_name:control_characters"}},
		{name: "line separator", value: "Anna\u2028Eriksson", want: []string{"full_name:control_characters"}},
		{name: "right-to-left override", value: "Anna\u202eEriksson", want: []string{"full_name:control_characters"}},
		{name: "script tag", value: "<script>alert</script>", want: []string{"full_name:markup", "full_name:invalid_characters"}},
		{name: "ampersand", value: "Tom & Jerry", want: []string{"full_name:markup"}},
		{name: "double quote", value: `Anna "Ann" Eriksson`, want: []string{"full_name:markup"}},
		{name: "digits only", value: "123456", want: []string{"full_name:digits_only"}},
		{name: "full-width digits only", value: "１２３", want: []string{"full_name:digits_only"}},
		{name: "digits in name", value: "Anna 2 Eriksson", want: []string{"full_name:contains_digits"}},
		{name: "punctuation only", value: "-.,", want: []string{"full_name:no_letters"}},
		{name: "at sign", value: "anna@example", want: []string{"full_name:invalid_characters"}},
		{name: "emoji", value: "Anna 😀", want: []string{"full_name:invalid_characters"}},
		{name: "zero width joiner", value: "Anna\u200dEriksson", want: []string{"full_name:invalid_characters"}},
		{name: "zero width joiner at the end", value: "نسرین\u200c", want: []string{"full_name:invalid_characters"}},
		{name: "Persian zero width non-joiner", value: "نسرین\u200cدخت", want: []string{}, wantName: "نسرین\u200cدخت"},
		{name: "Devanagari zero width joiner", value: "क्\u200dष राव", want: []string{}, wantName: "क्\u200dष राव"},
		{name: "invalid UTF-8", value: "Anna \xc3\x28", want: []string{"full_name:invalid_utf8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, vs := validateName(tt.value)
			if diff := cmp.Diff(tt.want, codes(vs)); diff != "" {
				t.Errorf("violations mismatch (-want +got):\n%s", diff)
			}
			checkDetails(t, vs, tt.value)
			if len(tt.want) == 0 && got.FullName != tt.wantName {
				t.Errorf("FullName = %q, want %q", got.FullName, tt.wantName)
			}
		})
	}
}

func TestAddress(t *testing.T) {
	tests := []struct {
		name        string
		value       string
		want        []string
		wantAddress string // checked only when want is empty
	}{
		{name: "Latin", value: "1 Harbour Road, Wan Chai", want: []string{}, wantAddress: "1 Harbour Road, Wan Chai"},
		{name: "Chinese", value: "香港中環皇后大道中1號", want: []string{}, wantAddress: "香港中環皇后大道中1號"},
		{name: "five characters", value: "Rm 1A", want: []string{}, wantAddress: "Rm 1A"},
		{name: "four characters", value: "Rm 1", want: []string{"address:too_short"}},
		{name: "emoji", value: "🏠 1 Main St", want: []string{}, wantAddress: "🏠 1 Main St"},
		{name: "emoji ZWJ sequence", value: "👨‍👩‍👧 Family Rd", want: []string{}, wantAddress: "👨‍👩‍👧 Family Rd"},
		{name: "Extension B", value: "𠮷野町1-2-3", want: []string{}, wantAddress: "𠮷野町1-2-3"},
		{name: "markup allowed", value: "A & B Building, <Tower 2>", want: []string{}, wantAddress: "A & B Building, <Tower 2>"},
		{name: "spaces collapsed", value: "  1   Main\u00a0St  ", want: []string{}, wantAddress: "1 Main St"},
		{name: "255 characters", value: strings.Repeat("街", 255), want: []string{}, wantAddress: strings.Repeat("街", 255)},
		{name: "256 characters", value: strings.Repeat("街", 256), want: []string{"address:too_long"}},
		{name: "255 emoji", value: strings.Repeat("😀", 255), want: []string{}, wantAddress: strings.Repeat("😀", 255)},
		{name: "newline", value: "1 Main St\nSpringfield", want: []string{"address:control_characters"}},
		{name: "CRLF", value: "1 Main St\r\nSpringfield", want: []string{"address:control_characters"}},
		{name: "DEL", value: "1 Main St\x7f", want: []string{"address:control_characters"}},
		{name: "isolate control", value: "1 Main St\u2066", want: []string{"address:control_characters"}},
		{name: "blank", value: " \t ", want: []string{"address:required"}},
		{name: "invalid UTF-8", value: "1 Main St \xfe", want: []string{"address:invalid_utf8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validPassport()
			in.Address = tt.value
			got, vs := identity.ValidateIndividual(in)
			if diff := cmp.Diff(tt.want, codes(vs)); diff != "" {
				t.Errorf("violations mismatch (-want +got):\n%s", diff)
			}
			checkDetails(t, vs, tt.value)
			if len(tt.want) == 0 && got.Address != tt.wantAddress {
				t.Errorf("Address = %q, want %q", got.Address, tt.wantAddress)
			}
		})
	}
}

func TestNameKey(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "trim and collapse", in: "  示例  科技\u3000有限公司 ", want: "示例 科技 有限公司"},
		{name: "NFC", in: "Cafe\u0301 Ltd", want: "Caf\u00e9 Ltd"},
		{name: "case kept", in: "EXAMPLE Ltd", want: "EXAMPLE Ltd"},
		{name: "punctuation kept", in: "Example Co., Ltd.", want: "Example Co., Ltd."},
		{name: "full-width kept", in: "ＡＢＣ", want: "ＡＢＣ"},
		{name: "empty", in: "   ", want: ""},
	}
	for _, tt := range tests {
		if got := identity.NameKey(tt.in); got != tt.want {
			t.Errorf("%s: NameKey(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}

	if identity.NameKey("Example Ltd") == identity.NameKey("example ltd") {
		t.Errorf("NameKey ignores case, want an exact comparison")
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{in: "E12345678", want: "E1****78"},
		{in: "A1234563", want: "A1****63"},
		{in: "ABCDEF", want: "AB****EF"},
		{in: "ABCDE", want: "A****"},
		{in: "A", want: "A****"},
		{in: "", want: ""},
		{in: "陳大文", want: "陳****"},
		{in: "欧阳娜娜娜娜", want: "欧阳****娜娜"},
		{in: "𠮷𠮷𠮷𠮷𠮷𠮷𠮷", want: "𠮷𠮷****𠮷𠮷"},
		{in: "Jose\u0301 Garci\u0301a", want: "Jo****ía"},
		{in: "अनुष्का शर्मा", want: "अनु****र्मा"},
		{in: "👍🏽 ok 👍🏽", want: "👍🏽 **** 👍🏽"},
	}
	for _, tt := range tests {
		if got := identity.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRegions(t *testing.T) {
	regions := identity.Regions()
	if len(regions) != 249 {
		t.Errorf("len(Regions()) = %d, want 249", len(regions))
	}
	for i, code := range regions {
		if !identity.ValidRegion(code) {
			t.Errorf("ValidRegion(%q) = false for a listed region", code)
		}
		if i > 0 && regions[i-1] >= code {
			t.Errorf("Regions() not sorted at %d: %q then %q", i, regions[i-1], code)
		}
	}

	tests := []struct {
		code string
		want bool
	}{
		{code: "HK", want: true},
		{code: "CN", want: true},
		{code: "SG", want: true},
		{code: "TW", want: true},
		{code: "MO", want: true},
		{code: "AX", want: true},
		{code: "SS", want: true},
		{code: "BQ", want: true},
		{code: "hk", want: true},
		{code: " Cn ", want: true},
		{code: "UK", want: false},
		{code: "EU", want: false},
		{code: "XK", want: false},
		{code: "ZZ", want: false},
		{code: "AN", want: false},
		{code: "YU", want: false},
		{code: "HKG", want: false},
		{code: "H", want: false},
		{code: "", want: false},
		{code: "ＨＫ", want: false},
	}
	for _, tt := range tests {
		if got := identity.ValidRegion(tt.code); got != tt.want {
			t.Errorf("ValidRegion(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestDocumentTypes(t *testing.T) {
	want := []string{"passport", "national_id", "drivers_license", "work_permit"}
	if diff := cmp.Diff(want, identity.DocumentTypes); diff != "" {
		t.Errorf("DocumentTypes mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		in   string
		want bool
	}{
		{in: "passport", want: true},
		{in: "National_ID", want: true},
		{in: " work_permit ", want: true},
		{in: "drivers_license", want: true},
		{in: "driver_license", want: false},
		{in: "id_card", want: false},
		{in: "", want: false},
	}
	for _, tt := range tests {
		if got := identity.ValidDocumentType(tt.in); got != tt.want {
			t.Errorf("ValidDocumentType(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
