package notifier_test

import (
	"strings"
	"testing"

	"github.com/idverify/idverify/notifier"
)

func TestSegments(t *testing.T) {
	const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	a := func(n int) string { return strings.Repeat("a", n) }
	han := func(n int) string { return strings.Repeat("中", n) }
	tests := []struct {
		name         string
		text         string
		wantEncoding string
		wantCount    int
	}{
		{"empty", "", "GSM-7", 0},
		{"short ascii", "Your application was approved.", "GSM-7", 1},
		{"whole basic table", gsmBasic, "GSM-7", 1},
		{"160 septets", a(160), "GSM-7", 1},
		{"161 septets", a(161), "GSM-7", 2},
		{"306 septets", a(306), "GSM-7", 2},
		{"307 septets", a(307), "GSM-7", 3},
		{"euro is an extension char", "€", "GSM-7", 1},
		{"brackets and braces", "[]{}", "GSM-7", 1},
		{"all extension chars", "\f^{}\\[~]|€", "GSM-7", 1},
		{"80 euros are 160 septets", strings.Repeat("€", 80), "GSM-7", 1},
		{"81 euros are 162 septets", strings.Repeat("€", 81), "GSM-7", 2},
		{"159 plus extension char is 161 septets", a(159) + "€", "GSM-7", 2},
		{"158 plus extension char is 160 septets", a(158) + "[", "GSM-7", 1},
		// 152 + 2 + 152 = 306 septets, which would fit 2 parts of 153 if the
		// escape pair could be split after septet 153.
		{"escape pair not split across parts", a(152) + "€" + a(152), "GSM-7", 3},
		{"lower-case c cedilla is not GSM-7", "ç", "UCS-2", 1},
		{"grave accent is not GSM-7", "`", "UCS-2", 1},
		{"curly quote is not GSM-7", "’", "UCS-2", 1},
		{"chinese", "您的实名认证申请已通过审核。", "UCS-2", 1},
		{"70 units", han(70), "UCS-2", 1},
		{"71 units", han(71), "UCS-2", 2},
		{"134 units", han(134), "UCS-2", 2},
		{"135 units", han(135), "UCS-2", 3},
		{"ascii mixed with chinese", "abc中", "UCS-2", 1},
		{"emoji is a surrogate pair", "😀", "UCS-2", 1},
		{"35 emoji are 70 units", strings.Repeat("😀", 35), "UCS-2", 1},
		{"36 emoji are 72 units", strings.Repeat("😀", 36), "UCS-2", 2},
		{"69 units plus emoji is 71 units", han(69) + "😀", "UCS-2", 2},
		// 66 + 2 + 66 = 134 units, which would fit 2 parts of 67 if the
		// surrogate pair could be split after unit 67.
		{"surrogate pair not split across parts", han(66) + "😀" + han(66), "UCS-2", 3},
		{"invalid UTF-8 counts as one replacement char", "a\xffb", "UCS-2", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoding, count := notifier.Segments(tt.text)
			if encoding != tt.wantEncoding || count != tt.wantCount {
				t.Errorf("Segments(%q) = (%s, %d), want (%s, %d)", tt.text, encoding, count, tt.wantEncoding, tt.wantCount)
			}
		})
	}
}
