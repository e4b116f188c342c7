package release

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"

	"golang.org/x/sync/errgroup"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// MaxRecordBytes bounds a release record once decompressed. Helm's secret
// driver stores base64 of gzip of JSON in a Secret of at most 1 MiB, which
// a crafted record can make decompress to gigabytes; a store's record is a
// few hundred KiB.
const MaxRecordBytes = 16 << 20

// releaseKey is the data key under which Helm's secret driver stores a record.
const releaseKey = "release"

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// boundRecord decompresses a release record Secret with a limit before Helm
// decodes it, and hands Helm the decompressed JSON (which Helm reads as an
// uncompressed record), so a record is decompressed once and never beyond
// MaxRecordBytes. A Secret that is not a well-formed record is left to Helm,
// which reports it as it always has.
func boundRecord(s *corev1.Secret) error {
	out, ok, err := recordJSON(s)
	if err != nil || !ok {
		return err
	}
	s.Data[releaseKey] = []byte(base64.StdEncoding.EncodeToString(out))
	return nil
}

// recordJSON returns the JSON of a gzipped release record, decompressed to at most
// MaxRecordBytes; ok is false for a Secret that is not such a record.
func recordJSON(s *corev1.Secret) (out []byte, ok bool, err error) {
	raw, found := s.Data[releaseKey]
	if !found {
		return nil, false, nil
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
	n, err := base64.StdEncoding.Decode(b, raw)
	if err != nil || n < len(gzipMagic) || !bytes.Equal(b[:len(gzipMagic)], gzipMagic) {
		return nil, false, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b[:n]))
	if err != nil {
		return nil, false, nil
	}
	out, err = io.ReadAll(io.LimitReader(zr, MaxRecordBytes+1))
	if err != nil {
		return nil, false, nil
	}
	if len(out) > MaxRecordBytes {
		return nil, false, fmt.Errorf("%w: secret %s/%s decompresses to more than %d MiB; it was not decoded",
			ErrTooLarge, s.Namespace, s.Name, MaxRecordBytes>>20)
	}
	return out, true, nil
}

// recordView is the part of a release record a Release holds. The chart's templates and
// files, most of a record, are skipped, never decoded.
type recordView struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Version   int               `json:"version"`
	Manifest  string            `json:"manifest"`
	Info      *helmrelease.Info `json:"info"`
	Chart     *struct {
		Metadata *chart.Metadata `json:"metadata"`
	} `json:"chart"`
	Config map[string]any `json:"config"`
}

// newestRecord reads the latest revision of release name in namespace with one List of its
// record Secrets (the labels Helm's secret driver queries by), decoding only the record of
// the highest revision, and of it only what a Release holds and its values. A record that
// is not gzipped JSON, which Helm's driver would still read, is read by it.
func (h *Helm) newestRecord(ctx context.Context, namespace, name string) (*helmrelease.Release, error) {
	if h.backend != nil {
		return latest(h.config(ctx, namespace), name)
	}
	sel := labelOwner + "=" + ownerHelm + "," + labelName + "=" + name
	l, err := h.client.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("read release history of %s: %w", name, err)
	}
	items := newestRecords(l.Items)
	switch len(items) {
	case 0:
		return nil, ErrNotFound
	case 1:
	default:
		return latest(h.config(ctx, namespace), name)
	}
	js, ok, err := recordJSON(&items[0])
	if err != nil {
		return nil, err
	}
	var v recordView
	if !ok || json.Unmarshal(js, &v) != nil {
		return latest(h.config(ctx, namespace), name)
	}
	r := &helmrelease.Release{Name: v.Name, Namespace: v.Namespace, Version: v.Version, Manifest: v.Manifest, Info: v.Info, Config: v.Config}
	if v.Chart != nil {
		r.Chart = &chart.Chart{Metadata: v.Chart.Metadata}
	}
	return r, nil
}

// newestRecords keeps, of release record Secrets, those of the highest revision by their
// version label. A record without a readable version is kept too, for Helm to judge.
func newestRecords(items []corev1.Secret) []corev1.Secret {
	top := -1
	for i := range items {
		if v, err := strconv.Atoi(items[i].Labels[labelVersion]); err == nil && v > top {
			top = v
		}
	}
	out := items[:0]
	for i := range items {
		v, err := strconv.Atoi(items[i].Labels[labelVersion])
		if err != nil || v == top {
			out = append(out, items[i])
		}
	}
	return out
}

