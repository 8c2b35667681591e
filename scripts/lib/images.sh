#!/usr/bin/env bash
# Image preloading for deploy.sh: pull each image Calico's operator deploys
# (scripts/calico-images.txt) and the lab's own images (the facts' images) once on the
# host, then `kind load` them into every node. Without it each of the three
# nodes pulls every Calico image itself: about 20 anonymous Docker Hub pulls
# per fresh deploy, against a limit of 100 per 6 hours.
#
# Sourced after scripts/lib/common.sh, never executed.

[[ -n "${_LAB_IMAGES_SH:-}" ]] && return 0
_LAB_IMAGES_SH=1
PRELOADED=()

LAB_PRELOAD_IMAGES=${LAB_PRELOAD_IMAGES:-true}
LAB_IMAGE_LIST=${LAB_IMAGE_LIST:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/calico-images.txt}

# lab_images: the pinned list without comments, then every image the lab's
# manifests run (the facts' images).
lab_images() {
  [[ -r "$LAB_IMAGE_LIST" ]] || die "image list ${LAB_IMAGE_LIST} is not readable" \
    "restore scripts/calico-images.txt, or set LAB_PRELOAD_IMAGES=false"
  sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$LAB_IMAGE_LIST"
  local i
  for ((i = 0; i < $(fact_count images); i++)); do
    fact "images.$i"
    echo
  done
}

# pull_image IMAGE: pull unless the host has it; never fatal (the nodes can
# still pull it themselves), but says why it failed (rate limit, offline).
pull_image() {
  local image=$1 out
  if docker image inspect "$image" >/dev/null 2>&1; then
    info "  ${image}: on the host already"
    return 0
  fi
  info "  ${image}: pulling"
  if ! out=$(docker pull --quiet "$image" 2>&1); then
    warn "could not pull ${image}; the nodes will try themselves: $(tail -n 1 <<<"$out")"
    return 1
  fi
}

# preload_enabled: LAB_PRELOAD_IMAGES is on (says so when it is off).
preload_enabled() {
  case "$LAB_PRELOAD_IMAGES" in
    false | 0 | no)
      info "  image preloading off (LAB_PRELOAD_IMAGES=${LAB_PRELOAD_IMAGES}): each node pulls its images itself"
      return 1
      ;;
    true | 1 | yes) ;;
    *) die "LAB_PRELOAD_IMAGES=${LAB_PRELOAD_IMAGES} is not one of true, false" ;;
  esac
}

# preload_pull: every lab image on the host; PRELOADED: those it has now.
preload_pull() {
  local image
  PRELOADED=()
  info "  preloading images (pulled once on the host, then kind load; LAB_PRELOAD_IMAGES=false turns it off)"
  while IFS= read -r image; do
    pull_image "$image" && PRELOADED+=("$image")
  done < <(lab_images)
}

# preload_load IMAGE...: kind load them into every node; a failure only warns
# (the nodes can pull the images themselves). kind skips the nodes that have an image.
preload_load() {
  local out
  if (($# == 1)); then
    info "  kind load docker-image --name ${LAB_CLUSTER_NAME} $1"
  else
    info "  kind load docker-image --name ${LAB_CLUSTER_NAME} ($# images)"
  fi
  if ! out=$(kind load docker-image --name "$LAB_CLUSTER_NAME" "$@" 2>&1); then
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /' >&2
    warn "kind load docker-image failed (output above); the nodes will pull the images themselves"
  fi
  return 0
}

# preload_images: pull, then load, every lab image.
preload_images() {
  preload_enabled || return 0
  preload_pull
  ((${#PRELOADED[@]} == 0)) || preload_load "${PRELOADED[@]}"
}
