package identity_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/identity"
)

// nameLine returns a TD3 line 1 for issuing state UTO with the given name
// field, padded with fillers to 44 characters.
func nameLine(nameField string) string {
	line := "P<UTO" + nameField
	return line + strings.Repeat("<", 44-len(line))
}

// withComposite returns line 2 with its composite check digit (position 43)
// recomputed, so a test can break one field check digit alone.
func withComposite(line2 string) string {
	composite := identity.MRZCheckDigit(line2[0:10] + line2[13:20] + line2[21:43])
	return line2[:43] + string(composite)
}

// replaceAt returns s with the byte at i replaced by c.
func replaceAt(s string, i int, c byte) string {
	return s[:i] + string(c) + s[i+1:]
}

func TestMRZ(t *testing.T) {
	tests := []struct {
		name     string
		mrz      string
		fullName string // default "Anna Maria Eriksson"
		number   string // default "L898902C3"
		want     []string
	}{
		{name: "specimen", mrz: specimenMRZ, want: []string{}},
		{name: "CRLF", mrz: specimenLine1 + "\r\n" + specimenLine2 + "\r\n", want: []string{}},
		{name: "concatenated", mrz: specimenLine1 + specimenLine2, want: []string{}},
		{name: "lower case and spaces around", mrz: "  " + strings.ToLower(specimenMRZ) + "\n ", want: []string{}},
		{name: "given names first", mrz: specimenMRZ, fullName: "Maria Anna ERIKSSON", want: []string{}},
		{name: "comma form", mrz: specimenMRZ, fullName: "ERIKSSON, Anna-Maria", want: []string{}},
		{
			name: "personal number check digit filler",
			mrz:  specimenLine1 + "\n" + withComposite("L898902C36UTO7408122F1204159<<<<<<<<<<<<<<<<"),
			want: []string{},
		},
		{
			name: "personal number check digit zero",
			mrz:  specimenLine1 + "\n" + withComposite("L898902C36UTO7408122F1204159<<<<<<<<<<<<<<0<"),
			want: []string{},
		},
		{
			name: "document number check digit",
			mrz:  specimenLine1 + "\n" + withComposite(replaceAt(specimenLine2, 9, '7')),
			want: []string{"mrz:mrz_check_digit_document_number"},
		},
		{
			name: "birth date check digit",
			mrz:  specimenLine1 + "\n" + withComposite(replaceAt(specimenLine2, 19, '3')),
			want: []string{"mrz:mrz_check_digit_birth_date"},
		},
		{
			name: "expiry date check digit",
			mrz:  specimenLine1 + "\n" + withComposite(replaceAt(specimenLine2, 27, '0')),
			want: []string{"mrz:mrz_check_digit_expiry_date"},
		},
		{
			name: "personal number check digit",
			mrz:  specimenLine1 + "\n" + withComposite(replaceAt(specimenLine2, 42, '2')),
			want: []string{"mrz:mrz_check_digit_personal_number"},
		},
		{
			name: "personal number check filler with data",
			mrz:  specimenLine1 + "\n" + withComposite(replaceAt(specimenLine2, 42, '<')),
			want: []string{"mrz:mrz_check_digit_personal_number"},
		},
		{
			name: "composite check digit",
			mrz:  specimenLine1 + "\n" + replaceAt(specimenLine2, 43, '1'),
			want: []string{"mrz:mrz_check_digit_composite"},
		},
		{
			name: "altered birth date",
			mrz:  specimenLine1 + "\n" + replaceAt(specimenLine2, 14, '5'),
			want: []string{"mrz:mrz_check_digit_birth_date", "mrz:mrz_check_digit_composite"},
		},
		{
			name:   "number differs from form",
			mrz:    specimenMRZ,
			number: "L898902C4",
			want:   []string{"mrz:mrz_number_mismatch"},
		},
		{name: "name part missing", mrz: specimenMRZ, fullName: "Anna Eriksson", want: []string{"mrz:mrz_name_mismatch"}},
		{name: "extra name part", mrz: specimenMRZ, fullName: "Anna Maria Sofia Eriksson", want: []string{"mrz:mrz_name_mismatch"}},
		{name: "different surname", mrz: specimenMRZ, fullName: "Anna Maria Eriksen", want: []string{"mrz:mrz_name_mismatch"}},
		{name: "name in another script", mrz: specimenMRZ, fullName: "アンナ マリア エリクソン", want: []string{"mrz:mrz_name_mismatch"}},
		{name: "43-character line", mrz: specimenLine1 + "\n" + specimenLine2[:43], want: []string{"mrz:mrz_format"}},
		{name: "87 characters", mrz: specimenLine1 + specimenLine2[:43], want: []string{"mrz:mrz_format"}},
		{name: "three lines", mrz: specimenMRZ + "\n" + specimenLine2, want: []string{"mrz:mrz_format"}},
		{name: "space instead of filler", mrz: strings.Replace(specimenMRZ, "<", " ", 1), want: []string{"mrz:mrz_format"}},
		{name: "not a passport code", mrz: "I" + specimenLine1[1:] + "\n" + specimenLine2, want: []string{"mrz:mrz_format"}},
		{name: "invalid UTF-8", mrz: specimenLine1 + "\n\xff" + specimenLine2[1:], want: []string{"mrz:invalid_utf8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validPassport()
			in.MRZ = tt.mrz
			if tt.fullName != "" {
				in.FullName = tt.fullName
			}
			if tt.number != "" {
				in.DocumentNumber = tt.number
			}
			got, vs := identity.ValidateIndividual(in)
			if diff := cmp.Diff(tt.want, codes(vs)); diff != "" {
				t.Errorf("violations mismatch (-want +got):\n%s", diff)
			}
			checkDetails(t, vs, in.FullName, in.DocumentNumber, tt.mrz)
			if len(tt.want) == 0 && !strings.Contains(got.MRZ, "\n") {
				t.Errorf("MRZ = %q, want two lines joined by a newline", got.MRZ)
			}
		})
	}
}

