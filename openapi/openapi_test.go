package openapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/openapi"
)

// The go.mod of this module has no YAML library, so these tests read the
// document line by line. They rely on the layout openapi.yaml keeps: two
// spaces per level, paths at level 1 under "paths:", methods at level 2.

// registeredRoutes are the patterns that producer.Register and
// review.Register mount. TestRegisterTableMatchesSource keeps this table in
// step with the source.
var registeredRoutes = []string{
	"PUT /v1/accounts/{account_id}",
	"GET /v1/accounts/{account_id}/identity",
	"POST /v1/accounts/{account_id}/verifications",
	"GET /v1/accounts/{account_id}/verifications",
	"GET /v1/accounts/{account_id}/verifications/{id}",
	"POST /v1/accounts/{account_id}/verifications/{id}/withdraw",
	"POST /v1/accounts/{account_id}/icp-name-check",
	"GET /v1/accounts/{account_id}/messages",
	"POST /v1/accounts/{account_id}/messages/{id}/read",
	"GET /v1/review/applications",
	"GET /v1/review/applications/{id}",
	"GET /v1/review/applications/{id}/photo",
	"POST /v1/review/applications/{id}/claim",
	"DELETE /v1/review/applications/{id}/claim",
	"POST /v1/review/applications/{id}/decision",
	"GET /v1/review/applications/{id}/audit",
	"GET /v1/review/reasons",
}

var (
	// routeCall matches route("METHOD /path", ...) in the Register methods.
	routeCall = regexp.MustCompile(`\broute\("([^"]+)"`)
	// muxCall matches mux.Handle("pattern", ...) and mux.HandleFunc.
	muxCall = regexp.MustCompile(`\bmux\.Handle(?:Func)?\("([^"]+)"`)
	// problemCall matches the code argument of problem.New and New.
	problemCall = regexp.MustCompile(`\bNew\(\s*http\.Status\w+,\s*"([a-z0-9_]+)"`)
	// fieldCode matches the code of a field violation: a Violation
	// literal's Code or the second argument of shapeCheck's add helper.
	fieldCode = regexp.MustCompile(`(?:\bCode:\s*|\badd\([^,()]+,\s*)"([a-z0-9_]+)"`)
	// backquoted matches `code` in descriptions.
	backquoted = regexp.MustCompile("`([a-z0-9_]+)`")
	// componentRef matches $ref: '#/components/kind/name'.
	componentRef = regexp.MustCompile(`\$ref:\s*'#/components/([A-Za-z]+)/([A-Za-z0-9_.-]+)'`)
)

func TestRegisterTableMatchesSource(t *testing.T) {
	var got []string
	for _, file := range []string{"../producer/producer.go", "../review/review.go"} {
		got = append(got, submatches(t, routeCall, readSource(t, file))...)
	}

	want := slices.Clone(registeredRoutes)
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes in Register differ from the table (-want +got):\n%s", diff)
	}
}

func TestDocumentCoversRegisteredRoutes(t *testing.T) {
	ops := pathOperations(string(openapi.Document()))
	for _, pattern := range registeredRoutes {
		method, path := splitPattern(pattern)
		if !slices.Contains(ops[path], method) {
			t.Errorf("route %q: want %s under paths.%s, document has %v", pattern, method, path, ops[path])
		}
	}
}

func TestDocumentCoversServerRoutes(t *testing.T) {
	patterns := submatches(t, muxCall, readSource(t, "../cmd/idverify/instance.go"))
	if len(patterns) < 5 {
		t.Fatalf("found %d mux patterns in instance.go, want at least 5; does muxCall still match?", len(patterns))
	}

	ops := pathOperations(string(openapi.Document()))
	for _, pattern := range patterns {
		if pattern == "/v1/" {
			continue // the API mux; TestDocumentCoversRegisteredRoutes covers its routes
		}
		method, path := splitPattern(pattern)
		if !slices.Contains(ops[path], method) {
			t.Errorf("route %q: want %s under paths.%s, document has %v", pattern, method, path, ops[path])
		}
	}
}

func TestDocumentListsProblemCodes(t *testing.T) {
	var sources []string
	for _, pattern := range []string{"../producer/*.go", "../review/*.go", "../problem/*.go", "../auth/*.go"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				sources = append(sources, f)
			}
		}
	}
	codes := map[string]bool{}
	for _, f := range sources {
		src := readSource(t, f)
		for _, re := range []*regexp.Regexp{problemCall, fieldCode} {
			for _, c := range submatches(t, re, src) {
				codes[c] = true
			}
		}
	}

	// A few codes from each kind of call, so that a regexp that stops
	// matching fails here instead of checking nothing.
	for _, c := range []string{"invalid_account_id", "open_application_exists", "wrong_scope", "invalid_request",
		"unknown_field", "terms_not_accepted", "invalid_reason", "invalid_status"} {
		if !codes[c] {
			t.Errorf("code %q not found in the sources; update the regexps", c)
		}
	}

	documented := documentedCodes(string(openapi.Document()))
	var missing []string
	for c := range codes {
		if !documented[c] {
			missing = append(missing, c)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("problem and field codes emitted by the code but absent from openapi.yaml: %v", missing)
	}
}

