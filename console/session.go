package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/auth"
)

// Cookie names. The session cookie is scoped to Path, the sign-in form's
// CSRF cookie to the sign-in page only.
const (
	sessionCookie = "idverify_review_session"
	loginCookie   = "idverify_review_login"
)

// csrfField is the hidden form field that carries the CSRF token.
const csrfField = "csrf_token"

// loginFormTTL is how long a sign-in form stays valid after it is shown.
const loginFormTTL = time.Hour

// maxFormBytes bounds the body of every console form.
const maxFormBytes = 64 << 10

// Domain-separation prefixes, so that no MAC made for one purpose is
// accepted for another.
const (
	sessionMACDomain = "idverify console session v1\x00"
	csrfMACDomain    = "idverify console csrf v1\x00"
	loginMACDomain   = "idverify console login csrf v1\x00"
)

// session is a signed-in reviewer as the session cookie states it.
//
// The cookie is stateless: base64url(reviewer id) "." expiry in Unix
// seconds "." random nonce in hex "." base64url(HMAC-SHA256). Any process
// holding the session key verifies it, with no shared session store.
type session struct {
	Reviewer string
	Expires  time.Time
	// Nonce is random per sign-in. The session's CSRF token is derived
	// from it.
	Nonce string
}

func (c *Console) mac(domain, message string) []byte {
	m := hmac.New(sha256.New, c.cfg.SessionKey)
	m.Write([]byte(domain))
	m.Write([]byte(message))
	return m.Sum(nil)
}

func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error. As its Go 1.26
	// documentation states, it crashes the program when the system source
	// fails.
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newSession starts a session for reviewer that expires after SessionTTL.
func (c *Console) newSession(reviewer string) session {
	return session{
		Reviewer: reviewer,
		Expires:  c.cfg.Now().Add(c.cfg.SessionTTL).Truncate(time.Second),
		Nonce:    randomHex(16),
	}
}

func (c *Console) encodeSession(s session) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(s.Reviewer)) + "." +
		strconv.FormatInt(s.Expires.Unix(), 10) + "." + s.Nonce
	return payload + "." + base64.RawURLEncoding.EncodeToString(c.mac(sessionMACDomain, payload))
}

// decodeSession returns the session a cookie value states. It reports
// false for a malformed value, a bad signature or an expired session.
func (c *Console) decodeSession(value string) (session, bool) {
	parts := strings.Split(value, ".")
	if len(parts) != 4 {
		return session{}, false
	}
	payload := strings.Join(parts[:3], ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, c.mac(sessionMACDomain, payload)) {
		return session{}, false
	}
	reviewer, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || len(reviewer) == 0 {
		return session{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return session{}, false
	}
	s := session{Reviewer: string(reviewer), Expires: time.Unix(exp, 0), Nonce: parts[2]}
	if !c.cfg.Now().Before(s.Expires) {
		return session{}, false
	}
	return s, true
}

// readSession returns the request's valid session, if it has one.
func (c *Console) readSession(r *http.Request) (session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	s, ok := c.decodeSession(ck.Value)
	if !ok {
		return session{}, false
	}
	// A reviewer whose key was removed loses the console at once, not
	// when the session expires.
	if !c.keys.HasPrincipal(auth.Principal{ID: s.Reviewer, Scope: auth.ScopeReview}) {
		return session{}, false
	}
	return s, true
}

// setSessionCookie sends the session cookie: HttpOnly, SameSite=Strict,
// scoped to Path, and Secure when the request came over TLS.
//
// NOTE: Secure follows r.TLS only. Behind a proxy that terminates TLS the
// cookie goes out without Secure, so the proxy must add the attribute.
func (c *Console) setSessionCookie(w http.ResponseWriter, r *http.Request, s session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: c.encodeSession(s), Path: Path,
		Expires: s.Expires, MaxAge: int(s.Expires.Sub(c.cfg.Now()).Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// clearCookie sends an expired cookie, so the browser deletes its copy.
func clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// csrfToken returns the session's CSRF token: a MAC of its nonce, so it
// needs no storage and changes with every sign-in.
func (c *Console) csrfToken(s session) string {
	return base64.RawURLEncoding.EncodeToString(c.mac(csrfMACDomain, s.Nonce))
}

func (c *Console) validCSRFToken(s session, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && hmac.Equal(got, c.mac(csrfMACDomain, s.Nonce))
}

// loginToken returns the sign-in form's CSRF token for the nonce in the
// sign-in cookie (a double-submit token), since there is no session yet.
func (c *Console) loginToken(nonce string) string {
	return base64.RawURLEncoding.EncodeToString(c.mac(loginMACDomain, nonce))
}

func (c *Console) validLoginToken(nonce, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	return nonce != "" && err == nil && hmac.Equal(got, c.mac(loginMACDomain, nonce))
}

// sessionHandler is a handler that runs for a signed-in reviewer.
type sessionHandler func(w http.ResponseWriter, r *http.Request, s session)

// requireSession runs next for a request with a valid session cookie,
// with the reviewer as the request's auth.Principal, which the review
// helpers write to the audit log. Other requests are sent to the sign-in
// page, which returns to the page they asked for after a GET.
func (c *Console) requireSession(next sessionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.readSession(r)
		if !ok {
			q := url.Values{}
			if _, err := r.Cookie(sessionCookie); err == nil {
				q.Set("expired", "1")
				clearCookie(w, r, sessionCookie, Path)
			}
			if r.Method == http.MethodGet && r.URL.Path != Path {
				q.Set("next", r.URL.RequestURI())
			}
			target := Path + "login"
			if len(q) > 0 {
				target += "?" + q.Encode()
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		ctx := auth.WithPrincipal(r.Context(), auth.Principal{ID: s.Reviewer, Scope: auth.ScopeReview})
		next(w, r.WithContext(ctx), s)
	})
}

// requireCSRF parses the form of a POST, bounded to maxFormBytes, and
// runs next only when its CSRF token belongs to the session. A missing or
// wrong token gets 403.
func (c *Console) requireCSRF(next sessionHandler) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, s session) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			c.renderError(w, r, http.StatusBadRequest, "Form not readable",
				"The form could not be read (it may be larger than 64 KiB). Go back and submit it again.")
			return
		}
		if !c.validCSRFToken(s, r.PostForm.Get(csrfField)) {
			c.logRejection(r, "console form rejected: missing or invalid csrf token")
			c.renderError(w, r, http.StatusForbidden, "Form expired",
				"The form is missing its security token, or it was shown before you last signed in. Reload the page and submit the form again.")
			return
		}
		next(w, r, s)
	}
}
