// Package pii protects personal data at rest: AES-256-GCM sealing with key
// ids for rotation, and keyed fingerprints (HMAC-SHA256) that let the
// database enforce uniqueness without holding numbers in clear.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Errors returned by Open.
var (
	ErrUnknownKey = errors.New("pii: sealed with an unknown key id")
	ErrCorrupt    = errors.New("pii: sealed value is corrupt or was tampered with")
)

const sealVersion = 1

// Keyring seals with its current key and opens with any key it holds.
type Keyring struct {
	current     string
	aeads       map[string]cipher.AEAD
	fingerprint []byte
}

// NewKeyring builds a keyring. keys maps key ids to 32-byte AES keys;
// current names the key new values are sealed with. fingerprintKey (at
// least 32 bytes) keys the HMAC fingerprints and cannot be rotated without
// recomputing every stored fingerprint.
func NewKeyring(keys map[string][]byte, current string, fingerprintKey []byte) (*Keyring, error) {
	if _, ok := keys[current]; !ok {
		return nil, fmt.Errorf("pii: current key id %q is not among the keys", current)
	}
	if len(fingerprintKey) < 32 {
		return nil, fmt.Errorf("pii: fingerprint key has %d bytes, need at least 32", len(fingerprintKey))
	}
	k := &Keyring{current: current, aeads: make(map[string]cipher.AEAD), fingerprint: fingerprintKey}
	for id, key := range keys {
		if id == "" || len(id) > 64 || strings.ContainsAny(id, ":,") {
			return nil, fmt.Errorf("pii: key id %q must be 1-64 characters without ':' or ','", id)
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("pii: key %q has %d bytes, AES-256 needs 32", id, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("pii: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("pii: key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// ParseKeys parses "id1:base64key,id2:base64key" (standard base64 of 32
// bytes each). The first key is the current one.
func ParseKeys(s string) (keys map[string][]byte, current string, err error) {
	keys = make(map[string][]byte)
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		id, enc, ok := strings.Cut(part, ":")
		if !ok {
			return nil, "", fmt.Errorf("key %d: want id:base64key", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, "", fmt.Errorf("key %q: invalid base64: %w", id, err)
		}
		if len(key) != 32 {
			return nil, "", fmt.Errorf("key %q: has %d bytes, want 32", id, len(key))
		}
		if _, dup := keys[id]; dup {
			return nil, "", fmt.Errorf("key %q: listed twice", id)
		}
		keys[id] = key
		if i == 0 {
			current = id
		}
	}
	return keys, current, nil
}

// RandomKey returns 32 random bytes, for development keyrings.
func RandomKey() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("pii: crypto/rand failed: " + err.Error())
	}
	return b
}

// Seal encrypts plaintext with the current key. aad binds the value to its
// place (for example the application id and field), so a value copied to
// another row does not open. The result is version, key id, nonce and
// ciphertext in one byte slice.
func (k *Keyring) Seal(plaintext, aad []byte) []byte {
	aead := k.aeads[k.current]
	out := make([]byte, 0, 2+len(k.current)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out = append(out, sealVersion, byte(len(k.current)))
	out = append(out, k.current...)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("pii: crypto/rand failed: " + err.Error())
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, aad)
}

// Open decrypts a value made by Seal with the same aad. It returns
// ErrUnknownKey when the key id is not in the keyring and ErrCorrupt when
// the value does not authenticate.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != sealVersion {
		return nil, ErrCorrupt
	}
	n := int(sealed[1])
	if len(sealed) < 2+n {
		return nil, ErrCorrupt
	}
	id := string(sealed[2 : 2+n])
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	rest := sealed[2+n:]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrCorrupt
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// KeyID returns the key id a sealed value was made with, or "" when the
// value is malformed. Rotation jobs use it to find values to re-seal.
func KeyID(sealed []byte) string {
	if len(sealed) < 2 || sealed[0] != sealVersion || len(sealed) < 2+int(sealed[1]) {
		return ""
	}
	return string(sealed[2 : 2+int(sealed[1])])
}

// Fingerprint returns HMAC-SHA256(fingerprint key, domain || 0 || value):
// equal inputs give equal fingerprints, and without the key a guess
// cannot be tested. domain separates kinds of values ("identity", "photo").
func (k *Keyring) Fingerprint(domain string, value []byte) []byte {
	mac := hmac.New(sha256.New, k.fingerprint)
	mac.Write([]byte(domain))
	mac.Write([]byte{0})
	mac.Write(value)
	return mac.Sum(nil)
}
