// Package notifier renders idverify's notifications and delivers them by
// email, SMS and webhook.
//
// # Rendering
//
// Render fills the templates of one Event in English, Simplified Chinese or
// Traditional Chinese and returns a Content with a subject, a plain-text
// body, an HTML body and an SMS text. The console message center stores the
// subject as the title and the text as the body. The templates are embedded
// from templates/<locale>/, and Data holds no personal data, so no message
// contains an applicant's name, document number, address, email or phone
// number.
//
// # Delivery
//
// Mailer sends email over SMTP with github.com/wneessen/go-mail, SMSGateway
// posts signed JSON to an SMS gateway, DevSMS logs and keeps messages for
// development, and Webhook posts signed events to a caller's endpoint.
// Each is safe for concurrent use.
//
// Every Send returns nil on delivery, an error wrapping ErrPermanent when a
// retry cannot succeed, and any other error when a retry may succeed. A
// caller retries the second kind with backoff and gives up on the first.
// Each message carries a value that stays the same across retries (the email
// Message-ID, the SMS idempotency key, the webhook event id), so a receiver
// can drop duplicates when a retry follows a delivery whose reply was lost.
// Errors and log lines name ids, steps and status codes, never recipients.
//
// # Verifying webhooks
//
// Each webhook delivery is a POST of the event as JSON with these headers:
//
//	Idverify-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
//	Idverify-Event-Id:  the event id, also in the body
//	Idverify-Attempt:   1 for the first delivery, then 2, 3, ...
//
// The HMAC key is the secret shared with the caller. Every attempt is signed
// again with the time of sending. A receiver does the following:
//
//  1. Read the raw body before decoding it, because the signature covers the
//     exact bytes.
//  2. Call VerifyWebhook with the shared secret, the headers, the body, its
//     current time and a tolerance (DefaultWebhookTolerance is 5 minutes). It
//     rejects a wrong signature with ErrInvalidSignature, and a timestamp
//     further than the tolerance from the receiver's clock with
//     ErrTimestampOutsideTolerance. Respond to either with status 401.
//  3. Decode the body and look up its "id" among the ids already processed.
//     Respond to a known id with a 2xx status and do nothing else, because
//     it is a retry or a replay within the tolerance window. Keep ids for
//     longer than the tolerance, so that every replay is rejected by its
//     timestamp or by its id. Take the id from the verified body, because the
//     headers other than Idverify-Signature are not signed.
//  4. Process the event and respond with a 2xx status. After a 408, 429 or
//     5xx response idverify retries the delivery later, and any other 4xx
//     stops the retries.
//
// WEBHOOKS.md in this directory explains the same steps for receivers
// written in other languages.
package notifier