func TestDocumentRefsResolve(t *testing.T) {
	doc := string(openapi.Document())
	defined := componentNames(doc)
	for _, m := range componentRef.FindAllStringSubmatch(doc, -1) {
		kind, name := m[1], m[2]
		if !defined[kind][name] {
			t.Errorf("$ref to components.%s.%s, which is not defined", kind, name)
		}
	}
}

func TestDocumentHeader(t *testing.T) {
	doc := string(openapi.Document())
	if !strings.HasPrefix(doc, "openapi: 3.1.") {
		t.Errorf("document starts with %q, want \"openapi: 3.1.\"", firstLine(doc))
	}
	if i := strings.IndexByte(doc, '\t'); i >= 0 {
		t.Errorf("document has a tab at line %d; YAML indents with spaces only", strings.Count(doc[:i], "\n")+1)
	}
}

func TestHandlerServesDocument(t *testing.T) {
	srv := httptest.NewServer(openapi.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/yaml") {
		t.Errorf("Content-Type = %q, want application/yaml", got)
	}
	if string(body) != string(openapi.Document()) {
		t.Errorf("body has %d bytes, want the %d bytes of the document", len(body), len(openapi.Document()))
	}
}

// pathOperations returns the lower-case methods listed under each path of
// the document's paths section.
func pathOperations(doc string) map[string][]string {
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}
	ops := map[string][]string{}
	inPaths := false
	current := ""
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		switch indent(line) {
		case 0:
			inPaths = trimmed == "paths:"
			current = ""
		case 2:
			if inPaths && strings.HasSuffix(trimmed, ":") {
				current = strings.Trim(strings.TrimSuffix(trimmed, ":"), `'"`)
				ops[current] = ops[current][:0:0]
			}
		case 4:
			key := strings.TrimSuffix(trimmed, ":")
			if inPaths && current != "" && methods[key] {
				ops[current] = append(ops[current], key)
			}
		}
	}
	return ops
}

// componentNames returns the names defined under each kind of the
// components section, such as components.schemas.Problem.
func componentNames(doc string) map[string]map[string]bool {
	names := map[string]map[string]bool{}
	inComponents := false
	kind := ""
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || !strings.HasSuffix(trimmed, ":") {
			continue
		}
		key := strings.TrimSuffix(trimmed, ":")
		switch indent(line) {
		case 0:
			inComponents = key == "components"
		case 2:
			if inComponents {
				kind = key
				names[kind] = map[string]bool{}
			}
		case 4:
			if inComponents && kind != "" {
				names[kind][key] = true
			}
		}
	}
	return names
}

// documentedCodes returns the snake_case words the document names as codes:
// in backquotes, in enum lists and as const values.
func documentedCodes(doc string) map[string]bool {
	codes := map[string]bool{}
	for _, m := range backquoted.FindAllStringSubmatch(doc, -1) {
		codes[m[1]] = true
	}
	inBlockEnum := false
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "enum: ["):
			list := strings.TrimSuffix(strings.TrimPrefix(trimmed, "enum: ["), "]")
			for _, item := range strings.Split(list, ",") {
				codes[strings.TrimSpace(item)] = true
			}
			inBlockEnum = false
		case trimmed == "enum:":
			inBlockEnum = true
		case strings.HasPrefix(trimmed, "const: "):
			codes[strings.Trim(strings.TrimPrefix(trimmed, "const: "), `'"`)] = true
			inBlockEnum = false
		case inBlockEnum && strings.HasPrefix(trimmed, "- "):
			codes[strings.TrimPrefix(trimmed, "- ")] = true
		default:
			inBlockEnum = false
		}
	}
	return codes
}

// splitPattern turns a Go ServeMux pattern into the OpenAPI method and
// path. A pattern without a method is documented as a GET.
func splitPattern(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", pattern
	}
	path = strings.ReplaceAll(path, "...}", "}")
	path = strings.TrimSuffix(path, "{$}")
	return strings.ToLower(method), path
}

func submatches(t *testing.T, re *regexp.Regexp, src string) []string {
	t.Helper()
	var out []string
	for _, m := range re.FindAllStringSubmatch(src, -1) {
		out = append(out, m[1])
	}
	return out
}

func readSource(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func indent(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
