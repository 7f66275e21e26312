package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// reviewGenesisHash is the prev_hash of the first audit entry.
var reviewGenesisHash = strings.Repeat("0", 64)

// reviewAuditLog returns the whole audit log in id order, read from MySQL.
func (b *bundle) reviewAuditLog() []reviewAuditEntry {
	b.t.Helper()
	var rows []struct {
		ID            int64     `db:"id"`
		ApplicationID string    `db:"application_id"`
		Actor         string    `db:"actor"`
		Action        string    `db:"action"`
		Detail        string    `db:"detail"`
		CreatedAt     time.Time `db:"created_at"`
		PrevHash      string    `db:"prev_hash"`
		Hash          string    `db:"hash"`
	}
	if err := b.in.Store.DB().Select(&rows, `SELECT id, application_id, actor, action, detail, created_at, prev_hash, hash
FROM audit_log ORDER BY id`); err != nil {
		b.t.Fatalf("read audit_log: %v", err)
	}
	out := make([]reviewAuditEntry, 0, len(rows))
	for _, r := range rows {
		out = append(out, reviewAuditEntry{ID: r.ID, ApplicationID: r.ApplicationID, Actor: r.Actor, Action: r.Action,
			Detail: r.Detail, CreatedAt: r.CreatedAt.UTC(), PrevHash: r.PrevHash, Hash: r.Hash})
	}
	return out
}

