package photo_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/photo"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return data
}

// inspect runs photo.Inspect, checks the Field and Detail of every violation,
// and returns the Info, the codes and the details.
func inspect(t *testing.T, data []byte, lim photo.Limits) (photo.Info, []string, []string) {
	t.Helper()
	info, vs := photo.Inspect(data, lim)
	gotCodes, details := []string{}, []string{}
	for _, v := range vs {
		if v.Field != "photo" {
			t.Errorf("violation %s has Field %q, want photo", v.Code, v.Field)
		}
		if v.Detail == "" {
			t.Errorf("violation %s has no detail", v.Code)
		}
		gotCodes = append(gotCodes, v.Code)
		details = append(details, v.Detail)
	}
	return info, gotCodes, details
}

func TestInspectFixtures(t *testing.T) {
	tests := []struct {
		file       string
		want       []string
		wantInfo   photo.Info
		wantDetail string // a substring of the first detail
	}{
		{file: "valid.jpg", want: []string{}, wantInfo: photo.Info{Format: "jpeg", Width: 320, Height: 240, ContentType: "image/jpeg"}},
		{file: "valid.png", want: []string{}, wantInfo: photo.Info{Format: "png", Width: 200, Height: 200, ContentType: "image/png"}},
		{file: "progressive.jpg", want: []string{}, wantInfo: photo.Info{Format: "jpeg", Width: 320, Height: 240, ContentType: "image/jpeg"}},
		{file: "cmyk.jpg", want: []string{}, wantInfo: photo.Info{Format: "jpeg", Width: 320, Height: 240, ContentType: "image/jpeg"}},
		{
			file:       "arithmetic.jpg",
			want:       []string{"photo_undecodable"},
			wantInfo:   photo.Info{Format: "jpeg", ContentType: "image/jpeg"},
			wantDetail: "unsupported JPEG feature",
		},
		{
			file:       "truncated.jpg",
			want:       []string{"photo_truncated"},
			wantInfo:   photo.Info{Format: "jpeg", Width: 320, Height: 240, ContentType: "image/jpeg"},
			wantDetail: "incomplete",
		},
		{
			file:       "bomb.png",
			want:       []string{"photo_dimensions_too_large"},
			wantInfo:   photo.Info{Format: "png", Width: 100000, Height: 100000, ContentType: "image/png"},
			wantDetail: "100000×100000 pixels",
		},
		{file: "photo.gif", want: []string{"photo_unsupported_format"}, wantDetail: "photo file is a GIF image; only JPEG and PNG are accepted."},
		{file: "minimal.webp", want: []string{"photo_unsupported_format"}, wantDetail: "a WebP image"},
		{file: "document.pdf", want: []string{"photo_unsupported_format"}, wantDetail: "a PDF document"},
		{file: "image.svg", want: []string{"photo_unsupported_format"}, wantDetail: "an SVG image"},
		{file: "page.html", want: []string{"photo_unsupported_format"}, wantDetail: "an HTML document"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			info, got, details := inspect(t, readFixture(t, tt.file), photo.DefaultLimits())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("codes mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantInfo, info); diff != "" {
				t.Errorf("Info mismatch (-want +got):\n%s", diff)
			}
			if tt.wantDetail != "" && (len(details) == 0 || !strings.Contains(details[0], tt.wantDetail)) {
				t.Errorf("details = %q, want the first to contain %q", details, tt.wantDetail)
			}
		})
	}
}

func TestCMYKDecodesAsCMYK(t *testing.T) {
	img, err := jpeg.Decode(bytes.NewReader(readFixture(t, "cmyk.jpg")))
	if err != nil {
		t.Fatalf("jpeg.Decode() error = %v", err)
	}
	if _, ok := img.(*image.CMYK); !ok {
		t.Errorf("cmyk.jpg decodes to %T, want *image.CMYK, so the fixture no longer tests CMYK", img)
	}
}

// jpegSegment returns the offset of the first segment with the given marker
// in a JPEG, walking the segment lengths from the start of the file.
func jpegSegment(t *testing.T, data []byte, marker byte) int {
	t.Helper()
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			t.Fatalf("no marker at offset %d", i)
		}
		if data[i+1] == marker {
			return i
		}
		i += 2 + int(data[i+2])<<8 + int(data[i+3])
	}
	t.Fatalf("marker %#x not found", marker)
	return 0
}

