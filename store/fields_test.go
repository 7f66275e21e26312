package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFieldsEncoding(t *testing.T) {
	person := Fields{
		FullName: "𠀀陳大文", Address: "Flat 1 🏢\x01\u2028<>&", DocumentNumber: "A1234563",
		MRZ: "P<UTO\nL898902C3",
	}
	legacy, err := json.Marshal(person)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("round trip", func(t *testing.T) {
		for _, f := range []Fields{{}, person, {EnterpriseName: "福建示例", RegisteredAddress: "88 Wusi Road", RegistrationNumber: "91350100M000100Y43"}} {
			got, err := decodeFields(encodeFields(f))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(f, got); diff != "" {
				t.Errorf("decoded fields (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("legacy JSON", func(t *testing.T) {
		got, err := decodeFields(legacy)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(person, got); diff != "" {
			t.Errorf("decoded fields (-want +got):\n%s", diff)
		}
	})

	t.Run("size at the intake caps", func(t *testing.T) {
		// Four text fields of an individual at 1,024 bytes of characters
		// that JSON escapes to six bytes each.
		full := strings.Repeat("\x01", 1024)
		encoded := encodeFields(Fields{FullName: full, Address: full, DocumentNumber: full, MRZ: full})
		if len(encoded) > 4*(1024+2)+1+3 {
			t.Errorf("encoded fields take %d bytes, want at most %d", len(encoded), 4*(1024+2)+1+3)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		valid := encodeFields(person)
		for name, data := range map[string][]byte{
			"empty":          nil,
			"unknown format": {0x02, 0},
			"cut short":      valid[:len(valid)-1],
			"trailing bytes": append(append([]byte{}, valid...), 0),
			"bad JSON":       []byte(`{"full_name":`),
		} {
			if _, err := decodeFields(data); !errors.Is(err, errFieldsEncoding) {
				t.Errorf("%s: error %v, want errFieldsEncoding", name, err)
			}
		}
	})
}
