package photo

import (
	"bytes"
)

// Format names returned by Sniff.
const (
	FormatJPEG    = "jpeg"
	FormatPNG     = "png"
	FormatGIF     = "gif"
	FormatWebP    = "webp"
	FormatHEIC    = "heic"
	FormatAVIF    = "avif"
	FormatPDF     = "pdf"
	FormatSVG     = "svg"
	FormatHTML    = "html"
	FormatBMP     = "bmp"
	FormatTIFF    = "tiff"
	FormatUnknown = "unknown"
)

// sniffWindow is how many leading bytes Sniff reads of a text file to find
// an SVG root element.
const sniffWindow = 4096

// Sniff names the format of data by its content, never by a file name or a
// declared type: "jpeg", "png", "gif", "webp", "heic", "avif", "pdf", "svg",
// "html", "bmp", "tiff", or "unknown". It reads only the first few kilobytes.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return FormatJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(data, []byte("GIF87a")) || bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatGIF
	case len(data) >= 12 && bytes.HasPrefix(data, []byte("RIFF")) && string(data[8:12]) == "WEBP":
		return FormatWebP
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return FormatPDF
	case bytes.HasPrefix(data, []byte("II*\x00")) || bytes.HasPrefix(data, []byte("MM\x00*")):
		return FormatTIFF
	case isBMP(data):
		return FormatBMP
	}
	if format := sniffISOBMFF(data); format != "" {
		return format
	}
	return sniffMarkup(data)
}

// isBMP checks the "BM" signature and the four reserved header bytes, which
// are zero in every BMP writer, so that text starting with "BM" is not taken
// for a bitmap.
func isBMP(data []byte) bool {
	return len(data) >= 26 && data[0] == 'B' && data[1] == 'M' &&
		data[6] == 0 && data[7] == 0 && data[8] == 0 && data[9] == 0
}

// sniffISOBMFF recognises HEIF and AVIF files by their ISO base media file
// format "ftyp" box: the major brand, then the compatible brands for the
// generic HEIF brands mif1 and msf1.
func sniffISOBMFF(data []byte) string {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return ""
	}
	boxSize := int(data[0])<<24 | int(data[1])<<16 | int(data[2])<<8 | int(data[3])
	if boxSize < 16 || boxSize > len(data) {
		boxSize = min(len(data), 64)
	}
	brands := []string{string(data[8:12])}
	for i := 16; i+4 <= boxSize; i += 4 {
		brands = append(brands, string(data[i:i+4]))
	}

	generic := false
	for _, brand := range brands {
		switch brand {
		case "avif", "avis":
			return FormatAVIF
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs":
			return FormatHEIC
		case "mif1", "msf1":
			generic = true
		}
	}
	if generic {
		return FormatHEIC
	}
	return ""
}

// htmlTags are the case-insensitive prefixes by which the WHATWG MIME
// Sniffing Standard recognises HTML. Each must be followed by a space or ">".
var htmlTags = []string{
	"<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div", "<font",
	"<table", "<a", "<style", "<title", "<b", "<body", "<br", "<p", "<!--",
}

// sniffMarkup recognises SVG and HTML text after an optional UTF-8 byte
// order mark and white space.
func sniffMarkup(data []byte) string {
	text := bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	text = bytes.TrimLeft(text, " \t\r\n\f")
	if len(text) > sniffWindow {
		text = text[:sniffWindow]
	}
	lower := bytes.ToLower(text)

	if hasTag(lower, "<svg") {
		return FormatSVG
	}
	// An XML declaration, comment or doctype may come before the root element.
	if bytes.HasPrefix(lower, []byte("<?xml")) || bytes.HasPrefix(lower, []byte("<!--")) || bytes.HasPrefix(lower, []byte("<!doctype svg")) {
		if bytes.Contains(lower, []byte("<svg")) {
			return FormatSVG
		}
	}
	for _, tag := range htmlTags {
		if hasTag(lower, tag) {
			return FormatHTML
		}
	}
	if bytes.HasPrefix(lower, []byte("<?xml")) && bytes.Contains(lower, []byte("<html")) {
		return FormatHTML
	}
	return FormatUnknown
}

// hasTag reports whether text starts with tag followed by a space or ">".
func hasTag(text []byte, tag string) bool {
	if !bytes.HasPrefix(text, []byte(tag)) || len(text) == len(tag) {
		return false
	}
	switch text[len(tag)] {
	case ' ', '\t', '\r', '\n', '\f', '>':
		return true
	}
	return false
}
