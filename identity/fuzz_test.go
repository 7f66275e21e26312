package identity_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/identity"
)

// FuzzValidateIndividual checks that validation never panics and that a form
// which passes is a fixed point: validating its normalized form again yields
// the same normalized form and no violations.
func FuzzValidateIndividual(f *testing.F) {
	f.Add("HK", "passport", "SE", "Anna Maria Eriksson", "1 Harbour Road", "L898902C3", specimenMRZ)
	f.Add("hk", "national_id", "hk", " 陳 大文 ", "香港中環皇后大道中1號", "a123456(3)", "")
	f.Add("CN", "national_id", "CN", "王小明", "北京市东城区示例街2号", "11010519491231002x", "")
	f.Add("SG", "drivers_license", "SG", "Jose\u0301 O'Brien", "1 Main St", "s-1234 567d", "")
	f.Add("HK", "passport", "SE", "Anna", "x", "<<<", "P<\n\r")
	f.Fuzz(func(t *testing.T, region, documentType, issuer, name, address, number, mrz string) {
		in := identity.Individual{
			Region: region, DocumentType: documentType, IssuingCountry: issuer,
			FullName: name, Address: address, DocumentNumber: number, MRZ: mrz,
		}
		first, vs := identity.ValidateIndividual(in)
		if len(vs) != 0 {
			return
		}
		again, vs := identity.ValidateIndividual(identity.Individual(first))
		if len(vs) != 0 {
			t.Fatalf("normalized form has violations %v", codes(vs))
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("normalizing twice changed the form (-first +again):\n%s", diff)
		}
	})
}

// FuzzValidateOrganization checks the same fixed point for enterprises.
func FuzzValidateOrganization(f *testing.F) {
	f.Add("HK", "Example Trading Limited", "1 Queen's Road Central", "12345678-000-01-24-A")
	f.Add("cn", "示例科技有限公司", "福建省福州市鼓楼区示例路1号", "91350100m000100y43")
	f.Add("SG", "Marks & Spencer", "1 Raffles Place", "2012 34567K")
	f.Fuzz(func(t *testing.T, region, name, address, number string) {
		first, vs := identity.ValidateOrganization(identity.Organization{
			Region: region, EnterpriseName: name, RegisteredAddress: address, RegistrationNumber: number,
		})
		if len(vs) != 0 {
			return
		}
		again, vs := identity.ValidateOrganization(identity.Organization(first))
		if len(vs) != 0 {
			t.Fatalf("normalized form has violations %v", codes(vs))
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("normalizing twice changed the form (-first +again):\n%s", diff)
		}
	})
}
