package console

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/idverify/idverify/auth"
)

type loginPage struct {
	layout
	LoginToken string
	Next       string
	SessionTTL time.Duration
}

// loginPage shows the sign-in form, or sends a signed-in reviewer on to
// the queue. Each showing sets a fresh sign-in cookie whose nonce the
// form's CSRF token signs.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := c.readSession(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}

	var f *flash
	switch {
	case r.URL.Query().Get("signed_out") != "":
		f = &flash{Message: "You are signed out."}
	case r.URL.Query().Get("expired") != "":
		f = &flash{Error: true, Message: "Your session expired. Sign in again."}
	}
	c.showLogin(w, r, http.StatusOK, next, f)
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, next string, f *flash) {
	nonce := randomHex(16)
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: nonce, Path: Path + "login", MaxAge: int(loginFormTTL.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	c.render(w, r, status, "login.html", loginPage{
		layout:     layout{Title: "Sign in", Flash: f},
		LoginToken: c.loginToken(nonce), Next: next, SessionTTL: c.cfg.SessionTTL,
	})
}

// login checks the pasted key and, for a key with the review scope,
// starts a session. A wrong key sets no cookie and shows the form again
// with 401.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.showLogin(w, r, http.StatusBadRequest, Path, &flash{Error: true,
			Message: "The sign-in form could not be read (it may be larger than 64 KiB). Paste the key and try again."})
		return
	}
	next := safeNext(r.PostForm.Get("next"))

	var nonce string
	if ck, err := r.Cookie(loginCookie); err == nil {
		nonce = ck.Value
	}
	if !c.validLoginToken(nonce, r.PostForm.Get(csrfField)) {
		c.logRejection(r, "console sign-in rejected: missing or invalid csrf token")
		c.showLogin(w, r, http.StatusForbidden, next, &flash{Error: true,
			Message: "The sign-in form expired or was opened in another browser. Paste the key and sign in again."})
		return
	}

	p, ok := c.keys.Lookup(strings.TrimSpace(r.PostForm.Get("api_key")))
	if !ok || p.Scope != auth.ScopeReview {
		c.logRejection(r, "console sign-in rejected: unknown key or not a reviewer key")
		c.showLogin(w, r, http.StatusUnauthorized, next, &flash{Error: true,
			Message: "This is not a valid reviewer API key. Paste the key with the review scope that the operators gave you."})
		return
	}

	s := c.newSession(p.ID)
	c.setSessionCookie(w, r, s)
	clearCookie(w, r, loginCookie, Path+"login")
	c.logger.Info("reviewer signed in to the console", "reviewer", p.ID, "expires_at", s.Expires.UTC())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout deletes the session cookie.
//
// NOTE: sessions are stateless signed cookies, so signing out cannot
// revoke a copy of the cookie taken earlier. Such a copy stays valid
// until it expires (SessionTTL). Removing the reviewer's API key, or
// rotating the session key, ends the session.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s session) {
	clearCookie(w, r, sessionCookie, Path)
	c.logger.Info("reviewer signed out of the console", "reviewer", s.Reviewer)
	http.Redirect(w, r, Path+"login?signed_out=1", http.StatusSeeOther)
}

// safeNext returns next when it is a console page to return to after
// signing in, and the queue otherwise. Only a local path under Path other
// than the sign-in page qualifies, so the parameter cannot redirect to
// another site (an open redirect).
func safeNext(next string) string {
	if next == "" || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Path
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return Path
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean+"/", Path) || strings.HasPrefix(clean, Path+"login") {
		return Path
	}
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	return (&url.URL{Path: clean, RawQuery: u.RawQuery}).String()
}
