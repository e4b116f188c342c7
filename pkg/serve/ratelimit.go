package serve

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter limits each client's mutating requests: perMinute of them, all at once at most.
// A client is its token's name, or without tokens its address.
type limiter struct {
	perMinute int
	now       func() time.Time
	mu        sync.Mutex
	clients   map[string]*clientLimit
	swept     time.Time
}

type clientLimit struct {
	lim  *rate.Limiter
	seen time.Time
}

// idleClient is how long a client's limiter is kept without a request: by then it is full.
const idleClient = 10 * time.Minute

func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{perMinute: perMinute, now: now, clients: map[string]*clientLimit{}}
}

// allow takes one request of client; when it is over the limit it returns how long to wait.
func (l *limiter) allow(client string) (bool, time.Duration) {
	if l.perMinute <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleClient {
		for k, c := range l.clients {
			if now.Sub(c.seen) > idleClient {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c := l.clients[client]
	if c == nil {
		c = &clientLimit{lim: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.clients[client] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientKey names the client of r for the rate limit: the token's name, or the address.
func clientKey(r *http.Request, caller string) string {
	if caller != "" && caller != localCaller {
		return "token:" + caller
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
