package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// fieldsFormatBinary is the first byte of the sealed personal fields in the
// current encoding: then each field of Fields, in declaration order, as a
// uvarint byte length followed by the bytes. Rows written before it hold a
// JSON object, which starts with '{'.
//
// A field shorter than 16 KiB takes 2 bytes more than its text. JSON would
// not fit the column: it escapes control characters, U+2028 and U+2029 to 6
// bytes each, so four text fields at the intake's cap of 1,024 bytes could
// grow to 24 KiB, over the 8,192 bytes of applications.fields_enc.
const fieldsFormatBinary = 0x01

// errFieldsEncoding reports sealed fields that decrypt but do not decode.
var errFieldsEncoding = errors.New("invalid personal fields encoding")

func (f *Fields) members() []*string {
	return []*string{
		&f.FullName, &f.Address, &f.DocumentNumber, &f.MRZ,
		&f.EnterpriseName, &f.RegisteredAddress, &f.RegistrationNumber,
	}
}

// encodeFields returns f in the binary encoding, ready to seal.
func encodeFields(f Fields) []byte {
	members := f.members()
	size := 1
	for _, m := range members {
		size += binary.MaxVarintLen64 + len(*m)
	}
	out := make([]byte, 0, size)
	out = append(out, fieldsFormatBinary)
	for _, m := range members {
		out = binary.AppendUvarint(out, uint64(len(*m)))
		out = append(out, *m...)
	}
	return out
}

// decodeFields reads fields written by encodeFields or, for older rows, by
// json.Marshal.
func decodeFields(data []byte) (Fields, error) {
	var f Fields
	if len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &f); err != nil {
			return Fields{}, fmt.Errorf("%w: %w", errFieldsEncoding, err)
		}
		return f, nil
	}
	if len(data) == 0 || data[0] != fieldsFormatBinary {
		return Fields{}, fmt.Errorf("%w: unknown format", errFieldsEncoding)
	}
	rest := data[1:]
	for i, m := range f.members() {
		n, size := binary.Uvarint(rest)
		if size <= 0 || n > uint64(len(rest)-size) {
			return Fields{}, fmt.Errorf("%w: field %d is cut short", errFieldsEncoding, i)
		}
		rest = rest[size:]
		*m = string(rest[:n])
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return Fields{}, fmt.Errorf("%w: %d bytes after the last field", errFieldsEncoding, len(rest))
	}
	return f, nil
}
