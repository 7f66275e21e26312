package identity_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/identity"
)

// The ICAO Doc 9303 Part 4 specimen passport MRZ.
const (
	specimenLine1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
	specimenLine2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
	specimenMRZ   = specimenLine1 + "\n" + specimenLine2
)

// validPassport returns a person's form that passes every rule.
func validPassport() identity.Individual {
	return identity.Individual{
		Region:         "HK",
		DocumentType:   "passport",
		IssuingCountry: "SE",
		FullName:       "Anna Maria Eriksson",
		Address:        "1 Harbour Road, Wan Chai, Hong Kong",
		DocumentNumber: "L898902C3",
		MRZ:            specimenMRZ,
	}
}

// codes returns each violation as "field:code" so tables stay short.
func codes(vs []identity.Violation) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Field+":"+v.Code)
	}
	return out
}

// checkDetails fails the test when a violation has no usable detail or
// repeats one of the submitted values.
func checkDetails(t *testing.T, vs []identity.Violation, submitted ...string) {
	t.Helper()
	for _, v := range vs {
		if v.Detail == "" || !strings.HasSuffix(v.Detail, ".") {
			t.Errorf("violation %s:%s detail %q is empty or not a sentence", v.Field, v.Code, v.Detail)
		}
		for _, s := range submitted {
			s = strings.TrimSpace(s)
			if len(s) >= 4 && strings.Contains(v.Detail, s) {
				t.Errorf("violation %s:%s detail %q contains the submitted value %q", v.Field, v.Code, v.Detail, s)
			}
		}
	}
}

func submittedIndividual(in identity.Individual) []string {
	return []string{in.FullName, in.Address, in.DocumentNumber, in.MRZ}
}

func TestValidateIndividualValidPassport(t *testing.T) {
	in := validPassport()
	in.Region = " hk "
	in.DocumentType = "Passport"
	in.IssuingCountry = "se"
	in.FullName = "  Anna   Maria\u00a0Eriksson "
	in.DocumentNumber = "l898 902-c3"

	got, vs := identity.ValidateIndividual(in)
	if len(vs) != 0 {
		t.Fatalf("ValidateIndividual() violations = %v, want none", codes(vs))
	}
	want := identity.NormalizedIndividual{
		Region:         "HK",
		DocumentType:   "passport",
		IssuingCountry: "SE",
		FullName:       "Anna Maria Eriksson",
		Address:        "1 Harbour Road, Wan Chai, Hong Kong",
		DocumentNumber: "L898902C3",
		MRZ:            specimenMRZ,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ValidateIndividual() normalized mismatch (-want +got):\n%s", diff)
	}
	if key, wantKey := got.IdentityKey(), "doc|SE|passport|L898902C3"; key != wantKey {
		t.Errorf("IdentityKey() = %q, want %q", key, wantKey)
	}
}

func TestValidateIndividualListsEveryFailure(t *testing.T) {
	in := identity.Individual{
		Region:         "XX",
		DocumentType:   "visa",
		IssuingCountry: "",
		FullName:       "R2-D2",
		Address:        "Hi",
		DocumentNumber: "AB",
		MRZ:            "not an mrz",
	}
	_, vs := identity.ValidateIndividual(in)
	want := []string{
		"region:invalid_region",
		"document_type:invalid_document_type",
		"issuing_country:required",
		"full_name:contains_digits",
		"address:too_short",
		"document_number:document_number_format",
	}
	if diff := cmp.Diff(want, codes(vs)); diff != "" {
		t.Errorf("violations mismatch (-want +got):\n%s", diff)
	}
	checkDetails(t, vs, submittedIndividual(in)...)
}

func TestValidateIndividualRequired(t *testing.T) {
	_, vs := identity.ValidateIndividual(identity.Individual{FullName: " \u3000 ", Address: "\t"})
	want := []string{
		"region:required",
		"document_type:required",
		"issuing_country:required",
		"full_name:required",
		"address:required",
		"document_number:required",
	}
	if diff := cmp.Diff(want, codes(vs)); diff != "" {
		t.Errorf("violations mismatch (-want +got):\n%s", diff)
	}
}