// Labels Helm's secret driver puts on every record.
const (
	labelOwner   = "owner"
	labelName    = "name"
	labelStatus  = "status"
	labelVersion = "version"
	ownerHelm    = "helm"
)

var secretsResource = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// listConcurrency bounds the per-namespace reads of ListLatest.
const listConcurrency = 8

// ListLatest reads the labels of the release records in namespaces, never
// their payload. It first tries one cluster-wide metadata-only List, so the
// number of requests does not depend on the number of namespaces; an
// identity that may read Secrets only in its own namespaces (see
// docs/rbac.md) is refused that List and reads each namespace instead,
// several at a time. Records of other namespaces are dropped unread.
func (h *Helm) ListLatest(ctx context.Context, namespaces []string) ([]Release, error) {
	if len(namespaces) == 0 {
		return []Release{}, nil
	}
	if h.backend != nil {
		return h.backendLatest(namespaces)
	}
	want := map[string]bool{}
	for _, ns := range namespaces {
		want[ns] = true
	}
	lo := metav1.ListOptions{LabelSelector: labelOwner + "=" + ownerHelm}
	l, err := h.meta.Resource(secretsResource).Namespace(metav1.NamespaceAll).List(ctx, lo)
	var items []metav1.PartialObjectMetadata
	switch {
	case err == nil:
		items = l.Items
	case apierrors.IsForbidden(err):
		if items, err = h.listEach(ctx, namespaces, lo); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("list release records: %w", err)
	}
	records := make([]Release, 0, len(items))
	for _, m := range items {
		if !want[m.Namespace] {
			continue
		}
		if r, ok := fromLabels(m); ok {
			records = append(records, r)
		}
	}
	return newestOf(records), nil
}

// listEach reads the release record labels of each namespace.
func (h *Helm) listEach(ctx context.Context, namespaces []string, lo metav1.ListOptions) ([]metav1.PartialObjectMetadata, error) {
	per := make([][]metav1.PartialObjectMetadata, len(namespaces))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for i, ns := range namespaces {
		g.Go(func() error {
			l, err := h.meta.Resource(secretsResource).Namespace(ns).List(gctx, lo)
			if apierrors.IsForbidden(err) {
				// A store someone else created, where the caller is not bound: one
				// store's records must not make the whole list fail.
				per[i] = []metav1.PartialObjectMetadata{{ObjectMeta: metav1.ObjectMeta{Namespace: ns,
					Labels: map[string]string{labelOwner: ownerHelm, labelStatus: StatusUnreadable}}}}
				return nil
			}
			if err != nil {
				return fmt.Errorf("list release records in %s: %w", ns, err)
			}
			per[i] = l.Items
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []metav1.PartialObjectMetadata
	for _, items := range per {
		out = append(out, items...)
	}
	return out, nil
}

// fromLabels reads a record's release name, revision and status from its
// labels; a Secret without them is not a record Helm wrote.
func fromLabels(m metav1.PartialObjectMetadata) (Release, bool) {
	l := m.Labels
	if l[labelOwner] == ownerHelm && l[labelStatus] == StatusUnreadable && m.Name == "" {
		return Release{Namespace: m.Namespace, Status: StatusUnreadable}, true
	}
	v, err := strconv.Atoi(l[labelVersion])
	if l[labelOwner] != ownerHelm || l[labelName] == "" || err != nil {
		return Release{}, false
	}
	return Release{Name: l[labelName], Namespace: m.Namespace, Revision: v, Status: l[labelStatus]}, true
}

// newestOf keeps the highest revision of each release, sorted by namespace
// and name.
func newestOf(records []Release) []Release {
	type key struct{ ns, name string }
	newest := map[key]Release{}
	for _, r := range records {
		k := key{r.Namespace, r.Name}
		if cur, ok := newest[k]; !ok || r.Revision > cur.Revision {
			newest[k] = r
		}
	}
	out := make([]Release, 0, len(newest))
	for _, r := range newest {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// backendLatest is ListLatest over a Backend, keeping to the same fields.
func (h *Helm) backendLatest(namespaces []string) ([]Release, error) {
	var records []Release
	for _, ns := range namespaces {
		rs, err := h.backend.Storage(ns).List(func(*helmrelease.Release) bool { return true })
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			records = append(records, Release{Name: r.Name, Namespace: ns, Revision: r.Version, Status: r.Info.Status.String()})
		}
	}
	return newestOf(records), nil
}
