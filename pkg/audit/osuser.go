package audit

import (
	"os"
	"os/user"
	"strconv"
)

// OSUser names the operating-system user running storectl, for records whose caller could not
// learn a Kubernetes identity. It never fails: it falls back to $USER, then to the numeric uid.
func OSUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, name := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	if uid := os.Getuid(); uid >= 0 {
		return "uid:" + strconv.Itoa(uid)
	}
	return "unknown"
}
