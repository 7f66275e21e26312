// Package photo checks an uploaded document photo: size, format by content,
// pixel dimensions and a complete decode. Only JPEG and PNG are accepted.
// The package does no I/O. It recovers from decoder panics, so bad input is
// reported as a violation and never crashes the caller.
package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"

	"github.com/idverify/idverify/identity"
)

// FieldPhoto is the form field name in every Violation that Inspect returns.
const FieldPhoto = "photo"

// Violation codes returned by Inspect, in addition to identity.CodeRequired
// for an empty file.
const (
	// CodeTooLarge: the file is larger than Limits.MaxBytes.
	CodeTooLarge = "photo_too_large"
	// CodeUnsupportedFormat: the content is not JPEG or PNG. The detail
	// names the format found.
	CodeUnsupportedFormat = "photo_unsupported_format"
	// CodeDimensionsTooLarge: the declared width, height or pixel count is
	// over the limits. The image is not decoded.
	CodeDimensionsTooLarge = "photo_dimensions_too_large"
	// CodeDimensionsTooSmall: the width or height is under the minimum.
	CodeDimensionsTooSmall = "photo_dimensions_too_small"
	// CodeTruncated: the file ends before the image data does.
	CodeTruncated = "photo_truncated"
	// CodeCorrupt: the file is damaged or is not valid JPEG or PNG.
	CodeCorrupt = "photo_corrupt"
	// CodeUndecodable: a valid JPEG or PNG that uses a feature the Go
	// decoders do not implement, such as arithmetic-coded, lossless,
	// hierarchical or 12-bit JPEG.
	CodeUndecodable = "photo_undecodable"
)

// Default limits.
const (
	DefaultMaxBytes  = 2 << 20 // 2 MiB
	DefaultMaxWidth  = 10000
	DefaultMaxHeight = 10000
	DefaultMaxPixels = 40_000_000
	DefaultMinWidth  = 200
	DefaultMinHeight = 200
)

// Limits bounds what Inspect accepts. A zero or negative field takes its
// default.
//
// NOTE: a full decode allocates the pixels. Measured with Go 1.26, that is
// 1.5 bytes per pixel for a 4:2:0 baseline JPEG and 7.5 for a 4:2:0
// progressive JPEG, which also keeps its DCT coefficients. A PNG takes 3 to 8
// bytes per pixel by its bit depth, and a 4:4:4 progressive JPEG about 15
// (an estimate). At the default MaxPixels one decode may thus need up to
// about 600 MB, so lower MaxPixels where workers decode in parallel on small
// machines.
type Limits struct {
	// MaxBytes is the maximum file size in bytes. Default 2 MiB (2,097,152).
	MaxBytes int64
	// MaxWidth and MaxHeight are the maximum dimensions in pixels. Default
	// 10,000 each.
	MaxWidth, MaxHeight int
	// MaxPixels is the maximum of width × height. Default 40,000,000.
	MaxPixels int64
	// MinWidth and MinHeight are the minimum dimensions in pixels, below
	// which a document is unlikely to be legible. Default 200 each.
	MinWidth, MinHeight int
}

// DefaultLimits returns the limits Inspect applies to zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:  DefaultMaxBytes,
		MaxWidth:  DefaultMaxWidth,
		MaxHeight: DefaultMaxHeight,
		MaxPixels: DefaultMaxPixels,
		MinWidth:  DefaultMinWidth,
		MinHeight: DefaultMinHeight,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxWidth <= 0 {
		l.MaxWidth = d.MaxWidth
	}
	if l.MaxHeight <= 0 {
		l.MaxHeight = d.MaxHeight
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MinWidth <= 0 {
		l.MinWidth = d.MinWidth
	}
	if l.MinHeight <= 0 {
		l.MinHeight = d.MinHeight
	}
	return l
}

// Info describes an inspected photo.
type Info struct {
	// Format is "jpeg" or "png", or "" when the content is neither.
	Format string
	// Width and Height are the pixel dimensions, or 0 when they could not be
	// read.
	Width, Height int
	// ContentType is "image/jpeg" or "image/png", or "" when the content is
	// neither.
	ContentType string
}

