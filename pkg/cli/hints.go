package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/storectl/storectl/pkg/backup"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/store"
)

// This file is the one place that tells the user what to run next. The engine's errors
// carry facts (a sentinel, a reason, the failing component and the objects to look at);
// the hints below turn them into commands, by the command that failed.

// explain attaches to err the next step for the user; an error that already has one keeps it.
func explain(ctx context.Context, err error, name, action string) error {
	if err == nil {
		return nil
	}
	if h := hintFor(ctx, err, name, action); h != "" {
		return withHint(err, "%s", h)
	}
	return err
}

// hintFor returns the next step after err from the command action on store name.
func hintFor(ctx context.Context, err error, name, action string) string {
	var se *store.Error
	if errors.As(err, &se) {
		if h := reasonHints[se.Reason]; h != nil {
			if s := h(se, action); s != "" {
				return s
			}
		}
	}
	return sentinelHint(ctx, err, name, action)
}

// retry is the next step after a store failed: create resumes it.
func retry(name string) string {
	return fmt.Sprintf("fix the cause, then run 'storectl create %s' again to resume (or 'storectl delete %s --yes')", name, name)
}

// reasonHints are keyed by the engine's reasons and the cluster's reasons of a failed
// component.
var reasonHints = map[string]func(e *store.Error, action string) string{
	store.ReasonUnknownType: func(*store.Error, string) string { return "use --type " + store.TypeWooCommerce },
	store.ReasonAlreadyExists: func(e *store.Error, _ string) string {
		return fmt.Sprintf("see it with 'storectl get %s'", e.Store)
	},
	store.ReasonNamespaceNotManaged: func(*store.Error, string) string { return "choose another store name" },
	store.ReasonTypeMismatch: func(e *store.Error, _ string) string {
		return fmt.Sprintf("choose another name, or delete it first with 'storectl delete %s --yes'", e.Store)
	},
	store.ReasonNamespaceTerminating: func(e *store.Error, _ string) string {
		return fmt.Sprintf("run 'storectl wait %s --for deleted', then create it again", e.Store)
	},
	store.ReasonLimitReached: func(*store.Error, string) string {
		return "delete a store with 'storectl delete <name> --yes', or raise max-stores (--max-stores, STORECTL_MAX_STORES or the config file)"
	},
	store.ReasonInvalidValues: func(e *store.Error, _ string) string {
		return fmt.Sprintf("fix the --set/--values input, then run 'storectl create %s' again", e.Store)
	},
	store.ReasonReleasePending: func(e *store.Error, _ string) string {
		return fmt.Sprintf("wait for the other operation with 'storectl wait %s --for ready'", e.Store)
	},
	store.ReasonLocked: func(e *store.Error, _ string) string {
		return fmt.Sprintf("wait for it with 'storectl wait %s --for ready', or retry later", e.Store)
	},
	store.ReasonNotFound: func(*store.Error, string) string { return "list the stores with 'storectl list'" },
	store.ReasonCredentialsNotMade: func(e *store.Error, _ string) string {
		return fmt.Sprintf("run 'storectl create %s' to finish creating the store", e.Store)
	},
	store.ReasonBindingRefused: func(*store.Error, string) string {
		return "apply docs/rbac.yaml and bind its ClusterRole storectl to your identity (see docs/rbac.md)"
	},
	store.ReasonInstallFailed: func(e *store.Error, _ string) string { return retry(e.Store) },
	"ReleaseFailed":           func(e *store.Error, _ string) string { return retry(e.Store) },
	store.ReasonDowngrade: func(e *store.Error, _ string) string {
		return fmt.Sprintf("keep %s at the version its data has run; to go back, restore the backup the upgrade took first "+
			"('storectl restore <file> --into %s --force'), or pass --force to run the older version over the newer data (see 'storectl history %s')",
			e.Component, e.Store, e.Store)
	},
	store.ReasonNotReady: func(e *store.Error, _ string) string {
		return fmt.Sprintf("see what is not ready with 'storectl get %s' and fix it first, or pass --force to change the store anyway", e.Store)
	},
	store.ReasonNoRevision: func(e *store.Error, _ string) string {
		return fmt.Sprintf("list the revisions the store keeps with 'storectl history %s'", e.Store)
	},
	store.ReasonDrift: func(e *store.Error, _ string) string {
		return fmt.Sprintf("run 'storectl create %s' to re-apply the release (it keeps the values the store was created with "+
			"unless you give --set/--values)", e.Store)
	},
	store.ReasonCredentialsMissing: func(e *store.Error, _ string) string { return credentialsMissingHint(e.Store) },
	store.ReasonTimeout: func(e *store.Error, action string) string {
		if action == "delete" || action == "wait-deleted" {
			return fmt.Sprintf("run 'storectl wait %s --for deleted' to keep waiting", e.Store)
		}
		return fmt.Sprintf("keep waiting with 'storectl wait %s --for ready', inspect with 'storectl get %s', or retry with a longer --timeout", e.Store, e.Store)
	},
	store.ReasonInterrupted: func(e *store.Error, action string) string {
		switch action {
		case "delete":
			return fmt.Sprintf("run 'storectl delete %s --yes' again to finish", e.Store)
		case "wait-deleted":
			return fmt.Sprintf("run 'storectl wait %s --for deleted' to keep waiting", e.Store)
		case "upgrade", "rollback":
			return fmt.Sprintf("run 'storectl %s %s' again to finish; the previous revision serves until the new one is Ready", action, e.Store)
		}
		return fmt.Sprintf("run 'storectl create %s' to resume, or 'storectl delete %s --yes' to remove it", e.Store, e.Store)
	},

	backup.ReasonNotRunning: func(e *store.Error, _ string) string {
		return fmt.Sprintf("run 'storectl get %s' to see why", e.Store)
	},
	backup.ReasonTargetExists: func(*store.Error, string) string {
		return "restore into another store with --into NAME, or over this one with --force (which backs it up first)"
	},

	store.ReasonImmutableField: func(e *store.Error, _ string) string {
		return fmt.Sprintf("the change cannot be applied in place; back the store up ('storectl backup %s'), then restore it into a new store with the new values", e.Store)
	},

	// A component that failed, in the cluster's words.
	"InvalidImageName":  imageValuesHint,
	"ErrImageNeverPull": imageValuesHint,
	"ErrImagePull":      imagePullHint,
	"ImagePullBackOff":  imagePullHint,
	"CrashLoopBackOff": func(e *store.Error, _ string) string {
		return fmt.Sprintf("read its log with 'kubectl -n %s logs %s -c %s --previous'; ", store.Namespace(e.Store), e.Pod, e.Container) + retry(e.Store)
	},
	"CreateContainerConfigError": func(e *store.Error, _ string) string { return retry(e.Store) },
	"CreateContainerError":       func(e *store.Error, _ string) string { return retry(e.Store) },
	"Unschedulable": func(e *store.Error, _ string) string {
		return "free or add node capacity, or lower the resource requests in the values (a cluster autoscaler that " +
			"needs longer to say it adds a node: raise --unschedulable-grace); " + retry(e.Store)
	},
	"FailedCreate":       refusedHint,
	"ProvisioningFailed": storageHint,
	"FailedBinding":      storageHint,
}

