package kube

import (
	"io"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// QuietLogs stops client-go's own logging (klog), which otherwise prints
// lines such as "Unexpected error when reading response body" to stderr when
// a request is cancelled by Ctrl-C or a watch is re-established. storectl
// reports those conditions itself. Call it once, early, from main.
func QuietLogs() {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	klog.SetLogger(logr.Discard())
}
