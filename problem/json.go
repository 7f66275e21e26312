package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxJSONBody is the size limit of JSON request bodies: 64 KiB.
const MaxJSONBody = 64 << 10

// DecodeJSON reads one JSON object of at most MaxJSONBody bytes into v,
// rejecting unknown members, a null body and anything after the object.
// On failure it writes the problem (413 body_too_large or 400
// invalid_json, naming the member and the expected type where it can)
// and returns false.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		Write(w, r, New(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("The JSON body is larger than the limit of %d bytes.", MaxJSONBody)))
		return false
	}
	if err != nil {
		Write(w, r, New(http.StatusBadRequest, "invalid_json", "The body could not be read; send it again."))
		return false
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		Write(w, r, New(http.StatusBadRequest, "invalid_json", "The body must be one JSON object."))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		Write(w, r, New(http.StatusBadRequest, "invalid_json", describeJSONError(err)))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		Write(w, r, New(http.StatusBadRequest, "invalid_json", "The body must hold exactly one JSON object; remove what follows it."))
		return false
	}
	return true
}

// describeJSONError turns a decoding error into a sentence for the
// caller, without Go type names and without echoing values.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("The body is not valid JSON (error at byte %d).", syntax.Offset)
	case errors.As(err, &typ):
		want := typ.Type.Kind().String()
		switch want {
		case "slice", "array":
			want = "an array"
		case "struct", "map":
			want = "an object"
		case "bool":
			want = "true or false"
		case "int", "int64", "float64":
			want = "a number"
		default:
			want = "a " + want
		}
		if typ.Field == "" {
			return "The body must be one JSON object."
		}
		return fmt.Sprintf("Member %q must be %s, not a JSON %s.", typ.Field, want, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "Unknown member " + strings.TrimPrefix(err.Error(), "json: unknown field ") + "; check its spelling against /openapi.yaml."
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "The JSON body ends too early."
	}
	return "The body is not valid JSON for this endpoint."
}