func imageValuesHint(e *store.Error, _ string) string {
	return "check the image values (--set image.* / the chart defaults); " + retry(e.Store)
}

func imagePullHint(e *store.Error, _ string) string {
	return "check the image name and tag, registry access and imagePullSecrets; " + retry(e.Store)
}

func storageHint(e *store.Error, _ string) string {
	return "set an existing StorageClass with --storage-class (kubectl get storageclass); " + retry(e.Store)
}

func refusedHint(e *store.Error, _ string) string {
	switch e.Refusal {
	case store.RefusalQuota:
		return "raise the store's quota (--set quota.*) or lower resource requests; " + retry(e.Store)
	case store.RefusalPodSecurity:
		return "the pod spec is refused by the namespace's Pod Security level; check securityContext values; " + retry(e.Store)
	case store.RefusalLimitRange:
		return "adjust limitRange.* or the resource values; " + retry(e.Store)
	}
	return retry(e.Store)
}

func credentialsMissingHint(name string) string {
	return "restore the Secret from a backup (kubectl apply -f <file>), or set new passwords in the database " +
		"and the Secret as \"Lost credentials\" in docs/reliability.md describes; then 'storectl get " + name + "' shows the store Ready again"
}

// jobFailedHint is the next step after the setup Job failed.
func jobFailedHint(e *store.Error) string {
	return fmt.Sprintf("read its log with 'kubectl -n %s logs job/%s', fix the cause, then run 'storectl create %s' again",
		store.Namespace(e.Store), e.Job, e.Store)
}

