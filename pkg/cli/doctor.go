package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/doctor"
	"github.com/storectl/storectl/pkg/output"
)

// DoctorOptions are the inputs of `storectl doctor`.
type DoctorOptions struct {
	Factory *Factory
	Pre     bool
	Skip    []string
	Strict  bool
	Wait    time.Duration
	Output  string
	Format  output.Format
}

var doctorFormats = []output.Format{output.FormatTable, output.FormatJSON}

// NewCmdDoctor returns `storectl doctor`.
func NewCmdDoctor(f *Factory, runF func(*DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "doctor [flags]",
		Short: "Check that the cluster, your identity and this machine can run stores",
		Long: `Check, in order: the cluster (reachable, credentials accepted, a supported
version), your permissions (every rule of docs/rbac.yaml), storage (a default or
the configured StorageClass, volume expansion), ingress (the IngressClass, the
controller the NetworkPolicy admits, the ClusterIssuer for TLS), policy (Pod
Security admission, NetworkPolicy enforcement), capacity (room for the stores
max-stores still allows), the stores (releases left pending, namespaces without a
release, failed stores, old charts) and the local audit log.

Every check has a stable ID, a result (ok, warning, failed, skipped), a message,
a hint and its duration. When the cluster cannot be reached or refuses the
credentials, the other checks are skipped. Exit 0 when nothing failed (warnings
allowed), 1 when a check failed (or warned, with --strict), 6 or 7 when the
cluster cannot be reached or refuses the credentials. The checks are described
in docs/doctor.md.`,
		Example: `  # Check everything
  storectl doctor

  # Before the first store: skip the checks of existing stores
  storectl doctor --pre

  # In CI: fail on warnings too, wait up to 2m for the checks to pass, JSON for the log
  storectl doctor --strict --wait 2m -o json

  # Check the settings a create would use
  storectl doctor --pre --profile prod --ingress-class traefik --tls-cluster-issuer letsencrypt

  # Leave out checks by ID or category
  storectl doctor --skip capacity,policy.network-policy`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, doctorFormats...); err != nil {
				return err
			}
			for _, s := range opts.Skip {
				if !slices.Contains(doctor.IDs(), s) && !slices.Contains(doctor.Categories, s) {
					return usageErrorf(cmd, "unknown check %q in --skip: use a category (%s) or a check ID (storectl doctor -o json lists them)",
						s, strings.Join(doctor.Categories, ", "))
				}
			}
			if opts.Wait < 0 {
				return usageErrorf(cmd, "invalid --wait %s: give a positive duration such as 2m", opts.Wait)
			}
			if runF != nil {
				return runF(opts)
			}
			return doctorRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Pre, "pre", false, "only the checks that matter before stores exist (skips the stores category)")
	fl.StringSliceVar(&opts.Skip, "skip", nil, "checks (IDs) or categories not to run, comma-separated")
	fl.BoolVar(&opts.Strict, "strict", false, "exit 1 on warnings too")
	fl.DurationVar(&opts.Wait, "wait", 0, "run the checks again until nothing fails or this much time has passed")
	addOutputFlag(cmd, &opts.Output, doctorFormats...)
	// The settings create takes, so that the same configuration can be checked first.
	addStoreSettingFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("skip", fixedCompletion(append(append([]string{}, doctor.Categories...), doctor.IDs()...)...))
	return cmd
}

// errDoctorFailed is returned when a check failed (or warned under --strict).
var errDoctorFailed = errors.New("doctor found problems")

func doctorRun(ctx context.Context, opts *DoctorOptions) error {
	f := opts.Factory
	if f.Ops == nil {
		return errors.New("doctor is not available in this build")
	}
	ops, err := f.Ops()
	if err != nil {
		return err
	}
	o := ops.Doctor
	o.Pre, o.Skip = opts.Pre, opts.Skip
	deadline := f.Now().Add(opts.Wait)
	rep := doctor.Run(ctx, o)
	for opts.Wait > 0 && !passed(rep, opts.Strict) && f.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
			rep = doctor.Run(ctx, o)
		}
	}
	view := newDoctorView(rep)
	p := output.NewPrinter(f.IOStreams, opts.Format, f.Now())
	if opts.Format == output.FormatJSON {
		err = p.Print(view)
	} else {
		err = renderDoctor(p.Out, p.Styles, f.IOStreams.IsStdoutTTY, view)
	}
	if err != nil {
		return err
	}
	return doctorErr(rep, opts.Strict)
}

func passed(rep doctor.Report, strict bool) bool {
	return !rep.Failed() && (!strict || !rep.Warned())
}

// doctorErr is the command's error: the cluster's own when a fatal check failed, so that
// the exit code says unreachable (6) or refused credentials (7).
func doctorErr(rep doctor.Report, strict bool) error {
	if c := rep.Fatal(); c != nil && c.Err != nil {
		return withHint(fmt.Errorf("%s: %w", c.ID, c.Err), "%s", checkHints[c.ID])
	}
	if passed(rep, strict) {
		return nil
	}
	var failed []string
	for _, c := range rep.Checks {
		if c.Result == doctor.ResultFailed || (strict && c.Result == doctor.ResultWarning) {
			failed = append(failed, c.ID)
		}
	}
	return withHint(fmt.Errorf("%w: %s", errDoctorFailed, strings.Join(failed, ", ")),
		"fix what the checks above name (docs/doctor.md explains each), then run 'storectl doctor' again")
}

