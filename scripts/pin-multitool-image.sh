#!/usr/bin/env bash
# pin-multitool-image.sh - pin the lab's multitool image to the digest its tag
# points at now, so every node of every lab pulls the same image.
#
# Usage:
#   scripts/pin-multitool-image.sh [--dry-run] [--help]
#   npm run pin:multitool [-- --dry-run]
#
# Upstream (wbitt/network-multitool) tags each variant only with moving names
# (alpine-extra, extra); its version tags are shared by all variants. So the
# variant is pinned by digest. This script:
#   1. resolves the tag of the current default image (lib/multitool.ts) to the
#      digest of its multi-arch image index, with crane;
#   2. checks the index carries every platform in MULTITOOL_PLATFORMS;
#   3. writes "<tag>@sha256:<digest>" as the default in lib/multitool.ts and in
#      README.md's configuration example;
#   4. runs `npm run synth` (dist/) and `npm run test:update` (jest snapshots).
# It needs registry access. --dry-run prints the reference it would pin and
# changes nothing.
#
# Environment (defaults in brackets):
#   MULTITOOL_TAG           tag to pin, without a digest  [the current default's tag]
#   MULTITOOL_RESOLVE_FROM  where to read that tag (e.g. a mirror)   [$MULTITOOL_TAG]
#   MULTITOOL_PLATFORMS     platforms the index must carry  [linux/amd64 linux/arm64]
#   PIN_TIMEOUT             seconds per registry call       [60]
#   PIN_REGENERATE          run synth and snapshot update (true/false)  [true]
#   CRANE                   crane binary  [crane on PATH, else CRANE_VERSION built with Go]
#   CRANE_VERSION           crane release to build          [v0.22.1]
#   GO                      go command that builds crane    [go on PATH, else /usr/local/go/bin/go]
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PROJECT_DIR=${LAB_PROJECT_DIR:-$(cd "$SCRIPT_DIR/.." && pwd)}
# shellcheck source=scripts/lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"
# shellcheck source=scripts/lib/crane.sh
source "$SCRIPT_DIR/lib/crane.sh"

MULTITOOL_PLATFORMS=${MULTITOOL_PLATFORMS:-linux/amd64 linux/arm64}
PIN_TIMEOUT=${PIN_TIMEOUT:-60}
PIN_REGENERATE=${PIN_REGENERATE:-true}
DRY_RUN=false

SOURCE_FILE=$LAB_PROJECT_DIR/lib/multitool.ts
README_FILE=$LAB_PROJECT_DIR/README.md
DIGEST_PATTERN='^sha256:[0-9a-f]{64}$'

CURRENT_STEP=""
CURRENT_IMAGE=""
PINNED_IMAGE=""

