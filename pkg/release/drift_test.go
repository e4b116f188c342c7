package release

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestManifestObjects(t *testing.T) {
	manifest := `---
# Source: woocommerce/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-php
data:
  php.ini: |
    memory_limit = 256M
---
# Source: woocommerce/templates/empty.yaml
---
# Source: woocommerce/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: shop-mariadb
spec:
  replicas: 1
`
	objs, err := manifestObjects(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects, want the ConfigMap and the StatefulSet", len(objs))
	}
	if objs[0].GetKind() != "ConfigMap" || objs[0].GetName() != "shop-php" || objs[0].GetAPIVersion() != "v1" {
		t.Errorf("first object %s %s/%s", objs[0].GetAPIVersion(), objs[0].GetKind(), objs[0].GetName())
	}
	if objs[1].GroupVersionKind().Group != "apps" || objs[1].GetName() != "shop-mariadb" {
		t.Errorf("second object %s/%s", objs[1].GroupVersionKind(), objs[1].GetName())
	}
	// A compared workload is decoded whole: its replicas are what drift compares.
	if r, ok, _ := unstructured.NestedFieldNoCopy(objs[1].Object, "spec", "replicas"); !ok || fmt.Sprint(r) != "1" {
		t.Errorf("the StatefulSet's spec.replicas = %v (found %v), want 1", r, ok)
	}
}
