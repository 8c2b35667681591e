#!/usr/bin/env bash
# kubectl_skew_check: warn when kubectl's minor version is more than one away
# from the API server's, the skew Kubernetes supports (kubectl's own
# `kubectl version` prints the same warning). Never fails: an old kubectl
# mostly works, and the checks that then fail say what went wrong.
#
# Sourced after common.sh; needs KUBECONFIG to point at the lab.

# k8s_minor_from_version_json KEY: the minor of KEY (clientVersion or
# serverVersion) in `kubectl version -o json` on stdin, from gitVersion
# (minor can read "28+" on some builds). Nothing when KEY is absent.
k8s_minor_from_version_json() {
  awk -v key="\"$1\"" '
    index($0, key) { inside = 1 }
    inside && /"gitVersion"/ {
      if (match($0, /"v[0-9]+\.[0-9]+/)) { split(substr($0, RSTART + 2, RLENGTH - 2), v, "."); print v[2] }
      exit
    }'
}

kubectl_skew_check() {
  have kubectl || return 0
  local out client server skew
  # Exits non-zero when the server does not answer; the client part still comes.
  out=$(kubectl version -o json --request-timeout=10s 2>/dev/null) || true
  client=$(k8s_minor_from_version_json clientVersion <<<"$out")
  server=$(k8s_minor_from_version_json serverVersion <<<"$out")
  [[ -n "$client" && -n "$server" ]] || return 0
  skew=$((client > server ? client - server : server - client))
  if ((skew > 1)); then
    warn "version difference between kubectl (1.${client}) and the lab's API server (1.${server}) exceeds the supported minor version skew of +/-1; install kubectl 1.$((server - 1)) to 1.$((server + 1)): https://kubernetes.io/releases/version-skew-policy/#kubectl"
  fi
}
