package embedded

import (
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// mailboxCSP forbids scripts and every remote load on the mailbox pages. A
// srcdoc iframe inherits this policy, so a mail's HTML can use inline styles
// and data: images but cannot load tracking pixels or other remote content.
const mailboxCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

// Handler returns an HTTP handler for the dev mailbox pages, meant to be
// mounted at a path ending in a slash, such as "/dev/mailbox/", with or
// without http.StripPrefix. It serves, relative to that path:
//
//	""        the list of kept messages, newest first
//	"{id}"    one message: header summary, text body, HTML body in a
//	          sandboxed iframe (no scripts, no remote content) and its source
//	"{id}/raw" the raw message as text/plain
//
// Only GET and HEAD are allowed. The pages show personal data of the mails,
// so the handler must only be mounted in development setups.
func (b *Mailbox) Handler() http.Handler {
	return http.HandlerFunc(b.serveHTTP)
}

func (b *Mailbox) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Security-Policy", mailboxCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")

	// Routing looks only at the end of the path, so the handler works at any
	// mount point.
	path := r.URL.Path
	if path == "" || strings.HasSuffix(path, "/") {
		b.serveIndex(w)
		return
	}
	segments := strings.Split(path, "/")
	last := segments[len(segments)-1]
	if id, err := strconv.Atoi(last); err == nil {
		b.serveMail(w, id)
		return
	}
	if last == "raw" && len(segments) >= 2 {
		if id, err := strconv.Atoi(segments[len(segments)-2]); err == nil {
			b.serveRaw(w, id)
			return
		}
	}
	http.NotFound(w, r)
}

func (b *Mailbox) serveIndex(w http.ResponseWriter) {
	messages := b.Messages()
	slices.Reverse(messages)

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := mailboxIndexPage.Execute(w, messages); err != nil {
		b.logger.Warn("render mailbox index page", "error", err)
	}
}

func (b *Mailbox) serveMail(w http.ResponseWriter, id int) {
	message, ok := b.find(id)
	if !ok {
		http.Error(w, "mail "+strconv.Itoa(id)+" not found: it was never received or was dropped as one of the oldest", http.StatusNotFound)
		return
	}

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := mailboxMailPage.Execute(w, message); err != nil {
		b.logger.Warn("render mailbox mail page", "mail_id", id, "error", err)
	}
}

func (b *Mailbox) serveRaw(w http.ResponseWriter, id int) {
	message, ok := b.find(id)
	if !ok {
		http.Error(w, "mail "+strconv.Itoa(id)+" not found: it was never received or was dropped as one of the oldest", http.StatusNotFound)
		return
	}

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(message.Raw)
}

func (b *Mailbox) find(id int) (Mail, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, message := range b.messages {
		if message.ID == id {
			return message, true
		}
	}
	return Mail{}, false
}

const mailboxStyle = `<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f3f3f3; }
pre { white-space: pre-wrap; word-break: break-word; background: #f7f7f7; padding: .75rem; border: 1px solid #ddd; }
iframe { width: 100%; height: 32rem; border: 1px solid #ddd; background: #fff; }
.note { color: #666; }
.error { color: #a00; }
</style>`

var mailboxIndexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Dev mailbox</title>
` + mailboxStyle + `
</head>
<body>
<h1>Dev mailbox</h1>
<p class="note">Mail sent to the embedded SMTP server. It is kept in memory only, newest first. <a href="">Refresh</a></p>
{{if .}}
<table>
<thead><tr><th>#</th><th>Date</th><th>From</th><th>To</th><th>Subject</th></tr></thead>
<tbody>
{{range .}}<tr>
<td><a href="{{.ID}}">{{.ID}}</a></td>
<td>{{.Date.Format "2006-01-02 15:04:05 -0700"}}</td>
<td>{{.From}}</td>
<td>{{range $i, $to := .To}}{{if $i}}, {{end}}{{$to}}{{end}}</td>
<td><a href="{{.ID}}">{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</a></td>
</tr>
{{end}}</tbody>
</table>
{{else}}
<p>No mail received yet.</p>
{{end}}
</body>
</html>
`))

var mailboxMailPage = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Mail {{.ID}}: {{.Subject}}</title>
` + mailboxStyle + `
</head>
<body>
<p><a href="./">All mail</a> · <a href="{{.ID}}/raw">Raw source</a></p>
<h1>{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</h1>
<table>
<tr><th>From</th><td>{{.From}}</td></tr>
<tr><th>To (envelope)</th><td>{{range $i, $to := .To}}{{if $i}}, {{end}}{{$to}}{{end}}</td></tr>
<tr><th>Date</th><td>{{.Date.Format "2006-01-02 15:04:05 -0700"}}</td></tr>
<tr><th>Received</th><td>{{.ReceivedAt.Format "2006-01-02 15:04:05.000 -0700"}}</td></tr>
{{if .DecodeError}}<tr><th>Decode error</th><td class="error">{{.DecodeError}}</td></tr>{{end}}
</table>
<h2>HTML body</h2>
{{if .HTML}}
<iframe sandbox="" title="HTML body of mail {{.ID}}" srcdoc="{{.HTML}}"></iframe>
<details><summary>HTML source</summary><pre>{{.HTML}}</pre></details>
{{else}}
<p class="note">This mail has no HTML part.</p>
{{end}}
<h2>Text body</h2>
{{if .Text}}<pre>{{.Text}}</pre>{{else}}<p class="note">This mail has no text part.</p>{{end}}
</body>
</html>
`))
