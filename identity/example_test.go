package identity_test

import (
	"fmt"

	"github.com/idverify/idverify/identity"
)

func ExampleValidateIndividual() {
	normalized, violations := identity.ValidateIndividual(identity.Individual{
		Region:         "hk",
		DocumentType:   "national_id",
		IssuingCountry: "HK",
		FullName:       " Chan  Tai Man ",
		Address:        "1 Harbour Road, Wan Chai, Hong Kong",
		DocumentNumber: "a123456(4)",
	})
	for _, v := range violations {
		fmt.Println(v.Field, v.Code)
	}
	fmt.Printf("%q\n", normalized.FullName)
	// Output:
	// document_number hkid_check_digit
	// "Chan Tai Man"
}

func ExampleNormalizedOrganization_IdentityKey() {
	normalized, violations := identity.ValidateOrganization(identity.Organization{
		Region:             "HK",
		EnterpriseName:     "Example Trading Limited",
		RegisteredAddress:  "1 Queen's Road Central, Hong Kong",
		RegistrationNumber: "12345678-000-01-24-A",
	})
	fmt.Println(len(violations), normalized.RegistrationNumber, normalized.IdentityKey())
	// Output:
	// 0 123456780000124A org|HK|12345678
}

func ExampleMask() {
	fmt.Println(identity.Mask("E12345678"), identity.Mask("陳大文"))
	// Output:
	// E1****78 陳****
}
