package audit

import "regexp"

// Redacted replaces every value Scrub removes.
const Redacted = "[REDACTED]"

var (
	// A key naming a credential, a separator, then the value: password=x, "token": "x", pwd: x.
	credentialPair = regexp.MustCompile(`(?i)([\w.-]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|credential|api[_-]?key)[\w.-]*)(\s*["']?\s*[:=]\s*["']?)([^\s"'&,;]+)`)
	// Authorization headers quoted in error messages.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+`)
	// Credentials embedded in URLs: scheme://user:pass@host.
	urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@`)
)

// Scrub removes what looks like a credential from s: values of password=, secret:, token=
// and similar pairs, bearer tokens and passwords inside URLs. It is a safety net for text the
// caller did not write itself, such as error messages from the cluster; callers must still
// never put a secret into a Record.
func Scrub(s string) string {
	s = credentialPair.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = bearer.ReplaceAllString(s, "${1} "+Redacted)
	s = urlUserinfo.ReplaceAllString(s, "${1}:"+Redacted+"@")
	return s
}

func scrubRecord(r Record) Record {
	r.Actor = Scrub(r.Actor)
	r.Server = Scrub(r.Server)
	r.Context = Scrub(r.Context)
	r.Action = Scrub(r.Action)
	r.Store = Scrub(r.Store)
	r.Error = Scrub(r.Error)
	r.ChartVersion = Scrub(r.ChartVersion)
	return r
}
