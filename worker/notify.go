package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/notifier"
	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/tasks"
)

// HandleNotify delivers one notification on its channel. A notification
// that is no longer pending (sent, skipped or failed) is left alone, so a
// retry or a re-run never sends again what was delivered and recorded. A
// crash between the provider accepting a message and the row being marked
// sent can still repeat it. The email Message-ID, the SMS idempotency key
// and the webhook event id are the same on every attempt, so receivers can
// drop the duplicate.
func (h *Handlers) HandleNotify(ctx context.Context, t *asynq.Task) error {
	var p tasks.NotifyPayload
	if err := tasks.Decode(t.Payload(), &p); err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	log := h.taskLogger(ctx, t).With("notification_id", p.NotificationID)

	// Load.
	n, err := h.Store.GetNotification(ctx, p.NotificationID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("notification %d not found: %w", p.NotificationID, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("load notification: %w", err)
	}
	if n.Status != store.NotificationPending {
		return nil
	}
	log = log.With("application_id", n.ApplicationID, "channel", n.Channel, "event", n.Event)
	acct, err := h.Store.GetAccount(ctx, n.AccountID)
	if err != nil {
		return fmt.Errorf("load account: %w", err)
	}

	// Deliver.
	result, err := h.deliver(ctx, log, n, acct)
	switch {
	case result == deliverySkipped:
		return h.finish(ctx, t, log, n, store.NotificationSkipped, nil)
	case result == deliveryRecorded:
		h.delivered(n.Channel, "sent")
		writeNotifyResult(t, n, store.NotificationSent)
		return nil
	case errors.Is(err, asynq.SkipRetry):
		return h.finish(ctx, t, log, n, store.NotificationFailed, err)
	}

	// Record.
	if err == nil {
		return h.finish(ctx, t, log, n, store.NotificationSent, nil)
	}
	if errors.Is(err, notifier.ErrPermanent) {
		return h.finish(ctx, t, log, n, store.NotificationFailed, fmt.Errorf("%w: %w", err, asynq.SkipRetry))
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if retried >= maxRetry {
		// Last attempt: asynq archives the task and the row is marked failed.
		return h.finish(ctx, t, log, n, store.NotificationFailed, err)
	}
	if rerr := h.Store.RecordAttempt(ctx, n.ID, err.Error()); rerr != nil {
		log.Error("recording a delivery attempt failed", "error", store.SafeError(rerr))
	}
	h.delivered(n.Channel, "retry")
	log.Warn("delivery failed; asynq retries it", "error", err, "retried", retried)
	return fmt.Errorf("deliver %s notification: %w", n.Channel, err)
}

// delivery is the outcome of deliver.
type delivery int

const (
	// deliveryAttempted: the provider was called, and the caller records
	// the outcome from its error (nil for success).
	deliveryAttempted delivery = iota
	// deliverySkipped: the channel is off for this account or not
	// configured.
	deliverySkipped
	// deliveryRecorded: the console message was stored and the row marked
	// sent in one transaction; nothing is left to record.
	deliveryRecorded
)

// deliver sends n on its channel. Errors wrapping asynq.SkipRetry cannot
// be fixed by a retry; notifier.ErrPermanent comes from the provider.
func (h *Handlers) deliver(ctx context.Context, log *slog.Logger, n store.Notification, acct store.Account) (delivery, error) {
	if n.Channel == store.ChannelWebhook {
		if h.Webhook == nil {
			return deliverySkipped, nil
		}
		attempt, _ := asynq.GetRetryCount(ctx)
		return deliveryAttempted, h.Webhook.Send(ctx, notifier.WebhookEvent{ID: idempotencyKey(n), ApplicationID: n.ApplicationID,
			AccountID: n.AccountID, Status: n.Data.Status, Kind: n.Data.Kind, OccurredAt: n.CreatedAt}, attempt+1)
	}

	content, err := notifier.Render(notifier.Event(n.Event), acct.Locale, h.templateData(n))
	if err != nil {
		return deliveryAttempted, fmt.Errorf("render: %w: %w", err, asynq.SkipRetry)
	}
	switch n.Channel {
	case store.ChannelConsole:
		if err := h.Store.DeliverConsoleMessage(ctx, n, content.Subject, content.Text); err != nil {
			return deliveryAttempted, fmt.Errorf("store console message: %w", err)
		}
		return deliveryRecorded, nil
	case store.ChannelEmail:
		if h.Mailer == nil || !acct.SubscribeEmail || acct.Email == "" {
			return deliverySkipped, nil
		}
		return deliveryAttempted, h.Mailer.Send(ctx, notifier.Email{To: acct.Email, Subject: content.Subject, Text: content.Text,
			HTML: content.HTML, MessageID: messageID(n)})
	case store.ChannelSMS:
		if h.SMS == nil || !acct.SubscribeSMS || acct.Phone == "" {
			return deliverySkipped, nil
		}
		return deliveryAttempted, h.SMS.Send(ctx, notifier.SMS{To: acct.Phone, Text: content.SMS, IdempotencyKey: idempotencyKey(n)})
	case store.ChannelStaff:
		to := h.Staff.LeadsEmail
		if n.Data.Level >= 2 {
			to = h.Staff.OperationsEmail
		}
		log.Warn("staff notified of escalation", "region", n.Data.Region)
		if h.Mailer == nil || to == "" {
			return deliverySkipped, nil
		}
		return deliveryAttempted, h.Mailer.Send(ctx, notifier.Email{To: to, Subject: content.Subject, Text: content.Text,
			HTML: content.HTML, MessageID: messageID(n)})
	}
	return deliveryAttempted, fmt.Errorf("unknown channel %q: %w", n.Channel, asynq.SkipRetry)
}

// finish records a final status and returns cause (nil for sent and
// skipped) so asynq archives a failed task. Every status but skipped
// counts as one more delivery attempt.
func (h *Handlers) finish(ctx context.Context, t *asynq.Task, log *slog.Logger, n store.Notification, status string, cause error) error {
	errText := ""
	if cause != nil {
		errText = cause.Error()
		log.Error("notification failed", "error", store.SafeError(cause))
	}
	if _, err := h.Store.FinishNotification(ctx, n.ID, status, status != store.NotificationSkipped, errText); err != nil {
		return fmt.Errorf("record notification %s: %w", status, err)
	}
	h.delivered(n.Channel, status)
	writeNotifyResult(t, n, status)
	return cause
}

// writeNotifyResult records the channel and outcome as the task result,
// for operators reading asynqmon. It holds no personal data.
func writeNotifyResult(t *asynq.Task, n store.Notification, status string) {
	if t.ResultWriter() == nil {
		return
	}
	fmt.Fprintf(t.ResultWriter(), `{"notification_id":%d,"event":%q,"channel":%q,"status":%q}`, n.ID, n.Event, n.Channel, status)
}

func (h *Handlers) delivered(channel, outcome string) {
	if h.Metrics != nil {
		h.Metrics.Deliveries.WithLabelValues(channel, outcome).Inc()
	}
}

func (h *Handlers) templateData(n store.Notification) notifier.Data {
	d := notifier.Data{
		ApplicationID: n.Data.ApplicationID, Kind: n.Data.Kind, SubjectType: n.Data.SubjectType,
		Reasons: n.Data.Reasons, FailedChecks: n.Data.FailedChecks, ResubmitAllowed: n.Data.ResubmitAllowed,
		Level: n.Data.Level, Region: n.Data.Region,
	}
	if n.Data.DueAt != nil {
		d.DueAt = *n.Data.DueAt
	}
	if h.ConsoleURL != "" && n.Data.ApplicationID != "" {
		d.ConsoleURL = h.ConsoleURL + n.Data.ApplicationID
	}
	return d
}

// messageID is the same on every attempt of one notification.
func messageID(n store.Notification) string {
	return "notification-" + strconv.FormatInt(n.ID, 10) + "@idverify"
}

func idempotencyKey(n store.Notification) string {
	return "idverify-notification-" + strconv.FormatInt(n.ID, 10)
}
