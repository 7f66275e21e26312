package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/unicode/norm"

	"github.com/idverify/idverify/identity"
	"github.com/idverify/idverify/photo"
)

// The ICAO Doc 9303 specimen passport MRZ, which matches passportForm.
const (
	rulesSpecimenLine1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
	rulesSpecimenLine2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
	rulesSpecimenMRZ   = rulesSpecimenLine1 + "\n" + rulesSpecimenLine2
)

// rulesMRZWith returns the specimen MRZ with byte i of line 2 replaced by
// c and the composite check digit recomputed, so only the check digit of
// the changed field fails.
func rulesMRZWith(i int, c byte) string {
	line2 := rulesSpecimenLine2[:i] + string(c) + rulesSpecimenLine2[i+1:]
	composite := identity.MRZCheckDigit(line2[0:10] + line2[13:20] + line2[21:43])
	return rulesSpecimenLine1 + "\n" + line2[:43] + string(composite)
}

// rulesFixture reads a file of photo/testdata.
func rulesFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "photo", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRulesContentChecks submits forms that pass the intake but break one
// content rule each, and expects validation to reject the application
// listing exactly the broken rules. Forms that break nothing, including
// CMYK and progressive JPEGs, reach review.
func TestRulesContentChecks(t *testing.T) {
	individual := func(fields map[string]string) form {
		f := passportForm()
		for k, v := range fields {
			f.fields[k] = v
		}
		return f
	}
	organization := func(fields map[string]string) form {
		f := enterpriseForm()
		for k, v := range fields {
			f.fields[k] = v
		}
		return f
	}
	withPhoto := func(data []byte) form {
		f := passportForm()
		f.photo, f.photoName = data, "passport.jpg"
		return f
	}
	withPNGName := func(data []byte) form {
		f := withPhoto(data)
		f.photoName = "scan.png"
		return f
	}
	heic := []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")

	tests := []struct {
		name string
		form form
		want []rulesFieldError // nil: the application reaches review
		// detail is a part of the photo violation's detail.
		detail string
	}{
		// Document numbers.
		{name: "passport number too long", form: individual(map[string]string{"document_number": "L898902C31"}),
			want: []rulesFieldError{rulesField("document_number", "passport_format")}},
		{name: "HKID check digit", form: individual(map[string]string{"document_type": "national_id", "issuing_country": "HK", "document_number": "A123456(4)"}),
			want: []rulesFieldError{rulesField("document_number", "hkid_check_digit")}},
		{name: "HKID format", form: individual(map[string]string{"document_type": "national_id", "issuing_country": "HK", "document_number": "A12345"}),
			want: []rulesFieldError{rulesField("document_number", "hkid_format")}},
		{name: "valid HKID", form: individual(map[string]string{"document_type": "national_id", "issuing_country": "HK", "document_number": "A123456(3)"})},
		{name: "PRC ID check character", form: individual(map[string]string{"document_type": "national_id", "issuing_country": "CN", "document_number": "110105194912310021"}),
			want: []rulesFieldError{rulesField("document_number", "prc_id_check_digit")}},
		{name: "valid PRC ID", form: individual(map[string]string{"document_type": "national_id", "issuing_country": "CN", "document_number": "11010519491231002X"})},
		{name: "USCC check character", form: organization(map[string]string{"business_registration_number": "91350100M000100Y44"}),
			want: []rulesFieldError{rulesField("business_registration_number", "uscc_check_character")}},
		{name: "HK BRN format", form: organization(map[string]string{"region": "HK", "business_registration_number": "1234567"}),
			want: []rulesFieldError{rulesField("business_registration_number", "brn_format")}},
		{name: "valid HK BRN", form: organization(map[string]string{"region": "HK", "business_registration_number": "12345678-000-01-24-A"})},

		// Names and addresses.
		{name: "name with digits", form: individual(map[string]string{"full_name": "Anna Maria 2nd"}),
			want: []rulesFieldError{rulesField("full_name", "contains_digits")}},
		{name: "name of digits only", form: individual(map[string]string{"full_name": "12345"}),
			want: []rulesFieldError{rulesField("full_name", "digits_only")}},
		{name: "name with markup", form: individual(map[string]string{"full_name": "Anna <Maria>"}),
			want: []rulesFieldError{rulesField("full_name", "markup")}},
		{name: "name with a control character", form: individual(map[string]string{"full_name": "Anna\aMaria"}),
			want: []rulesFieldError{rulesField("full_name", "control_characters")}},
		{name: "name with a bidi override", form: individual(map[string]string{"full_name": "Anna \u202eMaria"}),
			want: []rulesFieldError{rulesField("full_name", "control_characters")}},
		{name: "name over 100 characters", form: individual(map[string]string{"full_name": strings.Repeat("a", 101)}),
			want: []rulesFieldError{rulesField("full_name", "too_long")}},
		{name: "address too short", form: individual(map[string]string{"address": "HK"}),
			want: []rulesFieldError{rulesField("address", "too_short")}},
		{name: "Arabic name", form: individual(map[string]string{"full_name": "محمد بن سلمان"})},
		{name: "Devanagari name", form: individual(map[string]string{"full_name": "अनुष्का शर्मा"})},
		{name: "Thai name", form: individual(map[string]string{"full_name": "สมชาย ใจดี"})},
		{name: "Cyrillic name", form: individual(map[string]string{"full_name": "Анна-Мария Петрова"})},
		{name: "Japanese name with a middle dot", form: individual(map[string]string{"full_name": "マリア・ヤマダ"})},
		{name: "Korean name", form: individual(map[string]string{"full_name": "김민준"})},
		{name: "Hawaiian name with an okina", form: individual(map[string]string{"full_name": "Keʻala O'Brien-Kealoha"})},
		{name: "enterprise name with a character reference", form: organization(map[string]string{"enterprise_name": "Acme &lt;Fuzhou&gt; Ltd"}),
			want: []rulesFieldError{rulesField("enterprise_name", "markup")}},

		// The passport MRZ.
		{name: "MRZ specimen", form: individual(map[string]string{"mrz": rulesSpecimenMRZ})},
		{name: "MRZ document number check digit", form: individual(map[string]string{"mrz": rulesMRZWith(9, '7')}),
			want: []rulesFieldError{rulesField("mrz", "mrz_check_digit_document_number")}},
		{name: "MRZ birth date check digit", form: individual(map[string]string{"mrz": rulesMRZWith(19, '3')}),
			want: []rulesFieldError{rulesField("mrz", "mrz_check_digit_birth_date")}},
		{name: "MRZ expiry date check digit", form: individual(map[string]string{"mrz": rulesMRZWith(27, '0')}),
			want: []rulesFieldError{rulesField("mrz", "mrz_check_digit_expiry_date")}},
		{name: "MRZ personal number check digit", form: individual(map[string]string{"mrz": rulesMRZWith(42, '2')}),
			want: []rulesFieldError{rulesField("mrz", "mrz_check_digit_personal_number")}},
		{name: "MRZ composite check digit", form: individual(map[string]string{"mrz": rulesSpecimenLine1 + "\n" + rulesSpecimenLine2[:43] + "9"}),
			want: []rulesFieldError{rulesField("mrz", "mrz_check_digit_composite")}},
		{name: "MRZ number mismatch", form: individual(map[string]string{"mrz": rulesSpecimenMRZ, "document_number": "L898902C4"}),
			want: []rulesFieldError{rulesField("mrz", "mrz_number_mismatch")}},
		{name: "MRZ name mismatch", form: individual(map[string]string{"mrz": rulesSpecimenMRZ, "full_name": "Anna Maria Svensson"}),
			want: []rulesFieldError{rulesField("mrz", "mrz_name_mismatch")}},
		{name: "MRZ format", form: individual(map[string]string{"mrz": "P<UTOERIKSSON<<ANNA"}),
			want: []rulesFieldError{rulesField("mrz", "mrz_format")}},

		// Photos, sent with a .jpg or .png name whatever their content.
		{name: "GIF photo", form: withPhoto(rulesFixture(t, "photo.gif")),
			want: []rulesFieldError{rulesField("photo", "photo_unsupported_format")}, detail: "GIF"},
		{name: "WebP photo", form: withPhoto(rulesFixture(t, "minimal.webp")),
			want: []rulesFieldError{rulesField("photo", "photo_unsupported_format")}, detail: "WebP"},
		{name: "HEIC photo", form: withPhoto(heic),
			want: []rulesFieldError{rulesField("photo", "photo_unsupported_format")}, detail: "HEIC"},
		{name: "PDF photo", form: withPhoto(rulesFixture(t, "document.pdf")),
			want: []rulesFieldError{rulesField("photo", "photo_unsupported_format")}, detail: "PDF"},
		{name: "SVG photo", form: withPNGName(rulesFixture(t, "image.svg")),
			want: []rulesFieldError{rulesField("photo", "photo_unsupported_format")}, detail: "SVG"},
		{name: "HTML photo", form: withPNGName(rulesFixture(t, "page.html")),
			want: []rulesFieldError{rulesField("photo", "photo_unsupported_format")}, detail: "HTML"},
		{name: "truncated JPEG", form: withPhoto(rulesFixture(t, "truncated.jpg")),
			want: []rulesFieldError{rulesField("photo", "photo_truncated")}, detail: "incomplete"},
		{name: "truncated PNG", form: withPhoto(rulesFixture(t, "valid.png")[:30000]),
			want: []rulesFieldError{rulesField("photo", "photo_truncated")}, detail: "incomplete"},
		{name: "decompression bomb PNG", form: withPhoto(rulesFixture(t, "bomb.png")),
			want: []rulesFieldError{rulesField("photo", "photo_dimensions_too_large")}, detail: "100000×100000"},
		{name: "arithmetic-coded JPEG", form: withPhoto(rulesFixture(t, "arithmetic.jpg")),
			want: []rulesFieldError{rulesField("photo", "photo_undecodable")}, detail: "cannot be decoded"},
		{name: "photo too small", form: withPhoto(photo.SamplePNG(64, 64)),
			want: []rulesFieldError{rulesField("photo", "photo_dimensions_too_small")}, detail: "64×64"},
		{name: "CMYK JPEG", form: withPhoto(rulesFixture(t, "cmyk.jpg"))},
		{name: "progressive JPEG", form: withPhoto(rulesFixture(t, "progressive.jpg"))},
		{name: "PNG named .jpg", form: withPhoto(rulesFixture(t, "valid.png"))},
	}

	b := setup(t)
	ids := make([]string, len(tests))
	for i, tc := range tests {
		account := fmt.Sprintf("acct-content-%02d", i)
		b.putAccount(account)
		ids[i] = b.rulesSubmitOK(account, tc.form)
	}

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := b.rulesFor(t)
			account := fmt.Sprintf("acct-content-%02d", i)
			if tc.want == nil {
				v := b.waitStatus(account, ids[i], "awaiting_review")
				if v.Rejection != nil {
					t.Errorf("application in review has a rejection: %+v", v.Rejection)
				}
				return
			}

			var got struct {
				Status    string `json:"status"`
				Rejection *struct {
					Reasons      []string `json:"reasons"`
					FailedChecks []struct {
						Field  string `json:"field"`
						Code   string `json:"code"`
						Detail string `json:"detail"`
					} `json:"failed_checks"`
					ResubmitAllowed bool `json:"resubmit_allowed"`
				} `json:"rejection"`
			}
			b.waitStatus(account, ids[i], "rejected")
			if code := b.do(http.MethodGet, "/v1/accounts/"+account+"/verifications/"+ids[i], testIntakeKey, nil, &got); code != http.StatusOK {
				t.Fatalf("GET application: status %d", code)
			}
			if got.Rejection == nil {
				t.Fatal("rejected application has no rejection")
			}
			var failed []rulesFieldError
			for _, fc := range got.Rejection.FailedChecks {
				failed = append(failed, rulesField(fc.Field, fc.Code))
				if fc.Detail == "" {
					t.Errorf("failed check %s:%s has no detail", fc.Field, fc.Code)
				}
				if fc.Field == "photo" && !strings.Contains(fc.Detail, tc.detail) {
					t.Errorf("photo detail %q does not contain %q", fc.Detail, tc.detail)
				}
			}
			if diff := cmp.Diff(rulesSorted(tc.want), rulesSorted(failed)); diff != "" {
				t.Errorf("failed checks (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"automatic_checks_failed"}, got.Rejection.Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if !got.Rejection.ResubmitAllowed {
				t.Error("automatic rejection does not allow a resubmission")
			}
		})
	}
}