func TestMRZNormalized(t *testing.T) {
	in := validPassport()
	in.MRZ = strings.ToLower(specimenLine1+specimenLine2) + "\r\n"
	got, vs := identity.ValidateIndividual(in)
	if len(vs) != 0 {
		t.Fatalf("violations = %v, want none", codes(vs))
	}
	if got.MRZ != specimenMRZ {
		t.Errorf("MRZ = %q, want %q", got.MRZ, specimenMRZ)
	}
}

func TestMRZOnlyForPassports(t *testing.T) {
	in := identity.Individual{
		Region:         "HK",
		DocumentType:   "national_id",
		IssuingCountry: "HK",
		FullName:       "Chan Tai Man",
		Address:        "1 Harbour Road, Wan Chai, Hong Kong",
		DocumentNumber: "A123456(3)",
		MRZ:            specimenMRZ,
	}
	_, vs := identity.ValidateIndividual(in)
	if diff := cmp.Diff([]string{"mrz:mrz_not_applicable"}, codes(vs)); diff != "" {
		t.Errorf("violations mismatch (-want +got):\n%s", diff)
	}

	in.MRZ = " \n "
	if _, vs := identity.ValidateIndividual(in); len(vs) != 0 {
		t.Errorf("blank MRZ: violations = %v, want none", codes(vs))
	}
}

func TestMRZNameTransliteration(t *testing.T) {
	tests := []struct {
		name      string
		nameField string
		fullName  string
		match     bool
	}{
		{name: "umlaut as OE and UE", nameField: "MUELLER<<JOERG", fullName: "Jörg Müller", match: true},
		{name: "umlaut as O and U", nameField: "MULLER<<JORG", fullName: "Jörg Müller", match: true},
		{name: "umlaut decomposed input", nameField: "MUELLER<<JOERG", fullName: "Jo\u0308rg Mu\u0308ller", match: true},
		{name: "ring as AA", nameField: "AANGSTROEM<<ANDERS", fullName: "Anders Ångström", match: true},
		{name: "sharp s", nameField: "STRASSER<<ERIK", fullName: "Erik Straßer", match: true},
		{name: "slashed o", nameField: "SOERENSEN<<SOEREN", fullName: "Søren Sørensen", match: true},
		{name: "acute dropped", nameField: "GARCIA<MARQUEZ<<JOSE", fullName: "José García Márquez", match: true},
		{name: "n tilde as NXX", nameField: "NXXUNXXEZ<<MARIA", fullName: "María Ñuñez", match: true},
		{name: "n tilde as N", nameField: "NUNEZ<<MARIA", fullName: "María Ñuñez", match: true},
		{name: "apostrophe dropped", nameField: "OBRIEN<<SEAN", fullName: "Seán O'Brien", match: true},
		{name: "curly apostrophe dropped", nameField: "DANGELO<<LUCA", fullName: "Luca D’Angelo", match: true},
		{name: "okina dropped", nameField: "KAAHUMANU<<ELIZABETH", fullName: "Elizabeth Kaʻahumanu", match: true},
		{name: "hyphen separates", nameField: "SMITH<JONES<<MARY", fullName: "Mary Smith-Jones", match: true},
		{name: "middle dot separates", nameField: "MAHMUT<<ALIM", fullName: "Alim·Mahmut", match: true},
		{name: "mononym", nameField: "SUKARNO", fullName: "Sukarno", match: true},
		{name: "repeated part counted", nameField: "LEE<<LEE<MIN", fullName: "Lee Min", match: false},
		{name: "repeated part both sides", nameField: "LEE<<LEE<MIN", fullName: "Lee Lee Min", match: true},
		{name: "many alternatives capped", nameField: "UEUEUEUEUEUEUE<<ANNA", fullName: "Anna Üüüüüüü", match: true},
		{name: "Chinese characters", nameField: "CHAN<<TAI<MAN", fullName: "陳大文", match: false},
		{name: "Cyrillic", nameField: "IVANOV<<IVAN", fullName: "Иван Иванов", match: false},
		{
			name:      "truncated last part is a prefix",
			nameField: "ERIKSSON<VANDERBILT<<ANNA<MARIA<ELISABE",
			fullName:  "Anna Maria Elisabeth Eriksson Vanderbilt",
			match:     true,
		},
		{
			name:      "truncated drops trailing parts",
			nameField: "ERIKSSON<VANDERBILT<<ANNA<MARIA<ELISABE",
			fullName:  "Anna Maria Elisabeth Sofia Eriksson Vanderbilt",
			match:     true,
		},
		{
			name:      "truncated earlier part must be whole",
			nameField: "ERIKSSON<VANDERBILT<<ANNA<MARIA<ELISABE",
			fullName:  "Anna Mar Elisabeth Eriksson Vanderbilt",
			match:     false,
		},
		{
			name:      "not truncated when field has a filler",
			nameField: "ERIKSSON<<ANNA<MA",
			fullName:  "Anna Maria Eriksson",
			match:     false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.nameField) > 39 {
				t.Fatalf("name field has %d characters, TD3 allows 39", len(tt.nameField))
			}
			in := validPassport()
			in.FullName = tt.fullName
			in.MRZ = nameLine(tt.nameField) + "\n" + specimenLine2
			_, vs := identity.ValidateIndividual(in)
			want := []string{}
			if !tt.match {
				want = []string{"mrz:mrz_name_mismatch"}
			}
			if diff := cmp.Diff(want, codes(vs)); diff != "" {
				t.Errorf("violations mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
