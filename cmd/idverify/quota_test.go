package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestQuotaUnderConcurrentApprovals fires 20 approvals at once for one
// identity across 20 accounts: exactly the quota succeeds, every other
// approval fails with quota_exceeded, and none fails with a 5xx.
func TestQuotaUnderConcurrentApprovals(t *testing.T) {
	cases := []struct {
		name   string
		form   func() form
		quota  int
		prefix string
	}{
		{name: "passport", form: passportForm, quota: 1, prefix: "q-pass"},
		{name: "enterprise", form: enterpriseForm, quota: 5, prefix: "q-org"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			const accounts = 20
			ids := make([]string, accounts)
			for i := range accounts {
				acct := fmt.Sprintf("%s-%02d", tc.prefix, i)
				b.putAccount(acct)
				var created struct {
					ID string `json:"id"`
				}
				if code := b.submit(acct, tc.form(), &created); code != http.StatusAccepted {
					t.Fatalf("submit %s: status %d", acct, code)
				}
				ids[i] = created.ID
			}
			for i, id := range ids {
				b.waitStatus(fmt.Sprintf("%s-%02d", tc.prefix, i), id, "awaiting_review")
			}

			var wg sync.WaitGroup
			statuses := make([]int, accounts)
			codes := make([]string, accounts)
			start := make(chan struct{})
			for i, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					// Status is the application's on success and the
					// HTTP status in a problem, so it is not decoded.
					var resp struct {
						Code string `json:"code"`
					}
					statuses[i] = b.do(http.MethodPost, "/v1/review/applications/"+id+"/decision", testReviewerKey,
						map[string]any{"decision": "approve"}, &resp)
					codes[i] = resp.Code
				}()
			}
			close(start)
			wg.Wait()

			approved, quotaExceeded := 0, 0
			for i := range statuses {
				switch {
				case statuses[i] == http.StatusOK:
					approved++
				case statuses[i] == http.StatusConflict && codes[i] == "quota_exceeded":
					quotaExceeded++
				default:
					t.Errorf("approval %d: status %d code %q, want 200 or 409 quota_exceeded", i, statuses[i], codes[i])
				}
			}
			if approved != tc.quota {
				t.Errorf("%d approvals succeeded, want exactly %d", approved, tc.quota)
			}
			if quotaExceeded != accounts-tc.quota {
				t.Errorf("%d approvals rejected with quota_exceeded, want %d", quotaExceeded, accounts-tc.quota)
			}

			var bound int
			if err := b.in.Store.DB().Get(&bound, "SELECT COUNT(*) FROM identity_bindings"); err != nil {
				t.Fatal(err)
			}
			if bound != tc.quota {
				t.Errorf("identity_bindings holds %d rows, want %d", bound, tc.quota)
			}
		})
	}
}

func enterpriseForm() form {
	return form{fields: map[string]string{
		"subject_type": "organization", "region": "CN", "enterprise_name": "福建示例科技有限公司",
		"registered_address": "88 Wusi Road, Gulou District, Fuzhou", "business_registration_number": "91350100M000100Y43",
		"terms_accepted": "true", "consent": "true",
	}, photo: testPNG, photoName: "certificate.png"}
}
