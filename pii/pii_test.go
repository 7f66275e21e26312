package pii_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/idverify/idverify/pii"
)

func newKeyring(t *testing.T, keys map[string][]byte, current string) *pii.Keyring {
	t.Helper()
	k, err := pii.NewKeyring(keys, current, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := newKeyring(t, map[string][]byte{"k1": pii.RandomKey()}, "k1")
	plain := []byte("陈大文 𠀀 O'Brien")
	sealed := k.Seal(plain, []byte("app1/fields"))
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := k.Open(sealed, []byte("app1/fields"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, want %q", got, plain)
	}
}

func TestOpenWrongAAD(t *testing.T) {
	k := newKeyring(t, map[string][]byte{"k1": pii.RandomKey()}, "k1")
	sealed := k.Seal([]byte("x"), []byte("app1"))
	if _, err := k.Open(sealed, []byte("app2")); !errors.Is(err, pii.ErrCorrupt) {
		t.Fatalf("Open with another aad: err = %v, want ErrCorrupt", err)
	}
}

func TestOpenTampered(t *testing.T) {
	k := newKeyring(t, map[string][]byte{"k1": pii.RandomKey()}, "k1")
	sealed := k.Seal([]byte("secret"), nil)
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(sealed, nil); !errors.Is(err, pii.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := pii.RandomKey(), pii.RandomKey()
	before := newKeyring(t, map[string][]byte{"2026a": oldKey}, "2026a")
	sealed := before.Seal([]byte("number"), nil)

	after := newKeyring(t, map[string][]byte{"2026a": oldKey, "2026b": newKey}, "2026b")
	got, err := after.Open(sealed, nil)
	if err != nil || string(got) != "number" {
		t.Fatalf("Open old value after rotation = %q, %v", got, err)
	}
	if id := pii.KeyID(after.Seal([]byte("n"), nil)); id != "2026b" {
		t.Fatalf("new values sealed with %q, want 2026b", id)
	}

	dropped := newKeyring(t, map[string][]byte{"2026b": newKey}, "2026b")
	if _, err := dropped.Open(sealed, nil); !errors.Is(err, pii.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
}

func TestFingerprintKeyed(t *testing.T) {
	a := newKeyring(t, map[string][]byte{"k": pii.RandomKey()}, "k")
	other, err := pii.NewKeyring(map[string][]byte{"k": pii.RandomKey()}, "k", bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	v := []byte("doc|HK|passport|K1234567")
	if !bytes.Equal(a.Fingerprint("identity", v), a.Fingerprint("identity", v)) {
		t.Fatal("fingerprint not deterministic")
	}
	if bytes.Equal(a.Fingerprint("identity", v), a.Fingerprint("photo", v)) {
		t.Fatal("domains not separated")
	}
	if bytes.Equal(a.Fingerprint("identity", v), other.Fingerprint("identity", v)) {
		t.Fatal("fingerprint does not depend on the key")
	}
}

func TestParseKeys(t *testing.T) {
	keys, current, err := pii.ParseKeys("a:" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" + ",b:" + "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	if err != nil {
		t.Fatal(err)
	}
	if current != "a" || len(keys) != 2 {
		t.Fatalf("current = %q, keys = %d", current, len(keys))
	}
	for _, bad := range []string{"", "a", "a:notbase64!", "a:AAAA", "a:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,a:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="} {
		if _, _, err := pii.ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) succeeded, want error", bad)
		}
	}
}
