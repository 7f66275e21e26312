package photo

import (
	"errors"
	"testing"
)

// TestRecoverDecoderPanic covers the path that no known input reaches: a
// decoder panic becomes a photo_corrupt violation instead of a crash.
func TestRecoverDecoderPanic(t *testing.T) {
	err := func() (err error) {
		defer recoverDecoder(&err)
		panic("index out of range")
	}()
	if !errors.Is(err, errDecoderPanic) {
		t.Fatalf("error = %v, want errDecoderPanic", err)
	}
	complete := []byte{0xFF, 0xD8, 0xFF, 0xD9}
	if code, _ := classify(FormatJPEG, complete, err); code != CodeCorrupt {
		t.Errorf("classify() code = %q, want %q", code, CodeCorrupt)
	}
}