// Inspect checks a photo and returns what it found and every problem as an
// identity.Violation with Field "photo". The checks run in this order, and a
// failed check stops the ones after it unless noted:
//
//  1. The file is not empty and not larger than lim.MaxBytes. The format
//     check still runs after a size failure.
//  2. The format by content is JPEG or PNG.
//  3. The header declares dimensions within the limits. They are read
//     without decoding pixels, so a decompression bomb is rejected before
//     any large allocation. A photo under the minimum is still decoded.
//  4. The whole image decodes.
//
// Inspect is safe for concurrent use, and it recovers from a decoder panic
// and reports it as photo_corrupt.
func Inspect(data []byte, lim Limits) (Info, []identity.Violation) {
	lim = lim.withDefaults()
	var info Info
	var vs []identity.Violation
	add := func(code, detail string) {
		vs = append(vs, identity.Violation{Field: FieldPhoto, Code: code, Detail: detail})
	}

	if len(data) == 0 {
		add(identity.CodeRequired, "photo is required: upload a JPEG or PNG image.")
		return info, vs
	}
	tooLarge := int64(len(data)) > lim.MaxBytes
	if tooLarge {
		add(CodeTooLarge, "photo is larger than the limit of "+formatBytes(lim.MaxBytes)+": upload a smaller JPEG or PNG file.")
	}

	format := Sniff(data)
	if format != FormatJPEG && format != FormatPNG {
		add(CodeUnsupportedFormat, describeFormat(format)+"; only JPEG and PNG are accepted.")
		return info, vs
	}
	info.Format = format
	info.ContentType = "image/" + format
	if tooLarge {
		return info, vs
	}

	cfg, err := decodeConfig(format, data)
	if err != nil {
		add(classify(format, data, err))
		return info, vs
	}
	info.Width, info.Height = cfg.Width, cfg.Height

	if cfg.Width > lim.MaxWidth || cfg.Height > lim.MaxHeight || int64(cfg.Width)*int64(cfg.Height) > lim.MaxPixels {
		add(CodeDimensionsTooLarge, fmt.Sprintf("photo is %d×%d pixels, over the limit of %d×%d pixels and %d pixels in total: upload a smaller image.",
			cfg.Width, cfg.Height, lim.MaxWidth, lim.MaxHeight, lim.MaxPixels))
		return info, vs
	}
	if cfg.Width < lim.MinWidth || cfg.Height < lim.MinHeight {
		add(CodeDimensionsTooSmall, fmt.Sprintf("photo is %d×%d pixels, under the minimum of %d×%d pixels: upload a sharper, larger image.",
			cfg.Width, cfg.Height, lim.MinWidth, lim.MinHeight))
	}

	if err := decode(format, data); err != nil {
		add(classify(format, data, err))
	}
	return info, vs
}

// errDecoderPanic wraps a panic recovered from an image decoder.
var errDecoderPanic = errors.New("decoder panic")

func decodeConfig(format string, data []byte) (cfg image.Config, err error) {
	defer recoverDecoder(&err)
	if format == FormatJPEG {
		return jpeg.DecodeConfig(bytes.NewReader(data))
	}
	return png.DecodeConfig(bytes.NewReader(data))
}

func decode(format string, data []byte) (err error) {
	defer recoverDecoder(&err)
	if format == FormatJPEG {
		_, err = jpeg.Decode(bytes.NewReader(data))
	} else {
		_, err = png.Decode(bytes.NewReader(data))
	}
	return err
}

func recoverDecoder(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", errDecoderPanic, r)
	}
}

// classify maps a decoder error to a violation code and detail. The
// decoder's message names only the JPEG or PNG structure at fault, never
// image content, so the detail includes it.
func classify(format string, data []byte, err error) (code, detail string) {
	var jpegUnsupported jpeg.UnsupportedError
	var pngUnsupported png.UnsupportedError
	switch {
	case errors.As(err, &jpegUnsupported) || errors.As(err, &pngUnsupported):
		return CodeUndecodable, "photo uses an image feature that cannot be decoded here (" + err.Error() + "): save it again as a standard 8-bit JPEG or as PNG."
	case errors.Is(err, io.ErrUnexpectedEOF) || endsEarly(format, data):
		return CodeTruncated, "photo file is incomplete: the image data ends early. Upload the complete file."
	default:
		return CodeCorrupt, "photo file is damaged and cannot be decoded (" + err.Error() + "): upload the original image."
	}
}

// endsEarly reports whether the file structure stops before its end marker:
// the JPEG end-of-image marker (FF D9, optionally followed by zero padding)
// or the PNG IEND chunk. Decoders report some truncations as format errors,
// for example Go's "short Huffman data", so the structure is checked too.
func endsEarly(format string, data []byte) bool {
	if format == FormatJPEG {
		return !bytes.HasSuffix(bytes.TrimRight(data, "\x00"), []byte{0xFF, 0xD9})
	}

	const signatureLength, chunkOverhead = 8, 12 // length, type and CRC
	for offset := signatureLength; ; {
		if offset+8 > len(data) {
			return true
		}
		length := int64(binary.BigEndian.Uint32(data[offset:]))
		if length > 1<<31-1 {
			return false // Corrupt, not truncated.
		}
		if string(data[offset+4:offset+8]) == "IEND" {
			return int64(offset)+chunkOverhead+length > int64(len(data))
		}
		next := int64(offset) + chunkOverhead + length
		if next > int64(len(data)) {
			return true
		}
		offset = int(next)
	}
}

// describeFormat returns the start of the unsupported-format detail.
func describeFormat(format string) string {
	names := map[string]string{
		FormatGIF:  "a GIF image",
		FormatWebP: "a WebP image",
		FormatHEIC: "a HEIC/HEIF image",
		FormatAVIF: "an AVIF image",
		FormatPDF:  "a PDF document",
		FormatSVG:  "an SVG image",
		FormatHTML: "an HTML document",
		FormatBMP:  "a BMP image",
		FormatTIFF: "a TIFF image",
	}
	if name, ok := names[format]; ok {
		return "photo file is " + name
	}
	return "photo file is not in a recognised image format"
}

// formatBytes returns n as "2 MiB (2097152 bytes)", with two decimals when n
// is not a whole number of MiB.
func formatBytes(n int64) string {
	const mib = 1 << 20
	var size string
	if n%mib == 0 {
		size = strconv.FormatInt(n/mib, 10)
	} else {
		size = strconv.FormatFloat(float64(n)/mib, 'f', 2, 64)
	}
	return size + " MiB (" + strconv.FormatInt(n, 10) + " bytes)"
}
