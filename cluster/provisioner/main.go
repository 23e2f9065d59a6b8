// Command hostpath-provisioner is the local cluster's dynamic provisioner: a
// PersistentVolumeClaim of its StorageClass gets a PersistentVolume backed by a
// new directory under -root on the node, as minikube's storage-provisioner
// does. The provisioning protocol (claims, binding, retries, the reclaim
// policy, events) is sig-storage-lib-external-provisioner's; this file only
// creates and removes directories.
//
// The reclaim policy is the StorageClass's: with Delete the directory is
// removed when its claim is deleted, with Retain the PV and its directory stay
// (the PV goes Released) until someone deletes them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

const pathAnnotation = "todo-chatbot.local/hostpath"

type hostPathProvisioner struct {
	root string
	node string
}

func (p *hostPathProvisioner) Provision(ctx context.Context, opts controller.ProvisionOptions) (*v1.PersistentVolume, controller.ProvisioningState, error) {
	if opts.PVC.Spec.Selector != nil {
		return nil, controller.ProvisioningFinished, errors.New("claims with a selector are not supported: a hostpath volume has no labels to match")
	}
	dir := filepath.Join(p.root, opts.PVName)
	// World-writable as minikube's provisioner makes them: hostPath volumes
	// ignore fsGroup, so the pod's user (any uid) must be able to write.
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, controller.ProvisioningInBackground, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, controller.ProvisioningInBackground, fmt.Errorf("chmod %s: %w", dir, err)
	}
	hostPathType := v1.HostPathDirectory
	reclaim := v1.PersistentVolumeReclaimDelete
	if opts.StorageClass.ReclaimPolicy != nil {
		reclaim = *opts.StorageClass.ReclaimPolicy
	}
	pv := &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        opts.PVName,
			Annotations: map[string]string{pathAnnotation: dir},
		},
		Spec: v1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   opts.PVC.Spec.AccessModes,
			Capacity:                      v1.ResourceList{v1.ResourceStorage: opts.PVC.Spec.Resources.Requests[v1.ResourceStorage]},
			MountOptions:                  opts.StorageClass.MountOptions,
			VolumeMode:                    opts.PVC.Spec.VolumeMode,
			PersistentVolumeSource: v1.PersistentVolumeSource{
				HostPath: &v1.HostPathVolumeSource{Path: dir, Type: &hostPathType},
			},
			NodeAffinity: &v1.VolumeNodeAffinity{Required: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
				MatchExpressions: []v1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: v1.NodeSelectorOpIn, Values: []string{p.node}}},
			}}}},
		},
	}
	klog.FromContext(ctx).Info("provisioned", "pv", opts.PVName, "claim", opts.PVC.Namespace+"/"+opts.PVC.Name, "path", dir, "reclaimPolicy", reclaim)
	return pv, controller.ProvisioningFinished, nil
}

func (p *hostPathProvisioner) Delete(ctx context.Context, pv *v1.PersistentVolume) error {
	dir := pv.Annotations[pathAnnotation]
	// Only directories this provisioner made, directly under its root.
	if dir == "" || filepath.Dir(dir) != filepath.Clean(p.root) {
		return &controller.IgnoredError{Reason: fmt.Sprintf("%s has no directory of this provisioner under %s", pv.Name, p.root)}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	klog.FromContext(ctx).Info("deleted", "pv", pv.Name, "path", dir)
	return nil
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	name := flag.String("name", "todo-chatbot.local/hostpath", "provisioner name, as StorageClasses name it")
	root := flag.String("root", "", "directory the volumes are created under")
	node := flag.String("node", "", "name of the node the directories are on")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" || *root == "" || *node == "" {
		fmt.Fprintln(os.Stderr, "hostpath-provisioner: -kubeconfig, -root and -node are required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*root, 0o755); err != nil {
		klog.Fatalf("create %s: %v", *root, err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("kubeconfig %s: %v", *kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		klog.Fatalf("client: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx = klog.NewContext(ctx, klog.Background())
	pc := controller.NewProvisionController(ctx, client, *name, &hostPathProvisioner{root: *root, node: *node},
		controller.LeaderElection(false))
	pc.Run(ctx)
}
