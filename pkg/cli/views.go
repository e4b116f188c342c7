package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// StoreView is the stable -o json/yaml shape of a store (create, list, get, wait). Every key
// is always present; lists are [] when empty; times are RFC3339 in UTC.
type StoreView struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Namespace    string `json:"namespace"`
	Status       string `json:"status"`
	Reason       string `json:"reason"`
	Message      string `json:"message"`
	URL          string `json:"url"`
	AdminURL     string `json:"adminUrl"`
	Chart        string `json:"chart"`
	ChartVersion string `json:"chartVersion"`
	AppVersion   string `json:"appVersion"`
	// UpgradeAvailable is the chart version `storectl upgrade` would move the store to, "" when none is newer.
	UpgradeAvailable string          `json:"upgradeAvailable"`
	Revision         int             `json:"revision"`
	ReleaseStatus    string          `json:"releaseStatus"`
	ReadyPods        int             `json:"readyPods"`
	TotalPods        int             `json:"totalPods"`
	Components       []ComponentView `json:"components"`
	Background       BackgroundView  `json:"background"`
	Mail             string          `json:"mail"`
	Events           []EventView     `json:"events"`
	CreatedAt        string          `json:"createdAt"`

	created time.Time
}

// BackgroundView is the state of a store's scheduled-events runs; times are "" until known.
type BackgroundView struct {
	Schedule    string `json:"schedule"`
	State       string `json:"state"`
	LastRun     string `json:"lastRun"`
	LastSuccess string `json:"lastSuccess"`
	FailedRuns  int    `json:"failedRuns"`
	Message     string `json:"message"`

	lastSuccess time.Time
}