func TestIndividualRegionAndDocumentType(t *testing.T) {
	tests := []struct {
		name           string
		region         string
		documentType   string
		issuingCountry string
		want           []string
	}{
		{name: "lower case accepted", region: "cn", documentType: "work_permit", issuingCountry: "sg", want: []string{}},
		{name: "user-assigned code", region: "ZZ", documentType: "passport", issuingCountry: "SE", want: []string{"region:invalid_region"}},
		{name: "UK is not ISO", region: "HK", documentType: "passport", issuingCountry: "UK", want: []string{"issuing_country:invalid_region"}},
		{name: "alpha-3 rejected", region: "HKG", documentType: "passport", issuingCountry: "SE", want: []string{"region:invalid_region"}},
		{name: "unknown type", region: "HK", documentType: "identity_card", issuingCountry: "SE", want: []string{"document_type:invalid_document_type"}},
		{name: "drivers license", region: "HK", documentType: "DRIVERS_LICENSE", issuingCountry: "US", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validPassport()
			in.Region = tt.region
			in.DocumentType = tt.documentType
			in.IssuingCountry = tt.issuingCountry
			in.DocumentNumber = "D1234567"
			in.MRZ = ""
			_, vs := identity.ValidateIndividual(in)
			if diff := cmp.Diff(tt.want, codes(vs)); diff != "" {
				t.Errorf("violations mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateOrganization(t *testing.T) {
	tests := []struct {
		name       string
		in         identity.Organization
		want       []string
		wantNumber string
		wantKey    string
	}{
		{
			name:       "HK business registration number",
			in:         identity.Organization{Region: "HK", EnterpriseName: "Example Trading Limited", RegisteredAddress: "1 Queen's Road Central, Hong Kong", RegistrationNumber: "12345678"},
			want:       []string{},
			wantNumber: "12345678",
			wantKey:    "org|HK|12345678",
		},
		{
			name:       "HK certificate number with suffix",
			in:         identity.Organization{Region: "hk", EnterpriseName: "Example Trading Limited", RegisteredAddress: "1 Queen's Road Central, Hong Kong", RegistrationNumber: "12345678-000-01-24-a"},
			want:       []string{},
			wantNumber: "123456780000124A",
			wantKey:    "org|HK|12345678",
		},
		{
			name:       "HK branch number with spaces",
			in:         identity.Organization{Region: "HK", EnterpriseName: "Example Trading Limited", RegisteredAddress: "1 Queen's Road Central, Hong Kong", RegistrationNumber: "1234 5678 001"},
			want:       []string{},
			wantNumber: "12345678001",
			wantKey:    "org|HK|12345678",
		},
		{
			name: "HK seven digits",
			in:   identity.Organization{Region: "HK", EnterpriseName: "Example Trading Limited", RegisteredAddress: "1 Queen's Road Central, Hong Kong", RegistrationNumber: "7654321"},
			want: []string{"business_registration_number:brn_format"},
		},
		{
			name: "HK letter in first eight",
			in:   identity.Organization{Region: "HK", EnterpriseName: "Example Trading Limited", RegisteredAddress: "1 Queen's Road Central, Hong Kong", RegistrationNumber: "1234567A"},
			want: []string{"business_registration_number:brn_format"},
		},
		{
			name: "HK suffix too long",
			in:   identity.Organization{Region: "HK", EnterpriseName: "Example Trading Limited", RegisteredAddress: "1 Queen's Road Central, Hong Kong", RegistrationNumber: "12345678-0000000000000"},
			want: []string{"business_registration_number:brn_format"},
		},
		{
			name:       "CN USCC specimen",
			in:         identity.Organization{Region: "CN", EnterpriseName: "示例科技有限公司", RegisteredAddress: "福建省福州市鼓楼区示例路1号", RegistrationNumber: "91350100M000100Y43"},
			want:       []string{},
			wantNumber: "91350100M000100Y43",
			wantKey:    "org|CN|91350100M000100Y43",
		},
		{
			name:       "CN USCC remainder zero gives check 0",
			in:         identity.Organization{Region: "CN", EnterpriseName: "示例科技有限公司", RegisteredAddress: "北京市东城区示例街2号", RegistrationNumber: "911100007109312390"},
			want:       []string{},
			wantNumber: "911100007109312390",
			wantKey:    "org|CN|911100007109312390",
		},
		{
			name:       "CN USCC lower case and hyphens",
			in:         identity.Organization{Region: "CN", EnterpriseName: "示例科技有限公司", RegisteredAddress: "福建省福州市鼓楼区示例路1号", RegistrationNumber: "91350100-m000100-y43"},
			want:       []string{},
			wantNumber: "91350100M000100Y43",
			wantKey:    "org|CN|91350100M000100Y43",
		},
		{
			name: "CN USCC wrong check character",
			in:   identity.Organization{Region: "CN", EnterpriseName: "示例科技有限公司", RegisteredAddress: "福建省福州市鼓楼区示例路1号", RegistrationNumber: "91350100M000100Y44"},
			want: []string{"business_registration_number:uscc_check_character"},
		},
		{
			name: "CN USCC letter O not in alphabet",
			in:   identity.Organization{Region: "CN", EnterpriseName: "示例科技有限公司", RegisteredAddress: "福建省福州市鼓楼区示例路1号", RegistrationNumber: "91350100MO00100Y43"},
			want: []string{"business_registration_number:uscc_format"},
		},
		{
			name: "CN USCC too short",
			in:   identity.Organization{Region: "CN", EnterpriseName: "示例科技有限公司", RegisteredAddress: "福建省福州市鼓楼区示例路1号", RegistrationNumber: "91350100M000100Y4"},
			want: []string{"business_registration_number:uscc_format"},
		},
		{
			name:       "generic region",
			in:         identity.Organization{Region: "SG", EnterpriseName: "Example Pte. Ltd.", RegisteredAddress: "1 Raffles Place, Singapore", RegistrationNumber: "2012-34567 k"},
			want:       []string{},
			wantNumber: "201234567K",
			wantKey:    "org|SG|201234567K",
		},
		{
			name: "generic region too short",
			in:   identity.Organization{Region: "SG", EnterpriseName: "Example Pte. Ltd.", RegisteredAddress: "1 Raffles Place, Singapore", RegistrationNumber: "123"},
			want: []string{"business_registration_number:registration_number_format"},
		},
		{
			name: "generic region punctuation",
			in:   identity.Organization{Region: "SG", EnterpriseName: "Example Pte. Ltd.", RegisteredAddress: "1 Raffles Place, Singapore", RegistrationNumber: "2012/34567"},
			want: []string{"business_registration_number:registration_number_format"},
		},
		{
			name: "generic region too long",
			in:   identity.Organization{Region: "SG", EnterpriseName: "Example Pte. Ltd.", RegisteredAddress: "1 Raffles Place, Singapore", RegistrationNumber: strings.Repeat("1", 31)},
			want: []string{"business_registration_number:registration_number_format"},
		},
		{
			name: "invalid UTF-8",
			in:   identity.Organization{Region: "SG", EnterpriseName: "Example Pte. Ltd.", RegisteredAddress: "1 Raffles Place, Singapore", RegistrationNumber: "2012\xff34567"},
			want: []string{"business_registration_number:invalid_utf8"},
		},
		{
			name: "every field wrong",
			in:   identity.Organization{Region: "EU", EnterpriseName: "<b>X</b>", RegisteredAddress: "a\nb", RegistrationNumber: ""},
			want: []string{
				"region:invalid_region",
				"enterprise_name:markup",
				"registered_address:control_characters",
				"registered_address:too_short",
				"business_registration_number:required",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, vs := identity.ValidateOrganization(tt.in)
			if diff := cmp.Diff(tt.want, codes(vs)); diff != "" {
				t.Errorf("violations mismatch (-want +got):\n%s", diff)
			}
			checkDetails(t, vs, tt.in.EnterpriseName, tt.in.RegisteredAddress, tt.in.RegistrationNumber)
			if len(tt.want) > 0 {
				return
			}
			if got.RegistrationNumber != tt.wantNumber {
				t.Errorf("RegistrationNumber = %q, want %q", got.RegistrationNumber, tt.wantNumber)
			}
			if key := got.IdentityKey(); key != tt.wantKey {
				t.Errorf("IdentityKey() = %q, want %q", key, tt.wantKey)
			}
		})
	}
}

func TestEnterpriseName(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []string
	}{
		{name: "ampersand allowed", value: "Marks & Spencer plc", want: []string{}},
		{name: "digits allowed", value: "3M Hong Kong Limited", want: []string{}},
		{name: "brackets and quotes", value: `Limited Liability Company "Example" (HK)`, want: []string{}},
		{name: "CJK", value: "株式会社サンプル", want: []string{}},
		{name: "two characters", value: "乐华", want: []string{}},
		{name: "one character", value: "乐", want: []string{"enterprise_name:too_short"}},
		{name: "200 characters", value: strings.Repeat("企", 200), want: []string{}},
		{name: "201 characters", value: strings.Repeat("企", 201), want: []string{"enterprise_name:too_long"}},
		{name: "tag", value: "Example <script>", want: []string{"enterprise_name:markup"}},
		{name: "named reference", value: "Example &amp; Co", want: []string{"enterprise_name:markup"}},
		{name: "numeric reference", value: "Example &#60;b&#62;", want: []string{"enterprise_name:markup"}},
		{name: "hex reference", value: "Example &#x3C;", want: []string{"enterprise_name:markup"}},
		{name: "ampersand and semicolon apart", value: "A & B; C Ltd", want: []string{}},
		{name: "tab", value: "Example\tLimited", want: []string{"enterprise_name:control_characters"}},
		{name: "bidi override", value: "Example\u202eLimited", want: []string{"enterprise_name:control_characters"}},
		{name: "blank", value: "   ", want: []string{"enterprise_name:required"}},
		{name: "invalid UTF-8", value: "Example \xff Limited", want: []string{"enterprise_name:invalid_utf8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := identity.Organization{Region: "SG", EnterpriseName: tt.value, RegisteredAddress: "1 Raffles Place, Singapore", RegistrationNumber: "201234567K"}
			_, vs := identity.ValidateOrganization(in)
			if diff := cmp.Diff(tt.want, codes(vs)); diff != "" {
				t.Errorf("violations mismatch (-want +got):\n%s", diff)
			}
			checkDetails(t, vs, tt.value)
		})
	}
}

func TestEnterpriseNameStoredAsGiven(t *testing.T) {
	// "Cafe\u0301" is decomposed; the stored form keeps it, NameKey composes it.
	in := identity.Organization{Region: "SG", EnterpriseName: "  Cafe\u0301   Example Pte. Ltd. ", RegisteredAddress: "1 Raffles Place, Singapore", RegistrationNumber: "201234567K"}
	got, vs := identity.ValidateOrganization(in)
	if len(vs) != 0 {
		t.Fatalf("violations = %v, want none", codes(vs))
	}
	if want := "Cafe\u0301   Example Pte. Ltd."; got.EnterpriseName != want {
		t.Errorf("EnterpriseName = %q, want %q", got.EnterpriseName, want)
	}
	if key, want := identity.NameKey(got.EnterpriseName), "Caf\u00e9 Example Pte. Ltd."; key != want {
		t.Errorf("NameKey(EnterpriseName) = %q, want %q", key, want)
	}
}

func TestIndividualIdentityKey(t *testing.T) {
	tests := []struct {
		name string
		in   identity.Individual
		want string
	}{
		{
			name: "HKID with brackets",
			in:   identity.Individual{Region: "HK", DocumentType: "national_id", IssuingCountry: "hk", FullName: "陳大文", Address: "香港中環皇后大道中1號", DocumentNumber: "a123456(3)"},
			want: "doc|HK|national_id|A1234563",
		},
		{
			name: "HKID without brackets gives the same key",
			in:   identity.Individual{Region: "HK", DocumentType: "national_id", IssuingCountry: "HK", FullName: "陳大文", Address: "香港中環皇后大道中1號", DocumentNumber: "A1234563"},
			want: "doc|HK|national_id|A1234563",
		},
		{
			name: "PRC ID",
			in:   identity.Individual{Region: "CN", DocumentType: "national_id", IssuingCountry: "CN", FullName: "王小明", Address: "北京市东城区示例街2号", DocumentNumber: "11010519491231002x"},
			want: "doc|CN|national_id|11010519491231002X",
		},
		{
			name: "passport fillers dropped",
			in:   identity.Individual{Region: "SG", DocumentType: "passport", IssuingCountry: "SG", FullName: "Tan Wei Ming", Address: "1 Raffles Place, Singapore", DocumentNumber: "K1234567<"},
			want: "doc|SG|passport|K1234567",
		},
		{
			name: "full-width digits",
			in:   identity.Individual{Region: "JP", DocumentType: "drivers_license", IssuingCountry: "JP", FullName: "山田太郎", Address: "東京都千代田区1-1", DocumentNumber: "１２３４－５６７８"},
			want: "doc|JP|drivers_license|12345678",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, vs := identity.ValidateIndividual(tt.in)
			if len(vs) != 0 {
				t.Fatalf("violations = %v, want none", codes(vs))
			}
			if key := got.IdentityKey(); key != tt.want {
				t.Errorf("IdentityKey() = %q, want %q", key, tt.want)
			}
		})
	}
}

func TestViolationJSON(t *testing.T) {
	v := identity.Violation{Field: "document_number", Code: "hkid_check_digit", Detail: "Check the digit."}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal() error = %v", err)
	}
	want := `{"field":"document_number","code":"hkid_check_digit","detail":"Check the digit."}`
	if string(got) != want {
		t.Errorf("json.Marshal() = %s, want %s", got, want)
	}
}
