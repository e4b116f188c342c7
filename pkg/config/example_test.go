package config_test

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/storectl/storectl/pkg/config"
)

// The built-in profiles, as `storectl --profile <name>` starts from them. prod has no domain:
// the operator must supply one.
func ExampleProfile() {
	for _, name := range config.ProfileNames() {
		p, _ := config.Profile(name)
		fmt.Printf("%s:\n", name)
		for _, key := range config.Keys() {
			v, ok := p[key]
			if !ok || key == config.KeyProfile {
				continue
			}
			if v == "" {
				v = "(empty)"
			}
			fmt.Printf("  %s: %v\n", key, v)
		}
	}
	// Output:
	// local:
	//   domain: 127.0.0.1.nip.io
	//   ingress-class: nginx
	//   ingress-controller-namespace: ingress-nginx
	//   ingress-controller-labels: map[app.kubernetes.io/name:ingress-nginx]
	//   tls-cluster-issuer: (empty)
	//   storage-class: (empty)
	//   max-stores: 10
	//   image-pull-policy: IfNotPresent
	//   timeout: 10m0s
	//   unschedulable-grace: 30s
	//   kubeconfig: (empty)
	//   context: (empty)
	//   tenant-isolation-overrides: []
	// prod:
	//   domain: (empty)
	//   ingress-class: traefik
	//   ingress-controller-namespace: kube-system
	//   ingress-controller-labels: map[app.kubernetes.io/name:traefik]
	//   tls-cluster-issuer: letsencrypt-prod
	//   storage-class: (empty)
	//   max-stores: 50
	//   image-pull-policy: Always
	//   timeout: 10m0s
	//   unschedulable-grace: 30s
	//   kubeconfig: (empty)
	//   context: (empty)
	//   tenant-isolation-overrides: []
}

// A command binds its flags by key name; Load layers them over the environment, the config
// file and the chosen profile, and reports where each value came from.
func ExampleLoad() {
	flags := pflag.NewFlagSet("create", pflag.ContinueOnError)
	flags.String(config.KeyProfile, "", "")
	flags.String(config.KeyDomain, "", "")
	flags.Int(config.KeyMaxStores, 0, "")
	_ = flags.Parse([]string{"--profile=prod", "--domain=shops.example.com"})

	cfg, err := config.Load(config.LoadOptions{
		ConfigPath: "testdata/example.yaml", // max-stores: 20 under profiles.prod
		Flags:      flags,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range cfg.Settings() {
		switch s.Key {
		case config.KeyDomain, config.KeyMaxStores, config.KeyIngressClass:
			fmt.Printf("%s = %v (%s)\n", s.Key, s.Value, strings.Replace(s.Source.String(), cfg.File, "example.yaml", 1))
		}
	}
	// Output:
	// domain = shops.example.com (flag --domain)
	// ingress-class = traefik (profile prod)
	// max-stores = 20 (file example.yaml:4 (profiles.prod))
}