usage() {
  sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

parse_args() {
  while (($#)); do
    case $1 in
      --dry-run) DRY_RUN=true ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) die "unknown argument: '$1'" "run $0 --help" ;;
    esac
    shift
  done
  [[ "$PIN_REGENERATE" == true || "$PIN_REGENERATE" == false ]] ||
    die "PIN_REGENERATE: got '$PIN_REGENERATE'; allowed: true or false"
  [[ "$PIN_TIMEOUT" =~ ^[1-9][0-9]*$ ]] ||
    die "PIN_TIMEOUT: got '$PIN_TIMEOUT'; allowed: a whole number of seconds"
}

on_exit() {
  local rc=$?
  if ((rc != 0)) && [[ -n "$CURRENT_STEP" ]]; then
    err "pinning the multitool image failed while trying to $CURRENT_STEP"
    [[ -z "$CURRENT_IMAGE" ]] || info "  default image before this run: $CURRENT_IMAGE"
    [[ -z "$PINNED_IMAGE" ]] || info "  reference being pinned:        $PINNED_IMAGE"
  fi
}

step() {
  CURRENT_STEP=$1
  info "==> $1"
}

# read_current_image: the default image reference lib/multitool.ts declares.
read_current_image() {
  step "read the current default image from ${SOURCE_FILE#"$LAB_PROJECT_DIR"/}"
  local pattern="^export const MULTITOOL_DEFAULT_IMAGE = '([^']+)';\$" line count=0
  [[ -f "$SOURCE_FILE" ]] || die "$SOURCE_FILE does not exist"
  while IFS= read -r line; do
    if [[ "$line" =~ $pattern ]]; then
      CURRENT_IMAGE=${BASH_REMATCH[1]}
      count=$((count + 1))
    fi
  done <"$SOURCE_FILE"
  ((count == 1)) || die "expected one line \"export const MULTITOOL_DEFAULT_IMAGE = '<image>';\" in $SOURCE_FILE, found $count" \
    "restore that line, then run this again"
  info "    $CURRENT_IMAGE"
}

# repository_of REF: REF without its tag and digest (the port of a registry host stays).
repository_of() {
  local ref=${1%%@*} last
  last=${ref##*/}
  if [[ "$last" == *:* ]]; then
    ref=${ref%:*}
  fi
  printf '%s\n' "$ref"
}

# choose_tag: MULTITOOL_TAG, by default the current default without its digest.
choose_tag() {
  step "choose the tag to pin"
  MULTITOOL_TAG=${MULTITOOL_TAG:-${CURRENT_IMAGE%%@*}}
  MULTITOOL_RESOLVE_FROM=${MULTITOOL_RESOLVE_FROM:-$MULTITOOL_TAG}
  [[ "$MULTITOOL_TAG" != *@* ]] || die "MULTITOOL_TAG: got '$MULTITOOL_TAG'; allowed: a tag reference without a digest"
  [[ "${MULTITOOL_TAG##*/}" == *:* ]] || die "MULTITOOL_TAG: got '$MULTITOOL_TAG'; allowed: a reference with an explicit tag, such as name:alpine-extra"
}

resolve_digest() {
  step "resolve $MULTITOOL_RESOLVE_FROM to a digest"
  local out
  if ! out=$(timeout "$PIN_TIMEOUT" "$CRANE" digest "$MULTITOOL_RESOLVE_FROM" 2>&1); then
    info "$out"
    die "could not resolve $MULTITOOL_RESOLVE_FROM within ${PIN_TIMEOUT}s (crane digest failed, output above)" \
      "check registry access (docker.io needs the internet), or set MULTITOOL_RESOLVE_FROM to a mirror"
  fi
  out=${out##*$'\n'}
  [[ "$out" =~ $DIGEST_PATTERN ]] || die "crane digest $MULTITOOL_RESOLVE_FROM printed '$out'; expected sha256:<64 hex>"
  PINNED_IMAGE="$MULTITOOL_TAG@$out"
  info "    $out"
}

# check_platforms: the pinned digest must be an index that serves every laptop
# and node architecture in MULTITOOL_PLATFORMS; a single-platform digest would
# leave the other architectures without an image.
check_platforms() {
  local by_digest
  by_digest="$(repository_of "$MULTITOOL_RESOLVE_FROM")@${PINNED_IMAGE##*@}"
  step "check that $by_digest is a multi-arch index with: $MULTITOOL_PLATFORMS"
  local out platform
  if ! out=$(timeout "$PIN_TIMEOUT" "$CRANE" index list "$by_digest" 2>&1); then
    info "$out"
    die "$by_digest is not a readable multi-arch image index (crane index list failed, output above)" \
      "pin a tag that points at a multi-arch index, or set MULTITOOL_PLATFORMS to what the image serves"
  fi
  local -a missing=()
  for platform in $MULTITOOL_PLATFORMS; do
    awk -v p="$platform" 'NR > 1 && $3 == p { found = 1 } END { exit !found }' <<<"$out" || missing+=("$platform")
  done
  ((${#missing[@]} == 0)) || die "$by_digest has no image for: ${missing[*]} (it lists: $(awk 'NR > 1 { printf "%s ", $3 }' <<<"$out"))" \
    "pin a tag whose index carries those platforms, or set MULTITOOL_PLATFORMS"
}

# replace_once FILE OLD NEW: replace the single occurrence of OLD in FILE
# (checked by the caller), keeping the file's other bytes.
replace_once() {
  local file=$1 old=$2 new=$3 content tmp
  content=$(<"$file")
  tmp=$(mktemp "$file.XXXXXX")
  printf '%s\n' "${content/"$old"/"$new"}" >"$tmp"
  mv "$tmp" "$file"
}

# occurrences FILE TEXT: how many lines of FILE contain TEXT.
occurrences() {
  grep -cF -- "$2" "$1" || true
}

rewrite_sources() {
  step "write $PINNED_IMAGE into lib/multitool.ts and README.md"
  [[ -f "$README_FILE" ]] || die "$README_FILE does not exist"
  # Every edit is checked before any is made: a half-pinned tree is worse than none.
  local -a files=("$SOURCE_FILE" "$SOURCE_FILE" "$README_FILE")
  local -a olds=("'$CURRENT_IMAGE'" "@default \"$CURRENT_IMAGE\"" "  image: $CURRENT_IMAGE")
  local -a news=("'$PINNED_IMAGE'" "@default \"$PINNED_IMAGE\"" "  image: $PINNED_IMAGE")
  local i n
  for i in "${!files[@]}"; do
    n=$(occurrences "${files[i]}" "${olds[i]}")
    ((n == 1)) || die "expected one line with '${olds[i]}' in ${files[i]}, found $n" \
      "make it say the current default image once, then run this again"
  done
  for i in "${!files[@]}"; do
    replace_once "${files[i]}" "${olds[i]}" "${news[i]}"
  done
}

regenerate() {
  step "re-synthesize dist/ and update the jest snapshots"
  # stdout carries only the pinned reference; npm talks on stderr. The cdk8s
  # CLI's upgrade check is a network call, not synthesis: off.
  (cd "$LAB_PROJECT_DIR" && CDK8S_CHECK_UPGRADE=false npm run --silent synth && npm run --silent test:update) >&2 ||
    die "lib/multitool.ts and README.md now pin $PINNED_IMAGE, but regenerating failed (output above)" \
      "fix the cause, then run: npm run synth && npm run test:update"
}

main() {
  parse_args "$@"
  trap on_exit EXIT
  # Everything that can be checked locally is, before crane is looked for (or built).
  read_current_image
  choose_tag
  step "find crane"
  ensure_crane
  resolve_digest
  check_platforms
  CURRENT_STEP=""
  if [[ "$PINNED_IMAGE" == "$CURRENT_IMAGE" ]]; then
    info "already pinned: $PINNED_IMAGE"
    return 0
  fi
  if [[ "$DRY_RUN" == true ]]; then
    info "dry run: would pin $PINNED_IMAGE (was $CURRENT_IMAGE); nothing changed"
    printf '%s\n' "$PINNED_IMAGE"
    return 0
  fi
  rewrite_sources
  if [[ "$PIN_REGENERATE" == true ]]; then
    regenerate
  fi
  CURRENT_STEP=""
  info "pinned $PINNED_IMAGE (was $CURRENT_IMAGE)"
  info "review with: git diff --stat && git diff lib/multitool.ts README.md"
  printf '%s\n' "$PINNED_IMAGE"
}

main "$@"