func TestInspectPatchedJPEG(t *testing.T) {
	const sof0, sos = 0xC0, 0xDA
	valid := readFixture(t, "valid.jpg")

	tests := []struct {
		name       string
		patch      func(data []byte)
		want       []string
		wantDetail string
	}{
		{
			name: "12-bit precision",
			patch: func(data []byte) {
				data[jpegSegment(t, data, sof0)+4] = 12
			},
			want:       []string{"photo_undecodable"},
			wantDetail: "precision",
		},
		{
			name: "lossless SOF3",
			patch: func(data []byte) {
				data[jpegSegment(t, data, sof0)+1] = 0xC3
			},
			want: []string{"photo_undecodable"},
		},
		{
			name: "decompression bomb 65000x65000",
			patch: func(data []byte) {
				sof := jpegSegment(t, data, sof0)
				copy(data[sof+5:], []byte{0xFD, 0xE8, 0xFD, 0xE8})
			},
			want:       []string{"photo_dimensions_too_large"},
			wantDetail: "65000×65000 pixels",
		},
		{
			name: "marker inside scan data",
			patch: func(data []byte) {
				scan := jpegSegment(t, data, sos)
				pos := scan + 2 + int(data[scan+2])<<8 + int(data[scan+3]) + 200
				data[pos-1], data[pos], data[pos+1] = 0x00, 0xFF, 0x01
			},
			want: []string{"photo_corrupt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := bytes.Clone(valid)
			tt.patch(data)
			_, got, details := inspect(t, data, photo.DefaultLimits())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("codes mismatch (-want +got):\n%s", diff)
			}
			if tt.wantDetail != "" && (len(details) == 0 || !strings.Contains(details[0], tt.wantDetail)) {
				t.Errorf("details = %q, want the first to contain %q", details, tt.wantDetail)
			}
		})
	}
}

func TestInspectCorruptPNG(t *testing.T) {
	data := readFixture(t, "valid.png")
	idat := bytes.Index(data, []byte("IDAT"))
	if idat < 0 {
		t.Fatal("valid.png has no IDAT chunk")
	}
	data = bytes.Clone(data)
	data[idat+100] ^= 0xFF

	_, got, _ := inspect(t, data, photo.DefaultLimits())
	if diff := cmp.Diff([]string{"photo_corrupt"}, got); diff != "" {
		t.Errorf("codes mismatch (-want +got):\n%s", diff)
	}
}

func TestInspectTruncatedAnywhere(t *testing.T) {
	// Every cut after the signature must read as truncated, not corrupt.
	for _, file := range []string{"valid.jpg", "progressive.jpg", "cmyk.jpg", "valid.png"} {
		data := readFixture(t, file)
		for cut := 8; cut < len(data); cut += 61 {
			_, got, _ := inspect(t, data[:cut], photo.DefaultLimits())
			if diff := cmp.Diff([]string{"photo_truncated"}, got); diff != "" {
				t.Errorf("%s cut at %d of %d bytes: codes mismatch (-want +got):\n%s", file, cut, len(data), diff)
			}
		}
	}
}

func TestInspectLimits(t *testing.T) {
	validJPEG := readFixture(t, "valid.jpg")
	gif := readFixture(t, "photo.gif")

	tests := []struct {
		name       string
		data       []byte
		limits     photo.Limits
		want       []string
		wantDetail string
	}{
		{
			name:       "empty",
			data:       nil,
			want:       []string{"required"},
			wantDetail: "photo is required",
		},
		{
			name:       "over MaxBytes",
			data:       validJPEG,
			limits:     photo.Limits{MaxBytes: 10_000},
			want:       []string{"photo_too_large"},
			wantDetail: "0.01 MiB (10000 bytes)",
		},
		{
			name:       "exactly MaxBytes",
			data:       validJPEG,
			limits:     photo.Limits{MaxBytes: int64(len(validJPEG))},
			want:       []string{},
			wantDetail: "",
		},
		{
			name:       "over MaxBytes and not an image",
			data:       gif,
			limits:     photo.Limits{MaxBytes: 100},
			want:       []string{"photo_too_large", "photo_unsupported_format"},
			wantDetail: "",
		},
		{
			name:   "over MaxWidth",
			data:   validJPEG,
			limits: photo.Limits{MaxWidth: 319},
			want:   []string{"photo_dimensions_too_large"},
		},
		{
			name:   "over MaxHeight",
			data:   validJPEG,
			limits: photo.Limits{MaxHeight: 239},
			want:   []string{"photo_dimensions_too_large"},
		},
		{
			name:   "over MaxPixels",
			data:   validJPEG,
			limits: photo.Limits{MaxPixels: 320*240 - 1},
			want:   []string{"photo_dimensions_too_large"},
		},
		{
			name: "at every maximum",
			data: validJPEG,
			limits: photo.Limits{
				MaxBytes: int64(len(validJPEG)), MaxWidth: 320, MaxHeight: 240, MaxPixels: 320 * 240,
				MinWidth: 320, MinHeight: 240,
			},
			want: []string{},
		},
		{
			name:       "under MinWidth",
			data:       validJPEG,
			limits:     photo.Limits{MinWidth: 321},
			want:       []string{"photo_dimensions_too_small"},
			wantDetail: "under the minimum of 321×200 pixels",
		},
		{
			name:   "under default minimum",
			data:   photo.SamplePNG(199, 300),
			want:   []string{"photo_dimensions_too_small"},
			limits: photo.Limits{},
		},
		{
			name:   "small and truncated",
			data:   func() []byte { d := photo.SampleJPEG(100, 80); return d[:len(d)-10] }(),
			want:   []string{"photo_dimensions_too_small", "photo_truncated"},
			limits: photo.Limits{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, details := inspect(t, tt.data, tt.limits)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("codes mismatch (-want +got):\n%s", diff)
			}
			if tt.wantDetail != "" && (len(details) == 0 || !strings.Contains(details[0], tt.wantDetail)) {
				t.Errorf("details = %q, want the first to contain %q", details, tt.wantDetail)
			}
		})
	}
}