// ComponentView is one part of a store and its readiness.
type ComponentView struct {
	Name    string `json:"name"`
	Ready   bool   `json:"ready"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// EventView is a recent Kubernetes event about an object of the store.
type EventView struct {
	Time    string `json:"time"`
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Object  string `json:"object"`
	Message string `json:"message"`
	Count   int32  `json:"count"`

	at time.Time
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func newStoreView(s *store.Store) StoreView {
	v := StoreView{
		Name: s.Name, Type: s.Type, Namespace: s.Namespace, Status: string(s.Phase),
		Reason: s.Reason, Message: s.Message, URL: s.URL, AdminURL: s.AdminURL,
		Chart: s.Chart, ChartVersion: s.ChartVersion, AppVersion: s.AppVersion, UpgradeAvailable: s.UpgradeAvailable,
		Revision: s.Revision, ReleaseStatus: s.ReleaseStatus,
		ReadyPods: s.ReadyPods, TotalPods: s.TotalPods,
		Components: []ComponentView{}, Events: []EventView{},
		CreatedAt: rfc3339(s.CreatedAt), created: s.CreatedAt,
		Background: BackgroundView{
			Schedule: s.Background.Schedule, State: s.Background.State,
			LastRun: rfc3339(s.Background.LastRun), LastSuccess: rfc3339(s.Background.LastSuccess),
			FailedRuns: s.Background.FailedRuns, Message: s.Background.Message,
			lastSuccess: s.Background.LastSuccess,
		},
		Mail: s.Mail,
	}
	for _, c := range s.Components {
		v.Components = append(v.Components, ComponentView(c))
	}
	for _, e := range s.Events {
		v.Events = append(v.Events, EventView{Time: rfc3339(e.Time), Type: e.Type, Reason: e.Reason,
			Object: e.Object, Message: e.Message, Count: e.Count, at: e.Time})
	}
	return v
}

// StoreList is the view of `storectl list`; its JSON form is an array.
type StoreList []StoreView

func newStoreList(stores []store.Store) StoreList {
	out := make(StoreList, 0, len(stores))
	for i := range stores {
		out = append(out, newStoreView(&stores[i]))
	}
	return out
}

// statusText is the STATUS column: the phase, with the reason when there is one.
func statusText(st output.Styles, v StoreView) string {
	s := st.Status(v.Status)
	if v.Reason != "" && v.Status != string(store.PhaseReady) {
		s += " (" + v.Reason + ")"
	}
	return s
}

// Table implements output.Tabular: NAME TYPE STATUS URL AGE, and for wide NAMESPACE CHART
// REVISION READY UPGRADE (the chart version an upgrade would move to) CREATED.
func (l StoreList) Table(c output.Cells, wide bool) ([]string, [][]string) {
	headers := []string{"NAME", "TYPE", "STATUS", "URL", "AGE"}
	if wide {
		headers = append(headers, "NAMESPACE", "CHART", "REVISION", "READY", "UPGRADE", "CREATED")
	}
	rows := make([][]string, 0, len(l))
	for _, v := range l {
		row := []string{v.Name, v.Type, statusText(c.Styles, v), orNone(v.URL), c.Time(v.created)}
		if wide {
			chart := v.Chart
			if v.ChartVersion != "" {
				chart += "-" + v.ChartVersion
			}
			row = append(row, v.Namespace, orNone(chart), strconv.Itoa(v.Revision),
				fmt.Sprintf("%d/%d", v.ReadyPods, v.TotalPods), orNone(v.UpgradeAvailable), output.Timestamp(v.created))
		}
		rows = append(rows, row)
	}
	return headers, rows
}

// Names implements output.Named.
func (l StoreList) Names() []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = v.Name
	}
	return out
}

// Names implements output.Named for a single store.
func (v StoreView) Names() []string { return []string{v.Name} }

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// CredentialsView is the -o json shape of `storectl credentials`.
type CredentialsView struct {
	Store    string `json:"store"`
	URL      string `json:"url"`
	AdminURL string `json:"adminUrl"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// AuditRecordView is the -o json shape of one audit record.
type AuditRecordView struct {
	ID              uint64  `json:"id"`
	Time            string  `json:"time"`
	Actor           string  `json:"actor"`
	Server          string  `json:"server"`
	Context         string  `json:"context"`
	Action          string  `json:"action"`
	Store           string  `json:"store"`
	Outcome         string  `json:"outcome"`
	Error           string  `json:"error"`
	Reason          string  `json:"reason"`
	DurationSeconds float64 `json:"durationSeconds"`
	ChartVersion    string  `json:"chartVersion"`
	// Artifact is the file the action wrote (a backup archive), when there is one.
	Artifact *audit.Artifact `json:"artifact,omitempty"`

	// RevisionBefore and RevisionAfter, VersionsBefore and VersionsAfter: upgrade and rollback only.
	RevisionBefore int             `json:"revisionBefore,omitempty"`
	RevisionAfter  int             `json:"revisionAfter,omitempty"`
	VersionsBefore *audit.Versions `json:"versionsBefore,omitempty"`
	VersionsAfter  *audit.Versions `json:"versionsAfter,omitempty"`

	at       time.Time
	duration time.Duration
}

// AuditList is the view of `storectl audit`, newest first; its JSON form is an array.
type AuditList []AuditRecordView

func newAuditList(recs []audit.Record) AuditList {
	out := make(AuditList, 0, len(recs))
	for _, r := range recs {
		out = append(out, AuditRecordView{
			ID: r.ID, Time: rfc3339(r.Time), Actor: r.Actor, Server: r.Server, Context: r.Context,
			Action: r.Action, Store: r.Store, Outcome: r.Outcome, Error: r.Error, Reason: r.Reason,
			DurationSeconds: float64(r.Duration.Round(time.Millisecond)) / float64(time.Second),
			ChartVersion:    r.ChartVersion, Artifact: r.Artifact,
			RevisionBefore: r.RevisionBefore, RevisionAfter: r.RevisionAfter,
			VersionsBefore: r.VersionsBefore, VersionsAfter: r.VersionsAfter,
			at: r.Time, duration: r.Duration,
		})
	}
	return out
}

// Table implements output.Tabular: AGE ACTION STORE OUTCOME DURATION ACTOR, and for wide
// TIME CONTEXT SERVER CHART ERROR.
func (l AuditList) Table(c output.Cells, wide bool) ([]string, [][]string) {
	headers := []string{"AGE", "ACTION", "STORE", "OUTCOME", "DURATION", "ACTOR"}
	if wide {
		headers = append(headers, "TIME", "CONTEXT", "SERVER", "CHART", "ERROR")
	}
	rows := make([][]string, 0, len(l))
	for _, r := range l {
		row := []string{c.Time(r.at), r.Action, orNone(r.Store), r.Outcome, c.Duration(r.duration), r.Actor}
		if wide {
			row = append(row, output.Timestamp(r.at), orNone(r.Context), orNone(r.Server), orNone(r.ChartVersion), oneLine(r.Error))
		}
		rows = append(rows, row)
	}
	return headers, rows
}

// Names implements output.Named: the record ids.
func (l AuditList) Names() []string {
	out := make([]string, len(l))
	for i, r := range l {
		out[i] = strconv.FormatUint(r.ID, 10)
	}
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
