package tenancy

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled the first time it is used. Every storectl
// command loads this package, and most (version, help, list, get) check no chart values:
// compiling the checks' expressions when the package loads cost those commands milliseconds
// of start-up for nothing.
type lazyRegexp struct {
	expr     string
	compiled func() *regexp.Regexp
}

func lazyCompile(expr string) *lazyRegexp {
	return &lazyRegexp{expr: expr, compiled: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

func (r *lazyRegexp) MatchString(s string) bool { return r.compiled().MatchString(s) }

func (r *lazyRegexp) FindStringSubmatch(s string) []string { return r.compiled().FindStringSubmatch(s) }

// String is the expression's source, as regexp.Regexp.String is; it compiles nothing.
func (r *lazyRegexp) String() string { return r.expr }