// TestReviewAuditTrail records claims, reads and a decision on two
// applications, interleaved, and reads one application's trail: its
// entries in order with actor, action and time, each linked by prev_hash
// to the entry before it in the whole log.
func TestReviewAuditTrail(t *testing.T) {
	start := reviewEpoch(t)
	clock := newTestClock(start)
	b := setup(t, withClock(clock))
	id := b.reviewSubmit("audit-1", passportForm())
	other := b.reviewSubmit("audit-2", reviewVariant(passportForm(), map[string]string{"document_number": "K1234567"}, nil))

	steps := []struct {
		key    string
		method string
		path   string
		body   any
	}{
		{testReviewerKey, http.MethodPost, "/v1/review/applications/" + id + "/claim", nil},
		{testOtherKey, http.MethodGet, "/v1/review/applications/" + other, nil},
		{testReviewerKey, http.MethodGet, "/v1/review/applications/" + id, nil},
		{testReviewerKey, http.MethodGet, "/v1/review/applications/" + id + "/photo", nil},
		{testOtherKey, http.MethodGet, "/v1/review/applications/" + other + "/photo", nil},
		{testReviewerKey, http.MethodPost, "/v1/review/applications/" + id + "/decision",
			map[string]any{"decision": "reject", "reasons": []string{"name_mismatch", "other"}, "note": "Surname differs."}},
	}
	for i, s := range steps {
		clock.Set(start.Add(time.Duration(i) * time.Minute))
		if code := b.do(s.method, s.path, s.key, s.body, nil); code != http.StatusOK {
			t.Fatalf("%s %s: status %d", s.method, s.path, code)
		}
	}

	// The trail of one application, oldest first.
	type entry struct {
		Actor, Action, Detail string
		CreatedAt             time.Time
	}
	trail := b.reviewTrail(id)
	var got []entry
	for _, e := range trail {
		got = append(got, entry{e.Actor, e.Action, e.Detail, e.CreatedAt.UTC()})
	}
	at := func(minute int) time.Time { return start.Add(time.Duration(minute) * time.Minute).UTC() }
	want := []entry{
		{"alice", "claim", "until " + at(30).Format(time.RFC3339), at(0)},
		{"alice", "view_detail", "", at(2)},
		{"alice", "view_photo", "", at(3)},
		{"alice", "decide", "rejected name_mismatch,other", at(5)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit trail of %s (-want +got):\n%s", id, diff)
	}

	// The log is one chain across applications: the first entry links to
	// the genesis hash, every later one to the entry before it.
	log := b.reviewAuditLog()
	if len(log) != len(steps) {
		t.Fatalf("audit_log holds %d entries, want %d", len(log), len(steps))
	}
	prev := reviewGenesisHash
	previous := map[int64]string{}
	for _, e := range log {
		if e.PrevHash != prev {
			t.Errorf("audit entry %d (%s): prev_hash %.12s…, want %.12s…", e.ID, e.Action, e.PrevHash, prev)
		}
		if len(e.Hash) != 64 {
			t.Errorf("audit entry %d: hash %q is not 64 hex digits", e.ID, e.Hash)
		}
		previous[e.ID] = prev
		prev = e.Hash
	}
	for _, e := range trail {
		if e.PrevHash != previous[e.ID] {
			t.Errorf("trail entry %d (%s): prev_hash %.12s…, want the hash of the log entry before it %.12s…",
				e.ID, e.Action, e.PrevHash, previous[e.ID])
		}
	}
	// view_detail of id follows bob's read of the other application.
	if trail[1].PrevHash != log[1].Hash || log[1].ApplicationID != other {
		t.Errorf("view_detail of %s links to %.12s…, want bob's read of %s (%.12s…)", id, trail[1].PrevHash, other, log[1].Hash)
	}

	// Reading the trail is not itself audited.
	b.reviewTrail(id)
	if n := len(b.reviewAuditLog()); n != len(steps) {
		t.Errorf("after reading the trail audit_log holds %d entries, want %d", n, len(steps))
	}
}

// reviewAuditHash computes an audit entry's hash as store.auditHash does:
// SHA-256 over "len:part|" for the previous hash, application id, actor,
// action, detail and the UTC time in RFC 3339 with nanoseconds. It is a
// copy, so that the test can forge an entry the way an attacker with
// database access would.
func reviewAuditHash(prev, applicationID, actor, action, detail string, at time.Time) string {
	h := sha256.New()
	for _, part := range []string{prev, applicationID, actor, action, detail, at.UTC().Format(time.RFC3339Nano)} {
		fmt.Fprintf(h, "%d:%s|", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestReviewAuditTamper edits the audit log in SQL, as someone with
// database access could, and shows that store.VerifyAuditChain names the
// first entry that no longer holds, and returns 0 for an intact chain.
func TestReviewAuditTamper(t *testing.T) {
	b := setup(t)
	id := b.reviewSubmit("tamper", passportForm())
	for _, s := range []struct{ method, path string }{
		{http.MethodPost, "/claim"},
		{http.MethodGet, ""},
		{http.MethodGet, "/photo"},
		{http.MethodDelete, "/claim"},
	} {
		if code := b.do(s.method, "/v1/review/applications/"+id+s.path, testReviewerKey, nil, nil); code/100 != 2 {
			t.Fatalf("%s %s: status %d", s.method, s.path, code)
		}
	}
	if code := b.reviewDecide(testReviewerKey, id, map[string]any{"decision": "approve"}, nil); code != http.StatusOK {
		t.Fatalf("approve: status %d", code)
	}

	ctx := reviewContext(t)
	db := b.in.Store.DB()
	verify := func(what string) int64 {
		t.Helper()
		bad, err := b.in.Store.VerifyAuditChain(ctx)
		if err != nil {
			t.Fatalf("VerifyAuditChain %s: %v", what, err)
		}
		return bad
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}

	log := b.reviewAuditLog()
	if len(log) != 5 {
		t.Fatalf("audit_log holds %d entries, want 5 (claim, view_detail, view_photo, release, decide)", len(log))
	}
	if got := verify("on the untouched log"); got != 0 {
		t.Fatalf("VerifyAuditChain on the untouched log = %d, want 0", got)
	}
	for _, e := range log {
		if h := reviewAuditHash(e.PrevHash, e.ApplicationID, e.Actor, e.Action, e.Detail, e.CreatedAt); h != e.Hash {
			t.Fatalf("entry %d: recomputed hash %.12s… differs from the stored %.12s…; reviewAuditHash no longer matches store.auditHash",
				e.ID, h, e.Hash)
		}
	}

	photoRead, release, decide := log[2], log[3], log[4]
	edits := []struct {
		name    string
		tamper  func()
		restore func()
		want    int64
	}{
		{
			name:    "detail edited",
			tamper:  func() { exec("UPDATE audit_log SET detail = ? WHERE id = ?", "nothing to see", decide.ID) },
			restore: func() { exec("UPDATE audit_log SET detail = ? WHERE id = ?", decide.Detail, decide.ID) },
			want:    decide.ID,
		},
		{
			name:    "actor edited",
			tamper:  func() { exec("UPDATE audit_log SET actor = ? WHERE id = ?", "bob", photoRead.ID) },
			restore: func() { exec("UPDATE audit_log SET actor = ? WHERE id = ?", photoRead.Actor, photoRead.ID) },
			want:    photoRead.ID,
		},
		{
			name: "time edited",
			tamper: func() {
				exec("UPDATE audit_log SET created_at = ? WHERE id = ?", photoRead.CreatedAt.Add(-time.Hour), photoRead.ID)
			},
			restore: func() { exec("UPDATE audit_log SET created_at = ? WHERE id = ?", photoRead.CreatedAt, photoRead.ID) },
			want:    photoRead.ID,
		},
		{
			// Recomputing the edited entry's own hash moves the break to
			// the next entry, whose prev_hash still names the old hash.
			name: "entry forged with its hash",
			tamper: func() {
				forged := reviewAuditHash(photoRead.PrevHash, photoRead.ApplicationID, "bob", photoRead.Action, photoRead.Detail, photoRead.CreatedAt)
				exec("UPDATE audit_log SET actor = ?, hash = ? WHERE id = ?", "bob", forged, photoRead.ID)
			},
			restore: func() {
				exec("UPDATE audit_log SET actor = ?, hash = ? WHERE id = ?", photoRead.Actor, photoRead.Hash, photoRead.ID)
			},
			want: release.ID,
		},
		{
			name:   "entry deleted",
			tamper: func() { exec("DELETE FROM audit_log WHERE id = ?", photoRead.ID) },
			restore: func() {
				e := photoRead
				exec(`INSERT INTO audit_log (id, application_id, actor, action, detail, created_at, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.ApplicationID, e.Actor, e.Action, e.Detail, e.CreatedAt, e.PrevHash, e.Hash)
			},
			want: release.ID,
		},
		{
			// Deleting the newest entry leaves no broken link; the chain
			// head, written with every entry, still names it.
			name:   "newest entry deleted",
			tamper: func() { exec("DELETE FROM audit_log WHERE id = ?", log[len(log)-1].ID) },
			restore: func() {
				e := log[len(log)-1]
				exec(`INSERT INTO audit_log (id, application_id, actor, action, detail, created_at, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.ApplicationID, e.Actor, e.Action, e.Detail, e.CreatedAt, e.PrevHash, e.Hash)
			},
			want: log[len(log)-1].ID,
		},
	}
	for _, ed := range edits {
		t.Run(ed.name, func(t *testing.T) {
			ed.tamper()
			if got := verify("after the edit"); got != ed.want {
				t.Errorf("VerifyAuditChain = %d, want %d", got, ed.want)
			}
			ed.restore()
			if got := verify("after restoring"); got != 0 {
				t.Fatalf("VerifyAuditChain after restoring = %d, want 0", got)
			}
		})
	}
}
