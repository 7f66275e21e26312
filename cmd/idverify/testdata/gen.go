//go:build ignore

// gen writes the sample document photos that the demo and the end-to-end
// tests submit: a JPEG passport page and a PNG certificate, drawn by
// photo.SampleJPEG and photo.SamplePNG. Run it with go generate.
package main

import (
	"log"
	"os"

	"github.com/idverify/idverify/photo"
)

func main() {
	if err := os.WriteFile("testdata/passport.jpg", photo.SampleJPEG(800, 560), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("testdata/certificate.png", photo.SamplePNG(640, 480), 0o644); err != nil {
		log.Fatal(err)
	}
}