// TestRulesFourByteCharacters submits a name with a CJK Extension B
// character and addresses with emoji, and reads them back byte for byte
// through the review API, the masked values and the ICP check.
func TestRulesFourByteCharacters(t *testing.T) {
	b := setup(t)

	person := passportForm()
	person.fields["full_name"] = "𠀀陳大文"
	person.fields["address"] = "Flat 𠀁, 1 Queen's Road Central 🏢, Hong Kong 🇭🇰"
	enterprise := enterpriseForm()
	enterprise.fields["enterprise_name"] = "𠀀福建示例科技有限公司"
	enterprise.fields["registered_address"] = "88 Wusi Road 🏬, Gulou District, Fuzhou 𠀂"

	tests := []struct {
		name       string
		account    string
		form       form
		nameField  string
		addrField  string
		nameMasked string
	}{
		{name: "individual", account: "acct-4byte-person", form: person, nameField: "full_name", addrField: "address",
			nameMasked: "𠀀****"},
		{name: "organization", account: "acct-4byte-org", form: enterprise, nameField: "enterprise_name", addrField: "registered_address",
			nameMasked: "𠀀福****公司"},
	}
	ids := b.rulesVerifyAll([]string{tests[0].account, tests[1].account}, []form{tests[0].form, tests[1].form})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := b.rulesFor(t)
			fields := b.rulesReviewFields(ids[i])
			for _, name := range []string{tc.nameField, tc.addrField} {
				want := tc.form.fields[name]
				if got := fields[name]; !bytes.Equal([]byte(got), []byte(want)) {
					t.Errorf("%s read back as % x, want % x", name, got, want)
				}
			}

			ident := b.rulesIdentity(tc.account)
			if ident.NameMasked != tc.nameMasked {
				t.Errorf("identity name_masked = %q, want %q", ident.NameMasked, tc.nameMasked)
			}
			if matches, _ := b.rulesICP(tc.account, tc.form.fields[tc.nameField]); !matches {
				t.Errorf("ICP check of the verified name does not match")
			}
			if matches, _ := b.rulesICP(tc.account, strings.Replace(tc.form.fields[tc.nameField], "𠀀", "𠀁", 1)); matches {
				t.Errorf("ICP check of a name with another Extension B character matches")
			}
		})
	}
}

