// Command gen writes the photo test fixtures into photo/testdata.
//
// Run it from the repository root with `go run ./photo/testdata/gen`. The
// CMYK, progressive and arithmetic-coded JPEGs need ImageMagick's convert
// and libjpeg-turbo's jpegtran (Debian packages imagemagick and
// libjpeg-turbo-progs). Without them, those three files are left as they are.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/idverify/idverify/photo"
)

func main() {
	dir := filepath.Join("photo", "testdata")
	if _, err := os.Stat(dir); err != nil {
		log.Fatalf("run from the repository root: %v", err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}

	validJPEG := photo.SampleJPEG(320, 240)
	write("valid.jpg", validJPEG)
	write("valid.png", photo.SamplePNG(200, 200))
	write("truncated.jpg", validJPEG[:len(validJPEG)/2])
	write("bomb.png", bombPNG(100000, 100000))
	write("photo.gif", sampleGIF())
	write("minimal.webp", minimalWebP())
	write("document.pdf", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"))
	write("image.svg", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><circle cx="150" cy="100" r="80" fill="teal"/></svg>
`))
	write("page.html", []byte("<!DOCTYPE html>\n<html><head><title>Not a photo</title></head><body><p>Hello</p></body></html>\n"))

	// The external tools read and write files, so they start from valid.jpg
	// and valid.png on disk.
	run := func(out string, name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Stderr = os.Stderr
		data, err := cmd.Output()
		if err != nil {
			log.Printf("skip %s: %s: %v", out, name, err)
			return
		}
		write(out, data)
	}
	validJPEGPath := filepath.Join(dir, "valid.jpg")
	run("progressive.jpg", "jpegtran", "-progressive", "-copy", "none", validJPEGPath)
	run("arithmetic.jpg", "jpegtran", "-arithmetic", "-copy", "none", validJPEGPath)
	// /usr/bin/convert is ImageMagick 6 on Debian. The full path is used
	// because a different convert may come first on PATH.
	run("cmyk.jpg", "/usr/bin/convert", validJPEGPath, "-strip", "-colorspace", "CMYK", "-quality", "90", "jpg:-")
	fmt.Println("fixtures written to", dir)
}

// bombPNG returns a PNG whose IHDR declares w×h 8-bit RGB pixels with a
// correct CRC, followed by a tiny IDAT and IEND: a decompression bomb header
// that must be rejected before its pixels are decoded.
func bombPNG(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth
	ihdr[9] = 2 // colour type RGB
	writeChunk(&buf, "IHDR", ihdr)
	// A zlib stream of one stored empty block: far too little pixel data.
	writeChunk(&buf, "IDAT", []byte{0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01})
	writeChunk(&buf, "IEND", nil)
	return buf.Bytes()
}

func writeChunk(buf *bytes.Buffer, chunkType string, data []byte) {
	var length [4]byte
	binary.BigEndian.PutUint32(length[:], uint32(len(data)))
	buf.Write(length[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(chunkType))
	crc.Write(data)
	buf.WriteString(chunkType)
	buf.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	buf.Write(sum[:])
}

func sampleGIF() []byte {
	img := image.NewPaletted(image.Rect(0, 0, 32, 32), palette.Plan9)
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x * 8), G: uint8(y * 8), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

// minimalWebP returns a RIFF/WEBP container header with an empty VP8L chunk:
// enough for content sniffing, not a decodable image.
func minimalWebP() []byte {
	var buf bytes.Buffer
	buf.WriteString("RIFF")
	binary.Write(&buf, binary.LittleEndian, uint32(4+8+6)) // "WEBP", chunk header, 5 bytes and a pad byte
	buf.WriteString("WEBPVP8L")
	binary.Write(&buf, binary.LittleEndian, uint32(5))
	buf.Write([]byte{0x2f, 0x00, 0x00, 0x00, 0x00, 0x00})
	return buf.Bytes()
}