// checkHints are the next steps of failed or warning checks, by ID.
var checkHints = map[string]string{
	doctor.IDClusterReachable:      "check that the cluster is running and that --kubeconfig/--context point at it",
	doctor.IDClusterCredentials:    "refresh your credentials (a new token or kubeconfig)",
	doctor.IDClusterVersion:        "run storectl against a cluster whose Kubernetes version the chart supports",
	doctor.IDPermissionsOperator:   "ask an administrator to apply docs/rbac.yaml and bind ClusterRole storectl to you (docs/rbac.md)",
	doctor.IDPermissionsCreateLock: "ask an administrator to bind Role storectl-create-lock of docs/rbac.yaml to you (docs/rbac.md)",
	doctor.IDStorageClass:          "mark a StorageClass as the default, or set --storage-class to one listed by 'kubectl get storageclass'",
	doctor.IDStorageExpansion:      "use a StorageClass with allowVolumeExpansion: true if stores may need bigger volumes",
	doctor.IDIngressClass:          "install the ingress controller of the profile, or set --ingress-class to one listed by 'kubectl get ingressclass'",
	doctor.IDIngressController:     "install the ingress controller, or set --ingress-controller-namespace and --ingress-controller-labels to where it runs",
	doctor.IDIngressClusterIssuer:  "install cert-manager and create the ClusterIssuer, or set --tls-cluster-issuer to a Ready one",
	doctor.IDPolicyPodSecurity:     "enable the PodSecurity admission plugin of the API server (on by default since Kubernetes 1.25)",
	doctor.IDPolicyNetworkPolicy:   "use a network plugin that enforces NetworkPolicy (Calico, Cilium, k3s's built-in controller)",
	doctor.IDCapacityNodes:         "add node capacity, lower max-stores, or lower the store quota",
	doctor.IDStoresPending:         "run 'storectl create <name>' to resume each store named above",
	doctor.IDStoresOrphaned:        "run 'storectl create <name>' to finish each store, or 'storectl delete <name> --yes' to remove it",
	doctor.IDStoresFailed:          "run 'storectl get <name>' for each store named above to see what failed",
	doctor.IDStoresChart:           "those stores keep working; their chart is updated when they are upgraded",
	doctor.IDLocalAuditLog:         "point --audit-path at a writable file, or fix the permissions of the one named above",
}

// DoctorView is the stable -o json shape of `storectl doctor`.
type DoctorView struct {
	// OK is true when no check failed.
	OK      bool              `json:"ok"`
	Summary DoctorSummaryView `json:"summary"`
	Checks  []CheckView       `json:"checks"`
}

// DoctorSummaryView counts the checks by result.
type DoctorSummaryView struct {
	OK      int `json:"ok"`
	Warning int `json:"warning"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// CheckView is one check of `storectl doctor -o json`.
type CheckView struct {
	ID         string `json:"id"`
	Category   string `json:"category"`
	Result     string `json:"result"`
	Message    string `json:"message"`
	Hint       string `json:"hint"`
	Docs       string `json:"docs"`
	DurationMs int64  `json:"durationMs"`
}

func newDoctorView(rep doctor.Report) DoctorView {
	v := DoctorView{OK: !rep.Failed(), Checks: make([]CheckView, 0, len(rep.Checks))}
	for _, c := range rep.Checks {
		hint := ""
		if c.Result == doctor.ResultFailed || c.Result == doctor.ResultWarning {
			hint = checkHints[c.ID]
		}
		v.Checks = append(v.Checks, CheckView{ID: c.ID, Category: c.Category, Result: string(c.Result), Message: c.Message,
			Hint: hint, Docs: c.Hint, DurationMs: c.Duration.Milliseconds()})
		switch c.Result {
		case doctor.ResultOK:
			v.Summary.OK++
		case doctor.ResultWarning:
			v.Summary.Warning++
		case doctor.ResultFailed:
			v.Summary.Failed++
		case doctor.ResultSkipped:
			v.Summary.Skipped++
		}
	}
	return v
}

// renderDoctor writes the checks per category: ✓ ! ✗ on a terminal, [ok] [warn] [FAIL]
// without one, with the hint under each failure or warning.
func renderDoctor(w io.Writer, st output.Styles, tty bool, v DoctorView) error {
	var b strings.Builder
	category := ""
	for _, c := range v.Checks {
		if c.Category != category {
			category = c.Category
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(st.Title.Render(category) + "\n")
		}
		fmt.Fprintf(&b, "  %s %s %s %s\n", resultMark(st, tty, c.Result), st.Key.Render(c.ID), c.Message,
			st.Muted.Render(fmt.Sprintf("(%dms)", c.DurationMs)))
		if c.Result == string(doctor.ResultFailed) || c.Result == string(doctor.ResultWarning) {
			if c.Hint != "" {
				fmt.Fprintf(&b, "      %s %s\n", st.Muted.Render("hint:"), c.Hint)
			}
			fmt.Fprintf(&b, "      %s %s\n", st.Muted.Render("docs:"), c.Docs)
		}
	}
	s := v.Summary
	fmt.Fprintf(&b, "\n%d ok, %d warnings, %d failed, %d skipped\n", s.OK, s.Warning, s.Failed, s.Skipped)
	_, err := io.WriteString(w, b.String())
	return err
}

func resultMark(st output.Styles, tty bool, result string) string {
	switch result {
	case string(doctor.ResultOK):
		if tty {
			return st.OK.Render(output.MarkOK)
		}
		return "[ok]"
	case string(doctor.ResultWarning):
		if tty {
			return st.Warn.Render(output.MarkWarn)
		}
		return "[warn]"
	case string(doctor.ResultFailed):
		if tty {
			return st.Err.Render(output.MarkFail)
		}
		return "[FAIL]"
	}
	if tty {
		return st.Muted.Render("-")
	}
	return "[skip]"
}