// sentinelHint covers errors without a reason of their own, by what they wrap.
func sentinelHint(ctx context.Context, err error, name, action string) string {
	var se *store.Error
	if errors.As(err, &se) && se.Job != "" {
		return jobFailedHint(se)
	}
	switch code := ExitCode(err); {
	case code == ExitInterrupted || ctx.Err() != nil:
		if action == "delete" {
			return fmt.Sprintf("run 'storectl delete %s --yes' again to finish deleting it", name)
		}
		return fmt.Sprintf("run 'storectl create %s' again to resume, or 'storectl delete %s --yes' to remove what was created", name, name)
	case code == ExitNotFound:
		return "run 'storectl list' to see the stores of this cluster"
	case code == ExitAlreadyExists:
		return fmt.Sprintf("run 'storectl get %s' to see it, or choose another name", name)
	case code == ExitTimeout && (action == "delete" || action == "wait-deleted"):
		return fmt.Sprintf("run 'storectl wait %s --for deleted' to keep waiting", name)
	case code == ExitTimeout:
		return fmt.Sprintf("run 'storectl get %s' to see what is not ready, then 'storectl wait %s --for ready' to keep waiting", name, name)
	case code == ExitLimitReached:
		return reasonHints[store.ReasonLimitReached](nil, action)
	case code == ExitUnreachable && (action == "delete" || action == "wait-deleted"):
		return fmt.Sprintf("check that the cluster is running and that --kubeconfig/--context point at it, then run 'storectl wait %s --for deleted' to keep waiting", name)
	case code == ExitUnreachable:
		return "check that the cluster is running and that --kubeconfig/--context point at it"
	case code == ExitUnauthorized:
		return "refresh your credentials, or ask for the storectl ClusterRole to be bound to your identity"
	case errors.Is(err, store.ErrTerminating):
		return fmt.Sprintf("run 'storectl wait %s --for deleted', then create it again", name)
	case errors.Is(err, store.ErrBusy):
		return fmt.Sprintf("another storectl process is changing store %s; wait for it, or run 'storectl wait %s --for ready'", name, name)
	case errors.Is(err, store.ErrFailed):
		return fmt.Sprintf("run 'storectl get %s' for the failing component and its events; after fixing the cause, 'storectl create %s' resumes", name, name)
	case errors.Is(err, store.ErrInvalidValues):
		return fmt.Sprintf("correct the chart value named above in --set or --values and run 'storectl create %s' again", name)
	case kube.Classify(err) == kube.KindConfig:
		return "point --kubeconfig (or $KUBECONFIG) at the cluster's kubeconfig and --context at one of its contexts"
	}
	switch action {
	case "create":
		return fmt.Sprintf("run 'storectl get %s' to see its state; running 'storectl create %s' again resumes", name, name)
	case "delete":
		return fmt.Sprintf("run 'storectl delete %s --yes' again to finish", name)
	}
	return ""
}

// storeHint is the next step for a store read by get, from its reason and release state.
func storeHint(s *store.Store) string {
	switch {
	case s.Reason == store.ReasonDrift:
		return reasonHints[store.ReasonDrift](&store.Error{Store: s.Name}, "get")
	case s.Reason == store.ReasonCredentialsMissing:
		return credentialsMissingHint(s.Name)
	case s.Phase == store.PhaseReady && s.ReleaseStatus == "pending-install":
		return fmt.Sprintf("'storectl wait %s' records the release as deployed", s.Name)
	}
	return ""
}
