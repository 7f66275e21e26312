package notifier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/notifier"
)

func TestDevSMSLogsMaskedNumber(t *testing.T) {
	var logs bytes.Buffer
	d := notifier.NewDevSMS(slog.New(slog.NewJSONHandler(&logs, nil)))
	m := notifier.SMS{To: samplePhone, Text: "idverify: application app-1 was approved.", IdempotencyKey: "notification-1"}

	if err := d.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	if strings.Contains(logs.String(), samplePhone) || strings.Contains(logs.String(), "91234578") {
		t.Errorf("log contains the phone number:\n%s", logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log line is not one JSON object: %v\n%s", err, logs.String())
	}
	want := map[string]any{"to": "+852****78", "text": m.Text, "segments": float64(1), "encoding": "GSM-7"}
	got := map[string]any{"to": line["to"], "text": line["text"], "segments": line["segments"], "encoding": line["encoding"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log attributes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]notifier.SMS{m}, d.Messages()); diff != "" {
		t.Errorf("Messages mismatch (-want +got):\n%s", diff)
	}
}

func TestDevSMSKeepsLast200(t *testing.T) {
	d := notifier.NewDevSMS(nil)
	for i := range 205 {
		m := notifier.SMS{To: samplePhone, Text: fmt.Sprintf("message %d", i), IdempotencyKey: fmt.Sprintf("k%d", i)}
		if err := d.Send(context.Background(), m); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}

	got := d.Messages()
	if len(got) != 200 {
		t.Fatalf("len(Messages()) = %d, want 200", len(got))
	}
	if got[0].Text != "message 5" || got[199].Text != "message 204" {
		t.Errorf("Messages() runs from %q to %q, want message 5 to message 204", got[0].Text, got[199].Text)
	}
}

func TestDevSMSDeduplicatesByIdempotencyKey(t *testing.T) {
	d := notifier.NewDevSMS(nil)
	m := notifier.SMS{To: samplePhone, Text: "hi", IdempotencyKey: "notification-1"}
	for range 3 {
		if err := d.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if got := len(d.Messages()); got != 1 {
		t.Errorf("len(Messages()) = %d after 3 sends with one key, want 1", got)
	}
}

func TestDevSMSRejectsInvalidMessage(t *testing.T) {
	d := notifier.NewDevSMS(nil)
	tests := []notifier.SMS{
		{To: "0091234578", Text: "hi", IdempotencyKey: "k"},
		{To: samplePhone, Text: "", IdempotencyKey: "k"},
		{To: samplePhone, Text: strings.Repeat("中", 202), IdempotencyKey: "k"},
		{To: samplePhone, Text: "hi"},
	}
	for _, m := range tests {
		if err := d.Send(context.Background(), m); !errors.Is(err, notifier.ErrPermanent) {
			t.Errorf("Send(%d-byte text, key %q) error = %v, want ErrPermanent", len(m.Text), m.IdempotencyKey, err)
		}
	}
	if got := len(d.Messages()); got != 0 {
		t.Errorf("len(Messages()) = %d, want 0", got)
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+85291234578", "+852****78"},
		{"+8613800138000", "+861****00"},
		{"+6591234567", "+659****67"},
		{"+1234567", "+123****67"},
		{"+12345", "+****45"},
		{"+1", "+****"},
		{"", "+****"},
	}
	for _, tt := range tests {
		if got := notifier.MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
