package identity

// Individual is a person's verification form as submitted.
type Individual struct {
	Region         string
	DocumentType   string
	IssuingCountry string
	FullName       string
	Address        string
	DocumentNumber string
	MRZ            string // optional, passports only
}

// Organization is an enterprise's verification form as submitted.
type Organization struct {
	Region             string
	EnterpriseName     string
	RegisteredAddress  string
	RegistrationNumber string
}

// NormalizedIndividual is an Individual in the form to store and compare.
type NormalizedIndividual struct {
	Region         string // ISO 3166-1 alpha-2, upper case
	DocumentType   string // one of DocumentTypes
	IssuingCountry string // ISO 3166-1 alpha-2, upper case
	FullName       string // NFC, trimmed, inner white space collapsed to one space
	Address        string // NFC, trimmed, inner white space collapsed to one space
	DocumentNumber string // upper case without spaces and hyphens, as ValidateIndividual describes
	MRZ            string // two 44-character lines joined by "\n", or ""
}

// NormalizedOrganization is an Organization in the form to store and compare.
type NormalizedOrganization struct {
	Region             string // ISO 3166-1 alpha-2, upper case
	EnterpriseName     string // as given but trimmed, compared by NameKey
	RegisteredAddress  string // NFC, trimmed, inner white space collapsed to one space
	RegistrationNumber string // upper case without spaces and hyphens
}

// ValidateIndividual checks every field of a person's form and returns the
// normalized form and every broken rule, in field order. The normalized form
// is fit to store only when no violation is returned. The document number is
// normalized to upper case without spaces and hyphens. A passport number also
// loses trailing "<" fillers, and a Hong Kong identity card number loses the
// brackets around its check digit.
func ValidateIndividual(in Individual) (NormalizedIndividual, []Violation) {
	var vs violations
	var out NormalizedIndividual

	out.Region = validateRegion(&vs, FieldRegion, in.Region)

	docType, ok := NormalizeDocumentType(in.DocumentType)
	switch {
	case docType == "":
		vs.add(FieldDocumentType, CodeRequired, "document_type is required: use passport, national_id, drivers_license or work_permit.")
	case !ok:
		vs.add(FieldDocumentType, CodeInvalidDocumentType, "document_type must be passport, national_id, drivers_license or work_permit.")
	default:
		out.DocumentType = docType
	}

	out.IssuingCountry = validateRegion(&vs, FieldIssuingCountry, in.IssuingCountry)
	out.FullName = validateFullName(&vs, in.FullName)
	out.Address = validateAddress(&vs, FieldAddress, in.Address)
	out.DocumentNumber = validateDocumentNumber(&vs, out.DocumentType, out.IssuingCountry, in.DocumentNumber)
	out.MRZ = validateMRZ(&vs, out.DocumentType, in.MRZ, out.DocumentNumber, out.FullName)
	return out, vs
}

// ValidateOrganization checks every field of an enterprise's form and returns
// the normalized form and every broken rule, in field order. The normalized
// form is fit to store only when no violation is returned. The registration
// number is checked by the rule of the registered region.
func ValidateOrganization(in Organization) (NormalizedOrganization, []Violation) {
	var vs violations
	var out NormalizedOrganization

	out.Region = validateRegion(&vs, FieldRegion, in.Region)
	out.EnterpriseName = validateEnterpriseName(&vs, in.EnterpriseName)
	out.RegisteredAddress = validateAddress(&vs, FieldRegisteredAddress, in.RegisteredAddress)
	out.RegistrationNumber = validateRegistrationNumber(&vs, out.Region, in.RegistrationNumber)
	return out, vs
}

// validateRegion checks an ISO 3166-1 alpha-2 field and returns it in upper
// case, or "" when it is invalid.
func validateRegion(vs *violations, field, raw string) string {
	code, ok := NormalizeRegion(raw)
	switch {
	case code == "":
		vs.add(field, CodeRequired, field+" is required: use an ISO 3166-1 alpha-2 code such as HK or CN.")
		return ""
	case !ok:
		vs.add(field, CodeInvalidRegion, field+" must be an assigned ISO 3166-1 alpha-2 code such as HK or CN.")
		return ""
	}
	return code
}

// IdentityKey returns the canonical string that identifies one real person
// for quota purposes: "doc|<issuing country>|<document type>|<normalized
// number>", for example "doc|HK|national_id|A1234563". Call it only on a form
// that passed ValidateIndividual.
func (n NormalizedIndividual) IdentityKey() string {
	return "doc|" + n.IssuingCountry + "|" + n.DocumentType + "|" + n.DocumentNumber
}

// IdentityKey returns the canonical string that identifies one enterprise
// for quota purposes: "org|<region>|<normalized number>", for example
// "org|CN|91350100M000100Y43". A Hong Kong number is cut to its 8-digit
// Business Registration number, because the branch and certificate suffix
// changes when the certificate is renewed. Call it only on a form that passed
// ValidateOrganization.
func (n NormalizedOrganization) IdentityKey() string {
	number := n.RegistrationNumber
	if n.Region == "HK" && len(number) > brnLength {
		number = number[:brnLength]
	}
	return "org|" + n.Region + "|" + number
}