// TestRulesNameNormalization submits names in decomposed form (NFD). A
// person's name is stored in NFC; an enterprise name is stored as given.
// The ICP check compares both in NFC and is exact otherwise.
func TestRulesNameNormalization(t *testing.T) {
	b := setup(t)

	const personNFD = "Zoe\u0308 Chloe\u0301 Lefe\u0300vre"
	person := passportForm()
	person.fields["full_name"] = personNFD
	const enterpriseNFD = "Cafe\u0301 Ame\u0301lie Limited"
	enterprise := enterpriseForm()
	enterprise.fields["region"] = "HK"
	enterprise.fields["business_registration_number"] = "12345678"
	enterprise.fields["enterprise_name"] = enterpriseNFD

	tests := []struct {
		name       string
		account    string
		form       form
		field      string
		wantStored string
		matches    []string
		mismatches []string
	}{
		{
			name: "person", account: "acct-nfc-person", form: person, field: "full_name",
			wantStored: norm.NFC.String(personNFD),
			matches:    []string{"Zoë Chloé Lefèvre", personNFD, "  Zoë  Chloé Lefèvre "},
			mismatches: []string{"Zoe Chloe Lefevre", "zoë chloé lefèvre", "Zoë Lefèvre"},
		},
		{
			name: "enterprise", account: "acct-nfc-org", form: enterprise, field: "enterprise_name",
			wantStored: enterpriseNFD,
			matches:    []string{"Café Amélie Limited", enterpriseNFD},
			mismatches: []string{"Cafe Amelie Limited", "CAFÉ AMÉLIE LIMITED", "Café Amélie Ltd"},
		},
	}
	ids := b.rulesVerifyAll([]string{tests[0].account, tests[1].account}, []form{tests[0].form, tests[1].form})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := b.rulesFor(t)
			if got := b.rulesReviewFields(ids[i])[tc.field]; got != tc.wantStored {
				t.Errorf("%s stored as %+q, want %+q", tc.field, got, tc.wantStored)
			}
			for _, name := range tc.matches {
				if matches, verified := b.rulesICP(tc.account, name); !matches || !verified {
					t.Errorf("ICP check of %+q: matches %t verified %t, want both true", name, matches, verified)
				}
			}
			for _, name := range tc.mismatches {
				if matches, _ := b.rulesICP(tc.account, name); matches {
					t.Errorf("ICP check of %+q matches, want no match", name)
				}
			}
		})
	}
}
