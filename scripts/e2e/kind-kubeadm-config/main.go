// Command kind-kubeadm-config prints the kubeadm config that kind v0.25.0 writes to a cluster's
// control-plane node (/kind/kubeadm.conf) for a kind config file, through kind's own template
// (pkg/cluster/internal/kubeadm) and patch code (pkg/internal/patch), in the steps of
// pkg/cluster/internal/create/actions/config. Node addresses are those of kind's Docker network.
//
// It imports kind's internal packages, so scripts/e2e/kubeadm-check.sh builds it inside a copy of
// the sigs.k8s.io/kind module, at pkg/cluster/labkubeadmconfig.
//
// Usage: kind-kubeadm-config KIND_CONFIG KUBERNETES_VERSION
//
// A config kind itself refuses (its Validate) exits 1 with kind's reason.
package main

import (
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/kind/pkg/cluster/internal/kubeadm"
	"sigs.k8s.io/kind/pkg/internal/apis/config"
	"sigs.k8s.io/kind/pkg/internal/apis/config/encoding"
	"sigs.k8s.io/kind/pkg/internal/patch"
)

const (
	nodeAddressIPv4 = "172.18.0.2"
	nodeAddressIPv6 = "fc00:f853:ccd:e793::2"
)

func render(path, kubernetesVersion string) (string, error) {
	cfg, err := encoding.Load(path)
	if err != nil {
		return "", err
	}
	// kind create validates the config first (pkg/cluster/internal/create), e.g. one CIDR per family
	// and the family ipFamily names; so does this renderer.
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("kind refuses the config: %w", err)
	}
	data := kubeadm.ConfigData{
		NodeProvider:         "docker",
		ClusterName:          cfg.Name,
		ControlPlaneEndpoint: cfg.Name + "-control-plane:6443",
		APIBindPort:          6443,
		APIServerAddress:     cfg.Networking.APIServerAddress,
		Token:                kubeadm.Token,
		PodSubnet:            cfg.Networking.PodSubnet,
		KubeProxyMode:        string(cfg.Networking.KubeProxyMode),
		ServiceSubnet:        cfg.Networking.ServiceSubnet,
		ControlPlane:         true,
		IPFamily:             cfg.Networking.IPFamily,
		FeatureGates:         cfg.FeatureGates,
		RuntimeConfig:        cfg.RuntimeConfig,
		KubernetesVersion:    kubernetesVersion,
		NodeName:             cfg.Name + "-control-plane",
		NodeAddress:          nodeAddressIPv4,
	}
	switch cfg.Networking.IPFamily {
	case config.IPv6Family:
		data.NodeAddress = nodeAddressIPv6
	case config.DualStackFamily:
		// kind puts the family of the primary service subnet first (it becomes the advertise address).
		if strings.Contains(strings.Split(cfg.Networking.ServiceSubnet, ",")[0], ":") {
			data.NodeAddress = nodeAddressIPv6 + "," + nodeAddressIPv4
		} else {
			data.NodeAddress = nodeAddressIPv4 + "," + nodeAddressIPv6
		}
	}
	generated, err := kubeadm.Config(data)
	if err != nil {
		return "", err
	}
	patched, err := patch.KubeYAML(generated, cfg.KubeadmConfigPatches, cfg.KubeadmConfigPatchesJSON6902)
	if err != nil {
		return "", err
	}
	// kind drops the metadata it adds only for patch matching; kubeadm would reject it.
	return strings.ReplaceAll(patched, "metadata:\n  name: config\n", ""), nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: kind-kubeadm-config KIND_CONFIG KUBERNETES_VERSION")
		os.Exit(2)
	}
	out, err := render(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "kind-kubeadm-config:", err)
		os.Exit(1)
	}
	fmt.Print(out)
}
