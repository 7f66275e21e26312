package notifier_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/idverify/idverify/notifier"
)

// A receiver verifies each delivery, then drops event ids it has already
// processed, which refuses replays within the tolerance window.
func ExampleVerifyWebhook() {
	const secret = "shared-secret"
	var (
		mu   sync.Mutex
		seen = map[string]bool{} // use a shared store with expiry in production
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if err := notifier.VerifyWebhook(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var ev notifier.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "invalid JSON", http.StatusBadRequest)
			return
		}

		mu.Lock()
		duplicate := seen[ev.ID]
		seen[ev.ID] = true
		mu.Unlock()
		if duplicate {
			fmt.Println("dropped duplicate", ev.ID)
		} else {
			fmt.Println("processed", ev.ID, ev.Status)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	hook, err := notifier.NewWebhook(notifier.WebhookConfig{URL: receiver.URL, Secret: secret}, receiver.Client())
	if err != nil {
		fmt.Println(err)
		return
	}
	ev := notifier.WebhookEvent{ID: "evt-42", ApplicationID: "app-1", Status: "approved", OccurredAt: time.Now()}
	for attempt := 1; attempt <= 2; attempt++ {
		if err := hook.Send(context.Background(), ev, attempt); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// processed evt-42 approved
	// dropped duplicate evt-42
}

// Render picks the template locale from the account's locale, so "zh-HK"
// gets Traditional Chinese.
func ExampleRender() {
	c, err := notifier.Render(notifier.EventApproved, "zh-HK", notifier.Data{ApplicationID: "app-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Subject)
	fmt.Println(c.SMS)
	// Output:
	// 您的實名認證申請已通過
	// 【idverify】您的實名認證申請 app-1 已通過審核。
}

func ExampleSegments() {
	for _, text := range []string{"Your application was approved.", "Price: 5€", "您的申请已通过。"} {
		encoding, count := notifier.Segments(text)
		fmt.Println(encoding, count)
	}
	// Output:
	// GSM-7 1
	// GSM-7 1
	// UCS-2 1
}
