package photo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// sampleJPEGQuality is the encoder quality of SampleJPEG, typical of a
// phone camera's output.
const sampleJPEGQuality = 90

// SampleImage returns a w×h test picture that compresses like a photo of a
// document: a diagonal gradient, a card-like rectangle with a portrait disc
// and text-like bars, and per-pixel noise. The same arguments always give
// the same pixels, and different seeds give different noise. It panics if w
// or h is less than 1.
func SampleImage(w, h int, seed uint64) *image.RGBA {
	if w < 1 || h < 1 {
		panic(fmt.Sprintf("photo: sample image size %dx%d, want at least 1x1", w, h))
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))

	// The card is an inset rectangle with a portrait disc on its left and
	// text-like bars on its right.
	cardX0, cardY0, cardX1, cardY1 := w/10, h/8, w-w/10, h-h/8
	discX, discY := cardX0+(cardX1-cardX0)/5, (cardY0+cardY1)/2
	discR := min(cardX1-cardX0, cardY1-cardY0) / 4
	barX0 := cardX0 + (cardX1-cardX0)*2/5
	barHeight := max((cardY1-cardY0)/14, 1)

	state := seed*0x9E3779B97F4A7C15 + 1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// Background gradient from blue-grey to warm beige.
			r := 90 + 140*x/w
			g := 110 + 100*y/h
			b := 160 - 60*(x+y)/(w+h)

			inCard := x >= cardX0 && x < cardX1 && y >= cardY0 && y < cardY1
			if inCard {
				r, g, b = 235, 232, 220
				dx, dy := x-discX, y-discY
				switch {
				case dx*dx+dy*dy <= discR*discR:
					r, g, b = 200-dy*60/max(discR, 1), 150, 120
				case x >= barX0 && x < cardX1-(cardX1-cardX0)/10 && ((y-cardY0)/barHeight)%2 == 1 && (y-cardY0)/barHeight < 12:
					r, g, b = 40, 40, 60
				}
			}

			// xorshift64 noise in [-12, 12] on each channel.
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			noise := int(state%25) - 12
			img.SetRGBA(x, y, color.RGBA{R: clamp(r + noise), G: clamp(g + noise/2), B: clamp(b - noise), A: 255})
		}
	}
	return img
}

func clamp(v int) uint8 {
	return uint8(min(max(v, 0), 255))
}

// SampleJPEG returns SampleImage(w, h, 0) encoded as a baseline JPEG at
// quality 90, for tests that need a realistic upload. It panics if w or h is
// less than 1 or more than 65535, the JPEG limit.
func SampleJPEG(w, h int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, SampleImage(w, h, 0), &jpeg.Options{Quality: sampleJPEGQuality}); err != nil {
		panic(fmt.Sprintf("photo: encode sample JPEG: %v", err))
	}
	return buf.Bytes()
}

// SamplePNG returns SampleImage(w, h, 0) encoded as an 8-bit PNG, for
// tests that need a realistic upload. It panics if w or h is less than 1.
func SamplePNG(w, h int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, SampleImage(w, h, 0)); err != nil {
		panic(fmt.Sprintf("photo: encode sample PNG: %v", err))
	}
	return buf.Bytes()
}
