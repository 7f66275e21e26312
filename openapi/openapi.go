// Package openapi embeds the OpenAPI 3.1 document of idverify's HTTP API.
package openapi

import (
	_ "embed"
	"net/http"
)

//go:embed openapi.yaml
var document []byte

// Document returns the OpenAPI document.
func Document() []byte { return document }

// Handler serves the document as application/yaml.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Write(document)
	})
}
