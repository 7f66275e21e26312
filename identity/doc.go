// Package identity holds the field and document rules for verification
// applications: which values are valid, their normalized stored form, and
// the keys that identify one real person or enterprise for quota purposes.
//
// The package does no I/O. ValidateIndividual and ValidateOrganization
// return every broken rule as a Violation with a stable Code. A Detail never
// contains the submitted value, so violations may be logged and returned to
// callers.
//
// # Violation codes
//
// Shared by several fields:
//
//	required             the field is empty after trimming spaces
//	invalid_utf8         the value is not valid UTF-8
//	too_short, too_long  the length in characters (Unicode code points after NFC) is out of range
//	control_characters   control characters, line or paragraph separators, or bidirectional controls
//	markup               HTML or XML markup characters
//	invalid_region       region or issuing_country is not an assigned ISO 3166-1 alpha-2 code
//
// full_name:
//
//	invalid_characters   a character other than letters, combining marks, spaces, apostrophes,
//	                     hyphens, periods, commas and middle dots
//	digits_only          only digits were given
//	contains_digits      digits mixed with letters
//	no_letters           only punctuation was given
//
// document_type: invalid_document_type.
//
// document_number:
//
//	passport_format         passports: 1 to 9 of A-Z, 0-9 and <
//	hkid_format             Hong Kong national_id layout
//	hkid_check_digit        Hong Kong national_id check digit (weighted mod 11)
//	prc_id_format           PRC national_id layout
//	prc_id_check_digit      PRC national_id check character (ISO 7064 MOD 11-2)
//	prc_id_birth_date       PRC national_id embedded birth date is not a calendar date
//	document_number_format  other documents: 4 to 20 of A-Z and 0-9
//
// mrz:
//
//	mrz_not_applicable               an MRZ was given for a document that is not a passport
//	mrz_format                       not two 44-character TD3 lines starting with P
//	mrz_check_digit_document_number  ICAO 9303 check digit of the document number
//	mrz_check_digit_birth_date       ICAO 9303 check digit of the birth date
//	mrz_check_digit_expiry_date      ICAO 9303 check digit of the expiry date
//	mrz_check_digit_personal_number  ICAO 9303 check digit of the personal number
//	mrz_check_digit_composite        ICAO 9303 composite check digit
//	mrz_number_mismatch              the MRZ document number differs from document_number
//	mrz_name_mismatch                the MRZ name differs from full_name
//
// business_registration_number:
//
//	brn_format                  HK Business Registration number layout
//	uscc_format                 CN Unified Social Credit Code layout
//	uscc_check_character        CN Unified Social Credit Code check character (GB 32100)
//	registration_number_format  other regions: 4 to 30 of A-Z and 0-9
package identity
