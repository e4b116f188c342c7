// Command provisioner is the sandbox cluster's dynamic volume provisioner.
//
// The simulated nodes of the sandbox have no disks, yet storectl must see
// PersistentVolumeClaims bind and PersistentVolumes go away with their claims,
// as they do on a real cluster. For every claim of a StorageClass whose
// provisioner is ours, this program creates a PersistentVolume bound to the
// claim (pinned to the node the scheduler picked when the class waits for the
// first consumer), and it deletes released volumes whose reclaim policy is
// Delete. Nothing is ever written to disk: the hostPath in the volume exists
// only on paper, like the nodes.
//
// It listens on no port; it only talks to the API server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

const (
	// annSelectedNode is set on a claim by the scheduler once it has chosen
	// the node of the first pod that uses a WaitForFirstConsumer claim.
	annSelectedNode = "volume.kubernetes.io/selected-node"
	// annProvisionedBy marks the volumes this program owns, as every
	// external provisioner does.
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"

	claimPrefix  = "claim/"
	volumePrefix = "volume/"
)

type provisioner struct {
	name     string
	root     string
	client   kubernetes.Interface
	claims   corelisters.PersistentVolumeClaimLister
	volumes  corelisters.PersistentVolumeLister
	classes  storagelisters.StorageClassLister
	queue    workqueue.TypedRateLimitingInterface[string]
	recorder record.EventRecorder
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path of the kubeconfig of the cluster")
	name := flag.String("name", "storectl.dev/sandbox-hostpath", "provisioner name that StorageClasses refer to")
	root := flag.String("root", "/var/lib/storectl-sandbox/volumes", "directory recorded as the hostPath of each volume")
	resync := flag.Duration("resync", 30*time.Second, "how often every claim and volume is looked at again")
	flag.Parse()

	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if err := run(*kubeconfig, *name, *root, *resync); err != nil {
		log.Fatalf("provisioner: %v", err)
	}
}

func run(kubeconfig, name, root string, resync time.Duration) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.UserAgent = "storectl-sandbox-provisioner"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("build client: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()

	factory := informers.NewSharedInformerFactory(client, resync)
	p := &provisioner{
		name:     name,
		root:     root,
		client:   client,
		claims:   factory.Core().V1().PersistentVolumeClaims().Lister(),
		volumes:  factory.Core().V1().PersistentVolumes().Lister(),
		classes:  factory.Storage().V1().StorageClasses().Lister(),
		queue:    workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: name}),
	}
	defer p.queue.ShutDown()

	enqueue := func(prefix string) cache.ResourceEventHandlerFuncs {
		add := func(obj any) {
			key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
			if err == nil {
				p.queue.Add(prefix + key)
			}
		}
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    add,
			UpdateFunc: func(_, obj any) { add(obj) },
			DeleteFunc: add,
		}
	}
	if _, err := factory.Core().V1().PersistentVolumeClaims().Informer().AddEventHandler(enqueue(claimPrefix)); err != nil {
		return err
	}
	if _, err := factory.Core().V1().PersistentVolumes().Informer().AddEventHandler(enqueue(volumePrefix)); err != nil {
		return err
	}
	factory.Storage().V1().StorageClasses().Informer()

	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cache of %v never synced", typ)
		}
	}
	log.Printf("provisioner %s ready", name)

	go func() {
		<-ctx.Done()
		p.queue.ShutDown()
	}()
	for p.next(ctx) {
	}
	factory.Shutdown()
	log.Printf("provisioner %s stopped", name)
	return nil
}

// next handles one queued key and reports whether the queue is still open.
func (p *provisioner) next(ctx context.Context) bool {
	key, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(key)

	var err error
	switch {
	case strings.HasPrefix(key, claimPrefix):
		err = p.syncClaim(ctx, strings.TrimPrefix(key, claimPrefix))
	case strings.HasPrefix(key, volumePrefix):
		err = p.syncVolume(ctx, strings.TrimPrefix(key, volumePrefix))
	}
	if err != nil {
		log.Printf("%s: %v (retrying)", key, err)
		p.queue.AddRateLimited(key)
		return true
	}
	p.queue.Forget(key)
	return true
}

// syncClaim creates the volume of a claim that waits for one of our classes.
func (p *provisioner) syncClaim(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	claim, err := p.claims.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if claim.DeletionTimestamp != nil || claim.Spec.VolumeName != "" || claim.Spec.StorageClassName == nil {
		return nil
	}
	class, err := p.classes.Get(*claim.Spec.StorageClassName)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if class.Provisioner != p.name {
		return nil
	}
	node := ""
	if class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
		node = claim.Annotations[annSelectedNode]
		if node == "" {
			// The scheduler has not placed a pod that uses the claim yet.
			return nil
		}
	}

	volume := p.volumeFor(claim, class, node)
	if _, err := p.volumes.Get(volume.Name); err == nil {
		return nil
	}
	_, err = p.client.CoreV1().PersistentVolumes().Create(ctx, volume, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		p.recorder.Eventf(claim, corev1.EventTypeWarning, "ProvisioningFailed", "failed to provision volume with StorageClass %q: %v", class.Name, err)
		return fmt.Errorf("create volume %s: %w", volume.Name, err)
	}
	where := ""
	if node != "" {
		where = " on node " + node
	}
	log.Printf("claim %s: created volume %s%s", key, volume.Name, where)
	p.recorder.Eventf(claim, corev1.EventTypeNormal, "ProvisioningSucceeded", "Successfully provisioned volume %s%s", volume.Name, where)
	return nil
}

func (p *provisioner) volumeFor(claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, node string) *corev1.PersistentVolume {
	name := "pvc-" + string(claim.UID)
	reclaim := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		reclaim = *class.ReclaimPolicy
	}
	hostPathType := corev1.HostPathDirectoryOrCreate
	volume := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{annProvisionedBy: p.name},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   claim.Spec.AccessModes,
			VolumeMode:                    claim.Spec.VolumeMode,
			StorageClassName:              class.Name,
			PersistentVolumeReclaimPolicy: reclaim,
			MountOptions:                  class.MountOptions,
			ClaimRef: &corev1.ObjectReference{
				Kind:       "PersistentVolumeClaim",
				APIVersion: "v1",
				Namespace:  claim.Namespace,
				Name:       claim.Name,
				UID:        claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{
					Path: path.Join(p.root, claim.Namespace+"_"+claim.Name+"_"+name),
					Type: &hostPathType,
				},
			},
		},
	}
	if node != "" {
		volume.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{
			Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{
						Key:      corev1.LabelHostname,
						Operator: corev1.NodeSelectorOpIn,
						Values:   []string{node},
					}},
				}},
			},
		}
	}
	return volume
}

// syncVolume deletes a volume of ours once its claim is gone and the reclaim
// policy says so.
func (p *provisioner) syncVolume(ctx context.Context, name string) error {
	volume, err := p.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if volume.Annotations[annProvisionedBy] != p.name ||
		volume.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
		volume.Status.Phase != corev1.VolumeReleased ||
		volume.DeletionTimestamp != nil {
		return nil
	}
	// Released means the bound claim is gone, but a claim of the same name
	// may have been created again: only its UID tells.
	if ref := volume.Spec.ClaimRef; ref != nil {
		claim, err := p.client.CoreV1().PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil && claim.UID == ref.UID {
			return errors.New("volume is Released but its claim still exists")
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	err = p.client.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &volume.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete volume: %w", err)
	}
	log.Printf("volume %s: deleted after its claim was removed", name)
	return nil
}