func TestInspectUnsupportedDetail(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "HEIC", data: []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), want: "photo file is a HEIC/HEIF image; only JPEG and PNG are accepted."},
		{name: "TIFF", data: []byte("II*\x00\x08\x00\x00\x00"), want: "photo file is a TIFF image; only JPEG and PNG are accepted."},
		{name: "unknown", data: []byte("hello, this is plain text"), want: "photo file is not in a recognised image format; only JPEG and PNG are accepted."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, got, details := inspect(t, tt.data, photo.DefaultLimits())
			if diff := cmp.Diff([]string{"photo_unsupported_format"}, got); diff != "" {
				t.Errorf("codes mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.want}, details); diff != "" {
				t.Errorf("details mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(photo.Info{}, info); diff != "" {
				t.Errorf("Info mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInspectDefaultSizeLimit(t *testing.T) {
	// A JPEG padded after its end marker to one byte over 2 MiB.
	data := append(bytes.Clone(readFixture(t, "valid.jpg")), make([]byte, 2<<20)...)
	data = data[:2<<20+1]

	_, got, details := inspect(t, data, photo.Limits{})
	if diff := cmp.Diff([]string{"photo_too_large"}, got); diff != "" {
		t.Errorf("codes mismatch (-want +got):\n%s", diff)
	}
	if want := "2 MiB (2097152 bytes)"; len(details) == 0 || !strings.Contains(details[0], want) {
		t.Errorf("details = %q, want the limit %q", details, want)
	}

	_, got, _ = inspect(t, data[:2<<20], photo.Limits{})
	if diff := cmp.Diff([]string{}, got); diff != "" {
		t.Errorf("at exactly 2 MiB: codes mismatch (-want +got):\n%s", diff)
	}
}

func TestDefaultLimits(t *testing.T) {
	want := photo.Limits{
		MaxBytes: 2097152, MaxWidth: 10000, MaxHeight: 10000, MaxPixels: 40_000_000,
		MinWidth: 200, MinHeight: 200,
	}
	if diff := cmp.Diff(want, photo.DefaultLimits()); diff != "" {
		t.Errorf("DefaultLimits() mismatch (-want +got):\n%s", diff)
	}
}

// TestInspectBombAllocation checks that a decompression bomb is rejected
// from its header: the pixels of either bomb would need gigabytes.
func TestInspectBombAllocation(t *testing.T) {
	jpegBomb := bytes.Clone(readFixture(t, "valid.jpg"))
	sof := jpegSegment(t, jpegBomb, 0xC0)
	copy(jpegBomb[sof+5:], []byte{0xFD, 0xE8, 0xFD, 0xE8})

	for name, data := range map[string][]byte{"png": readFixture(t, "bomb.png"), "jpeg": jpegBomb} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, vs := photo.Inspect(data, photo.DefaultLimits())
		runtime.ReadMemStats(&after)

		if len(vs) != 1 || vs[0].Code != "photo_dimensions_too_large" {
			t.Errorf("%s bomb: violations = %+v, want photo_dimensions_too_large", name, vs)
		}
		if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 1<<20 {
			t.Errorf("%s bomb: Inspect allocated %d bytes, want under 1 MiB", name, allocated)
		}
	}
}

func TestSniff(t *testing.T) {
	ftyp := func(major string, compatible ...string) []byte {
		box := []byte{0, 0, 0, byte(16 + 4*len(compatible))}
		box = append(box, "ftyp"+major+"\x00\x00\x00\x00"...)
		for _, brand := range compatible {
			box = append(box, brand...)
		}
		return append(box, make([]byte, 16)...)
	}
	bmp := append([]byte("BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), make([]byte, 40)...)

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "jpeg fixture", data: readFixture(t, "valid.jpg"), want: "jpeg"},
		{name: "png fixture", data: readFixture(t, "valid.png"), want: "png"},
		{name: "gif fixture", data: readFixture(t, "photo.gif"), want: "gif"},
		{name: "webp fixture", data: readFixture(t, "minimal.webp"), want: "webp"},
		{name: "pdf fixture", data: readFixture(t, "document.pdf"), want: "pdf"},
		{name: "svg fixture", data: readFixture(t, "image.svg"), want: "svg"},
		{name: "html fixture", data: readFixture(t, "page.html"), want: "html"},
		{name: "GIF87a", data: []byte("GIF87a\x01\x00\x01\x00"), want: "gif"},
		{name: "HEIC", data: ftyp("heic", "mif1", "heic"), want: "heic"},
		{name: "HEIF generic brand", data: ftyp("mif1", "mif1"), want: "heic"},
		{name: "AVIF", data: ftyp("avif", "mif1", "miaf"), want: "avif"},
		{name: "AVIF under mif1", data: ftyp("mif1", "avif"), want: "avif"},
		{name: "MP4 is not an image", data: ftyp("isom", "mp41"), want: "unknown"},
		{name: "TIFF little-endian", data: []byte("II*\x00\x08\x00\x00\x00"), want: "tiff"},
		{name: "TIFF big-endian", data: []byte("MM\x00*\x00\x00\x00\x08"), want: "tiff"},
		{name: "BMP", data: bmp, want: "bmp"},
		{name: "text starting with BM", data: []byte("BMW owners club newsletter, issue 1"), want: "unknown"},
		{name: "SVG without declaration", data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), want: "svg"},
		{name: "SVG with BOM and comment", data: []byte("\xEF\xBB\xBF\n<!-- logo -->\n<svg viewBox=\"0 0 1 1\"></svg>"), want: "svg"},
		{name: "SVG doctype", data: []byte(`<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg/>`), want: "svg"},
		{name: "HTML upper case", data: []byte("  <HTML><BODY>x</BODY></HTML>"), want: "html"},
		{name: "HTML script", data: []byte("<script>alert(1)</script>"), want: "html"},
		{name: "HTML comment", data: []byte("<!-- x --><p>hi</p>"), want: "html"},
		{name: "XHTML", data: []byte(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"></html>`), want: "html"},
		{name: "tag prefix only", data: []byte("<bogus>"), want: "unknown"},
		{name: "plain XML", data: []byte(`<?xml version="1.0"?><note/>`), want: "unknown"},
		{name: "JPEG 2000", data: []byte("\x00\x00\x00\x0cjP  \r\n\x87\n"), want: "unknown"},
		{name: "two bytes of JPEG", data: []byte{0xFF, 0xD8}, want: "unknown"},
		{name: "empty", data: nil, want: "unknown"},
	}
	for _, tt := range tests {
		if got := photo.Sniff(tt.data); got != tt.want {
			t.Errorf("%s: Sniff() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSampleImages(t *testing.T) {
	if !bytes.Equal(photo.SampleJPEG(300, 200), photo.SampleJPEG(300, 200)) {
		t.Error("SampleJPEG is not deterministic")
	}
	if bytes.Equal(photo.SampleImage(50, 50, 1).Pix, photo.SampleImage(50, 50, 2).Pix) {
		t.Error("SampleImage gives the same pixels for different seeds")
	}

	tests := []struct {
		name string
		data []byte
		want photo.Info
	}{
		{name: "jpeg", data: photo.SampleJPEG(640, 480), want: photo.Info{Format: "jpeg", Width: 640, Height: 480, ContentType: "image/jpeg"}},
		{name: "png", data: photo.SamplePNG(300, 400), want: photo.Info{Format: "png", Width: 300, Height: 400, ContentType: "image/png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, got, _ := inspect(t, tt.data, photo.DefaultLimits())
			if diff := cmp.Diff([]string{}, got); diff != "" {
				t.Errorf("codes mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, info); diff != "" {
				t.Errorf("Info mismatch (-want +got):\n%s", diff)
			}
		})
	}

	defer func() {
		if recover() == nil {
			t.Error("SampleJPEG(0, 10) did not panic")
		}
	}()
	photo.SampleJPEG(0, 10)
}

// BenchmarkInspect measures Inspect on a JPEG just under the default 2 MiB
// limit, the largest upload accepted by default.
func BenchmarkInspect(b *testing.B) {
	data := photo.SampleJPEG(3800, 2850)
	if len(data) < 3<<19 || len(data) > 2<<20 {
		b.Fatalf("sample JPEG is %d bytes, want 1.5 to 2 MiB", len(data))
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, vs := photo.Inspect(data, photo.DefaultLimits()); len(vs) != 0 {
			b.Fatalf("violations = %+v, want none", vs)
		}
	}
}
