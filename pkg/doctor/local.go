package doctor

import (
	"context"
	"time"

	"github.com/storectl/storectl/pkg/audit"
)

// auditLockTimeout bounds waiting for another storectl that holds the audit log.
const auditLockTimeout = 2 * time.Second

func checkAuditLog(_ context.Context, r *runner) outcome {
	if r.o.AuditPath == "" {
		return skip("skipped: no audit log is configured")
	}
	if err := audit.CheckWritable(r.o.AuditPath, auditLockTimeout); err != nil {
		return fail("the audit log cannot be written: %v", err)
	}
	return ok("the audit log %s can be opened and written", r.o.AuditPath)
}
