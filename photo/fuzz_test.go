package photo_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/idverify/idverify/photo"
)

// FuzzInspect checks that Inspect never panics and accepts only JPEG or PNG
// images within the limits.
func FuzzInspect(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range fixtures {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	lim := photo.Limits{MaxWidth: 2000, MaxHeight: 2000, MaxPixels: 1_000_000, MinWidth: 1, MinHeight: 1}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, vs := photo.Inspect(data, lim)
		if len(vs) != 0 {
			return
		}
		if info.Format != "jpeg" && info.Format != "png" {
			t.Errorf("accepted format %q", info.Format)
		}
		if info.Width < 1 || info.Height < 1 || info.Width > 2000 || info.Height > 2000 || info.Width*info.Height > 1_000_000 {
			t.Errorf("accepted %dx%d pixels, outside the limits", info.Width, info.Height)
		}
	})
}
