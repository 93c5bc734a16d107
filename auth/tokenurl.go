package auth

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ErrInvalidURL reports an endpoint URL AddToken cannot add a token to. The
// error text never shows the URL's query.
var ErrInvalidURL = errors.New("auth: invalid endpoint URL")

// AddToken returns rawURL with the query parameter token=tok, the way Jitsi
// deployments expect it on the BOSH and WebSocket endpoint, and previd=previd
// when previd is not empty (the stream management id of the session to
// resume, so that the server can give the new anonymous login the same
// user). Values are query-escaped. The rest of the query is kept as it was,
// in its order; an existing token (and, when previd is given, an existing
// previd) is replaced. A zero tok leaves the query's token as it is.
// rawURL must be absolute; the error wraps ErrInvalidURL and never contains
// the token.
func AddToken(rawURL string, tok Secret, previd string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("%w: add token: %s", ErrInvalidURL, RedactURL(err.Error()))
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("%w: add token: the URL is not absolute", ErrInvalidURL)
	}
	replace := map[string]bool{}
	var add []string
	if !tok.IsZero() {
		replace["token"] = true
		add = append(add, "token="+url.QueryEscape(tok.Reveal()))
	}
	if previd != "" {
		replace["previd"] = true
		add = append(add, "previd="+url.QueryEscape(previd))
	}
	if len(add) == 0 {
		return u.String(), nil
	}
	var kept []string
	for _, p := range strings.Split(u.RawQuery, "&") {
		if p == "" {
			continue
		}
		key, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if !replace[key] {
			kept = append(kept, p)
		}
	}
	u.RawQuery = strings.Join(append(kept, add...), "&")
	u.ForceQuery = false
	return u.String(), nil
}

// tokenParam matches a token query parameter and its value. Any key ending
// in "token" matches (access_token, id_token), in any letter case; the
// value runs to the next &, #, white space, quote or angle bracket, so that
// URLs quoted in log lines and error messages are covered.
var tokenParam = regexp.MustCompile(`(?i)(token=)[^&#\s"'<>` + "`" + `]+`)

// RedactURL returns s with the value of every token=... parameter replaced
// by REDACTED. s may be a URL or any text containing URLs (a log line, an
// error message): "wss://h/ws?room=a&token=eyJ..." becomes
// "wss://h/ws?room=a&token=REDACTED". It errs on the side of hiding: any
// parameter whose name ends in "token" is redacted.
func RedactURL(s string) string {
	return tokenParam.ReplaceAllString(s, "${1}"+redacted)
}
