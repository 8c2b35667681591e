// Command coredns is CoreDNS v1.10.1 (the version kubeadm v1.28.15 deploys) with only the plugins the
// lab's IPv6-only Corefile and the tests' stand-in upstream use: the same plugin packages as the full
// build, registered by import as CoreDNS's own core/plugin/zplugin.go does for all of them. A Corefile
// directive whose plugin is missing here fails at start-up ("unknown directive"), so a Corefile that
// loads here loads in the full CoreDNS too.
//
// scripts/e2e/build-coredns.sh builds it inside a throw-away module that requires
// github.com/coredns/coredns at that version.
package main

import (
	"github.com/coredns/coredns/coremain"

	// The lab's Corefile (lib/coredns-config.ts): kubeadm's default plugins plus dns64.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/dns64"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"

	// The tests' stand-in upstream (Docker's embedded DNS): fixed names on one address, queries logged.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/log"
)

func main() {
	coremain.Run()
}
