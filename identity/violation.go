package identity

// Violation is one broken rule on one field.
type Violation struct {
	// Field is the form field name, for example "document_number".
	Field string `json:"field"`
	// Code is the stable snake_case rule code, for example "hkid_check_digit".
	Code string `json:"code"`
	// Detail is an English sentence for the caller that states the rule and
	// what to do. It never contains the submitted value.
	Detail string `json:"detail"`
}

// Form field names used in Violation.Field.
const (
	FieldRegion                     = "region"
	FieldDocumentType               = "document_type"
	FieldIssuingCountry             = "issuing_country"
	FieldFullName                   = "full_name"
	FieldAddress                    = "address"
	FieldDocumentNumber             = "document_number"
	FieldMRZ                        = "mrz"
	FieldEnterpriseName             = "enterprise_name"
	FieldRegisteredAddress          = "registered_address"
	FieldBusinessRegistrationNumber = "business_registration_number"
)

// Violation codes. The package documentation lists which fields use each.
const (
	CodeRequired          = "required"
	CodeInvalidUTF8       = "invalid_utf8"
	CodeTooShort          = "too_short"
	CodeTooLong           = "too_long"
	CodeControlCharacters = "control_characters"
	CodeMarkup            = "markup"
	CodeInvalidRegion     = "invalid_region"

	CodeInvalidCharacters = "invalid_characters"
	CodeDigitsOnly        = "digits_only"
	CodeContainsDigits    = "contains_digits"
	CodeNoLetters         = "no_letters"

	CodeInvalidDocumentType = "invalid_document_type"

	CodePassportFormat       = "passport_format"
	CodeHKIDFormat           = "hkid_format"
	CodeHKIDCheckDigit       = "hkid_check_digit"
	CodePRCIDFormat          = "prc_id_format"
	CodePRCIDCheckDigit      = "prc_id_check_digit"
	CodePRCIDBirthDate       = "prc_id_birth_date"
	CodeDocumentNumberFormat = "document_number_format"

	CodeMRZNotApplicable            = "mrz_not_applicable"
	CodeMRZFormat                   = "mrz_format"
	CodeMRZCheckDigitDocumentNumber = "mrz_check_digit_document_number"
	CodeMRZCheckDigitBirthDate      = "mrz_check_digit_birth_date"
	CodeMRZCheckDigitExpiryDate     = "mrz_check_digit_expiry_date"
	CodeMRZCheckDigitPersonalNumber = "mrz_check_digit_personal_number"
	CodeMRZCheckDigitComposite      = "mrz_check_digit_composite"
	CodeMRZNumberMismatch           = "mrz_number_mismatch"
	CodeMRZNameMismatch             = "mrz_name_mismatch"

	CodeBRNFormat                = "brn_format"
	CodeUSCCFormat               = "uscc_format"
	CodeUSCCCheckCharacter       = "uscc_check_character"
	CodeRegistrationNumberFormat = "registration_number_format"
)

// violations collects Violations in the order the rules run, keeping only
// the first occurrence of each (field, code) pair.
type violations []Violation

func (vs *violations) add(field, code, detail string) {
	for _, v := range *vs {
		if v.Field == field && v.Code == code {
			return
		}
	}
	*vs = append(*vs, Violation{Field: field, Code: code, Detail: detail})
}
