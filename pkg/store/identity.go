package store

import corev1 "k8s.io/api/core/v1"

// IsStore is the one rule by which every command decides whether a namespace
// is the namespace of store name: it is named store-<name> and carries both
// app.kubernetes.io/managed-by=storectl and storectl.dev/store=<name>. A
// namespace that fails it is not a store: list does not show it, get, wait
// and credentials do not read it, create refuses its name and delete never
// touches it.
func IsStore(n *corev1.Namespace, name string) bool {
	return n != nil && name != "" && n.Name == Namespace(name) &&
		n.Labels[LabelManagedBy] == ManagedBy && n.Labels[LabelStore] == name
}

// StoreName returns the name of the store whose namespace n is, by IsStore.
func StoreName(n *corev1.Namespace) (string, bool) {
	if n == nil {
		return "", false
	}
	name := n.Labels[LabelStore]
	return name, IsStore(n, name)
}

// storeSelector selects the namespaces that may be stores; IsStore decides.
const storeSelector = LabelManagedBy + "=" + ManagedBy + "," + LabelStore
