package startup

import (
	"os"
	"runtime/debug"
	"testing"
)

// The tests run in order: the collector is off from initialisation until Done.
func TestTheCollectorIsOffUntilDone(t *testing.T) {
	if off := debug.SetGCPercent(-1); off != -1 {
		t.Errorf("before Done the collector's setting is %d, want -1 (off)", off)
	}
}

func TestDoneRestoresTheCollector(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: the restored setting is the user's")
	}
	Done()
	if restored := debug.SetGCPercent(100); restored != 100 {
		t.Errorf("after Done the collector's setting is %d, want the default 100", restored)
	}
}
