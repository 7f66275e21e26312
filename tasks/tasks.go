// Package tasks is the contract between the intake API (producer) and the
// workers: task type names, payloads, queue names and task options.
//
// Payloads carry ids only. Redis, asynqmon and task results never hold
// personal data, so nothing here may grow a name, number or address field.
package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Task types.
const (
	// TypeValidate runs the automatic checks on a submitted application.
	TypeValidate = "application:validate"
	// TypeEscalate raises an undecided application to an escalation level
	// when its review deadline passes.
	TypeEscalate = "application:escalate"
	// TypeNotify delivers one notification row on its channel.
	TypeNotify = "notification:deliver"
	// TypeSweepDeadlines re-creates escalation tasks that Redis lost.
	TypeSweepDeadlines = "maintenance:sweep_deadlines"
)

// Queue names with their asynq priorities. Validation and escalation go
// first because they move deadlines; notifications next; maintenance last.
const (
	QueueCritical      = "critical"
	QueueNotifications = "notifications"
	QueueMaintenance   = "maintenance"
)

// Queues maps each queue to its weighted priority for asynq.Config.Queues.
func Queues() map[string]int {
	return map[string]int{
		QueueCritical:      6,
		QueueNotifications: 3,
		QueueMaintenance:   1,
	}
}

// ApplicationPayload names one application.
type ApplicationPayload struct {
	ApplicationID string `json:"application_id"`
}

// EscalatePayload names one application and the level to reach.
type EscalatePayload struct {
	ApplicationID string `json:"application_id"`
	Level         int    `json:"level"`
}

// NotifyPayload names one notification row.
type NotifyPayload struct {
	NotificationID int64 `json:"notification_id"`
}

// Spec is a task ready to be stored in the outbox and enqueued later: the
// outbox keeps type, id, queue, payload and the time it may run.
type Spec struct {
	Type      string
	ID        string
	Queue     string
	Payload   []byte
	ProcessAt time.Time // zero means now
}

// Validate returns the validation task of an application. Its id is
// deterministic, so enqueuing it twice creates one task.
func Validate(applicationID string) Spec {
	return Spec{
		Type:    TypeValidate,
		ID:      "validate:" + applicationID,
		Queue:   QueueCritical,
		Payload: mustJSON(ApplicationPayload{ApplicationID: applicationID}),
	}
}

// Escalate returns the escalation task of an application to level at the
// given time; one task id per (application, level).
func Escalate(applicationID string, level int, at time.Time) Spec {
	return Spec{
		Type:      TypeEscalate,
		ID:        fmt.Sprintf("escalate:%s:%d", applicationID, level),
		Queue:     QueueCritical,
		Payload:   mustJSON(EscalatePayload{ApplicationID: applicationID, Level: level}),
		ProcessAt: at,
	}
}

// Notify returns the delivery task of one notification row.
func Notify(notificationID int64) Spec {
	return Spec{
		Type:    TypeNotify,
		ID:      fmt.Sprintf("notify:%d", notificationID),
		Queue:   QueueNotifications,
		Payload: mustJSON(NotifyPayload{NotificationID: notificationID}),
	}
}

// SweepDeadlines returns the periodic sweeper task for the period that
// starts at periodStart. Its id names the period, so when several
// processes schedule the sweep, one task runs per period.
func SweepDeadlines(periodStart time.Time) Spec {
	return Spec{
		Type:    TypeSweepDeadlines,
		ID:      "sweep:" + periodStart.UTC().Format("20060102T150405"),
		Queue:   QueueMaintenance,
		Payload: []byte("{}"),
	}
}

// NewTask turns a spec into an asynq task with the options of its type.
func (s Spec) NewTask() *asynq.Task {
	opts := []asynq.Option{asynq.TaskID(s.ID), asynq.Queue(s.Queue)}
	if !s.ProcessAt.IsZero() {
		opts = append(opts, asynq.ProcessAt(s.ProcessAt))
	}
	switch s.Type {
	case TypeValidate:
		opts = append(opts, asynq.MaxRetry(10), asynq.Timeout(2*time.Minute), asynq.Retention(24*time.Hour))
	case TypeEscalate:
		opts = append(opts, asynq.MaxRetry(10), asynq.Timeout(time.Minute), asynq.Retention(24*time.Hour))
	case TypeNotify:
		opts = append(opts, asynq.MaxRetry(12), asynq.Timeout(time.Minute), asynq.Retention(24*time.Hour))
	case TypeSweepDeadlines:
		// Retention keeps the period's id taken after the sweep finished,
		// so a late process cannot run the same period again.
		opts = append(opts, asynq.MaxRetry(1), asynq.Timeout(5*time.Minute), asynq.Retention(2*time.Hour))
	}
	return asynq.NewTask(s.Type, s.Payload, opts...)
}

// Decode unmarshals a task payload strictly: unknown fields and malformed
// JSON are errors that the caller wraps with asynq.SkipRetry.
func Decode(payload []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode task payload: %w", err)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("tasks: marshal %T: %v", v, err))
	}
	return b
}
