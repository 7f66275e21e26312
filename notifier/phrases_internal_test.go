package notifier

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPhrasesComplete checks that every locale translates the same codes, so
// no code falls back to the generic sentence in one language only.
func TestPhrasesComplete(t *testing.T) {
	set, err := loadTemplates()
	if err != nil {
		t.Fatalf("loadTemplates: %v", err)
	}
	en := set.phrases[LocaleEnglish]
	wantReasons := []string{"address_incomplete", "document_already_bound", "document_expired",
		"name_mismatch", "other", "photo_unreadable", "quota_exceeded"}
	if diff := cmp.Diff(wantReasons, slices.Sorted(maps.Keys(en.Reasons))); diff != "" {
		t.Errorf("English reason codes mismatch (-want +got):\n%s", diff)
	}

	for _, loc := range Locales()[1:] {
		p := set.phrases[loc]
		tables := []struct {
			name      string
			want, got map[string]string
		}{
			{"reasons", en.Reasons, p.Reasons},
			{"checks", en.Checks, p.Checks},
			{"fields", en.Fields, p.Fields},
			{"rules", en.Rules, p.Rules},
		}
		for _, table := range tables {
			want := slices.Sorted(maps.Keys(table.want))
			got := slices.Sorted(maps.Keys(table.got))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s codes differ from English (-want +got):\n%s", loc, table.name, diff)
			}
			for code, sentence := range table.got {
				if sentence == "" {
					t.Errorf("%s %s: %s has an empty sentence", loc, table.name, code)
				}
			}
		}
	}
}
