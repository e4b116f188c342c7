package cli

import (
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/storectl/storectl/pkg/backup"
	"github.com/storectl/storectl/pkg/release/releasetest"
	"github.com/storectl/storectl/pkg/store"
)

// The engine the factory hands out is wrapped to name the API server in errors; upgrade,
// rollback, history and backup still reach the store engine's own capabilities through it.
func TestWrappedEngineKeepsItsCapabilities(t *testing.T) {
	t.Parallel()
	e, err := store.New(store.Options{Kube: fake.NewClientset(), Releases: releasetest.NewMemory(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	wrapped := Engine(serverNamed{Engine: e, server: "https://127.0.0.1:6443"})
	if _, ok := wrapped.(Changer); ok {
		t.Fatal("the wrapper forwards Changer itself; underlying is then not needed (drop it)")
	}
	if _, ok := underlying(wrapped).(Changer); !ok {
		t.Error("upgrade, rollback and history cannot reach the store engine through the wrapper")
	}
	if _, ok := underlying(wrapped).(backup.Stores); !ok {
		t.Error("backup cannot reach the store engine through the wrapper")
	}
}
