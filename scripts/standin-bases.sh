#!/usr/bin/env bash
# Build local stand-ins for the public base images our corpus apps and examples use.
#
# Why: no container registry is reachable from our build machines, so `FROM python:3.11-slim`
# cannot be pulled. We debootstrap a minimal Debian bookworm, import it, and derive images
# that provide the same *interface* (binaries on PATH, users, env) from Debian packages,
# tagged with the official names. Every stand-in carries the label `org.dopt.standin=true`
# so reports can state that sizes were measured on stand-in bases (they differ from the
# official images: e.g. Debian's python3 is 3.11 under every `python:*` tag).
#
# Idempotent: images that already exist are skipped (FORCE=1 rebuilds the derived images;
# delete the cached rootfs tarball to redo debootstrap). A tag that already names an image
# *without* the stand-in label (a real, pulled image) is never overwritten.
#
# It also builds a local `docker/dockerfile:1.4` frontend image (BuildKit's Dockerfile frontend,
# compiled from Debian's docker.io source), because the engine here (Docker 20.10) has a
# built-in frontend that predates heredocs, and `# syntax=docker/dockerfile:1.4` lines cannot
# be pulled. BuildKit resolves frontend images from the local store first, so with this image
# such Dockerfiles build unmodified, and `--build-arg BUILDKIT_SYNTAX=docker/dockerfile:1.4`
# selects it for any Dockerfile.
#
# Environment:
#   DOPT_STANDIN_CACHE   cache dir for the debootstrap tarball (default /var/cache/dopt-standin)
#   DOPT_DEBIAN_MIRROR   Debian mirror URI (default: read from this machine's apt sources)
#   DOPT_STANDIN_ONLY    space-separated subset of flavors to build (default: all)
#   DOPT_STANDIN_FRONTEND=0  skip the Dockerfile frontend image
#   FORCE=1              rebuild derived images even if they exist
#
# Needs root (debootstrap), a running Docker engine (see .ci/docker-setup.sh) and network
# access to the Debian mirror (builds use --network host).
set -euo pipefail

readonly SUITE=bookworm
readonly ROOTFS_VERSION=1 # bump when the rootfs customisation below changes
CACHE_DIR=${DOPT_STANDIN_CACHE:-/var/cache/dopt-standin}
ROOTFS_TAR="$CACHE_DIR/debian-$SUITE-minbase-v$ROOTFS_VERSION.tar"
ROOT_IMAGE="dopt-standin/debian:$SUITE"
SLIM_ROOT_IMAGE="dopt-standin/debian:$SUITE-slim"
# Our Dockerfiles are plain; the classic builder needs no buildx plugin.
export DOCKER_BUILDKIT=0

log() { printf '[standin %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# --- mirror discovery (never hard-code a mirror host in the repo) ---------------------------

# Prints the URI of the first apt source serving "$1" (e.g. bookworm or bookworm-security).
apt_uri_for_suite() {
	local want=$1 f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		# deb822: stanzas separated by blank lines; pick the stanza whose Suites list has $want.
		awk -v want="$want" '
			BEGIN { RS = ""; FS = "\n" }
			{
				uri = ""; ok = 0; isdeb = 1
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^URIs:/)   { split($i, a, /[ \t]+/); uri = a[2] }
					if ($i ~ /^Types:/ && $i !~ /[ \t]deb([ \t]|$)/) isdeb = 0
					if ($i ~ /^Enabled:[ \t]*no/) isdeb = 0
					if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == want) ok = 1 }
				}
				if (ok && isdeb && uri != "") { print uri; exit }
			}' "$f"
	done | head -n1
	if [ -r /etc/apt/sources.list ]; then
		awk -v want="$want" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i+1) == want) print $i; break } }' \
			/etc/apt/sources.list | head -n1
	fi
}

mirror() {
	if [ -n "${DOPT_DEBIAN_MIRROR:-}" ]; then
		echo "$DOPT_DEBIAN_MIRROR"
		return
	fi
	local m
	m=$(apt_uri_for_suite "$SUITE" | head -n1)
	[ -n "$m" ] || die "no apt source for suite '$SUITE' found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set DOPT_DEBIAN_MIRROR"
	echo "$m"
}

# --- helpers ---------------------------------------------------------------------------------

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
is_standin() { [ "$(docker image inspect -f '{{index .Config.Labels "org.dopt.standin"}}' "$1" 2>/dev/null)" = "true" ]; }
human_size() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.1f MB", $1 / 1000000 }'; }

# Timings collected for the final summary; images replaced by FORCE rebuilds.
SUMMARY=()
STALE=()
timed() {
	local what=$1 start end
	shift
	local status=0
	start=$(date +%s)
	"$@" || status=$?
	end=$(date +%s)
	if [ "$status" != 0 ]; then
		log "$what FAILED after $((end - start))s"
		return "$status"
	fi
	log "$what took $((end - start))s"
	SUMMARY+=("$what: $((end - start))s")
}

# --- step 1: debootstrap a minimal bookworm and import it ------------------------------------

make_rootfs_tar() {
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap"
		# A fresh machine may have no package lists yet.
		DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >/dev/null 2>&1 || {
			apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >/dev/null
		} || die "could not install debootstrap"
	fi
	local m security dir
	m=$(mirror)
	security=$(DOPT_DEBIAN_MIRROR='' apt_uri_for_suite "$SUITE-security" | head -n1 || true)
	dir=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
	log "debootstrap --variant=minbase $SUITE from the mirror in this machine's apt sources"
	# ca-certificates: pip/npm/curl inside builds need a CA bundle (the official python/node
	# images ship it too); debian:*-slim stand-ins carry it as well, which only adds ~0.5 MB.
	debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$dir" "$m" >"$CACHE_DIR/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $CACHE_DIR/debootstrap.log"

	# Make the rootfs behave like the official debian images: apt sources in deb822 format,
	# no apt lists or .deb caches shipped, caches auto-cleaned after installs.
	rm -f "$dir/etc/apt/sources.list"
	{
		printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$m" "$SUITE" "$SUITE"
		if [ -n "$security" ]; then
			printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$security" "$SUITE"
		fi
	} >"$dir/etc/apt/sources.list.d/debian.sources"
	cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
	echo 'APT::AutoRemove::SuggestsImportant "false";' >"$dir/etc/apt/apt.conf.d/docker-autoremove-suggests"
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/*.log
	: >"$dir/etc/resolv.conf"
	echo "dopt-standin" >"$dir/etc/hostname"

	tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.tmp" .
	mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
	rm -rf "$dir"
}

import_root_image() {
	docker import \
		--change 'LABEL org.dopt.standin=true' \
		--change "LABEL org.dopt.standin.contents=\"Debian $SUITE minbase (debootstrap)\"" \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["bash"]' \
		"$1" "$2" >/dev/null
}

# The official *-slim images keep docs, man pages and locales out via dpkg path excludes, so
# they are ~40 MB smaller; deleting them in a Dockerfile layer would not shrink the image, so
# the slim root is a separately pruned copy of the rootfs.
import_slim_root_image() {
	local dir status=0
	dir=$(mktemp -d "$CACHE_DIR/slim.XXXXXX")
	tar -C "$dir" -xf "$ROOTFS_TAR"
	printf '%s\n' \
		'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
		'path-exclude /usr/share/man/*' 'path-exclude /usr/share/groff/*' \
		'path-exclude /usr/share/info/*' 'path-exclude /usr/share/lintian/*' \
		'path-exclude /usr/share/linda/*' 'path-exclude /usr/share/locale/*' \
		>"$dir/etc/dpkg/dpkg.cfg.d/docker"
	find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/groff/* "$dir"/usr/share/info/* \
		"$dir"/usr/share/lintian/* "$dir"/usr/share/linda/* "$dir"/usr/share/locale/*
	tar --numeric-owner -C "$dir" -cf "$dir.tar" . || status=$?
	[ "$status" = 0 ] && import_root_image "$dir.tar" "$SLIM_ROOT_IMAGE" || status=$?
	rm -rf "$dir" "$dir.tar"
	return "$status"
}

# --- step 2: derived images ------------------------------------------------------------------

CERT_DIR=/usr/local/share/ca-certificates

# build_flavor NAME PARENT "DESCRIPTION" "TAG..." <<DOCKERFILE_BODY (after FROM and the CA layer)
build_flavor() {
	local name=$1 parent=$2 desc=$3 tags=$4 body ctx image
	body=$(cat)
	image="dopt-standin/$name:$SUITE"
	if [ -n "${DOPT_STANDIN_ONLY:-}" ] && [[ " $DOPT_STANDIN_ONLY " != *" $name "* ]] && ! image_exists "$image"; then
		log "skipping $image (not in DOPT_STANDIN_ONLY)"
		return
	fi
	local old_id=""
	if image_exists "$image" && [ "${FORCE:-0}" != 1 ]; then
		log "$image exists, skipping build"
	else
		old_id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
		ctx=$(mktemp -d)
		mkdir -p "$ctx/certs"
		# The extra CAs of this machine (e.g. a TLS-intercepting egress proxy) must be trusted
		# inside builds, or pip/npm/curl fail. Copy whatever is there (possibly nothing).
		find "$CERT_DIR" -maxdepth 2 -type f -name '*.crt' -exec cp {} "$ctx/certs/" \; 2>/dev/null || true
		cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $parent
COPY certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
$body
LABEL org.dopt.standin=true \\
      org.dopt.standin.flavor="$name" \\
      org.dopt.standin.contents="$desc" \\
      org.dopt.standin.tags="$tags"
DOCKERFILE
		timed "build $image" docker build --network host --quiet -t "$image" "$ctx" >/dev/null ||
			die "building $image failed (Dockerfile kept in $ctx)"
		rm -rf "$ctx"
	fi
	local tag
	for tag in $tags; do
		if image_exists "$tag" && ! is_standin "$tag"; then
			log "not tagging $tag: a real (non-stand-in) image already has that name"
			continue
		fi
		docker tag "$image" "$tag"
	done
	# A FORCE rebuild leaves the previous image untagged; removed at the end (children first).
	if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
		STALE+=("$old_id")
	fi
	log "$image ($(human_size "$image")) -> $tags"
	SUMMARY+=("$image $(human_size "$image"): $tags")
}

# Package installs inside the Dockerfiles: one RUN each, lists removed like the official images.
APT_INSTALL='apt-get update && apt-get install -y --no-install-recommends'
APT_CLEAN='rm -rf /var/lib/apt/lists/*'

# The body of a distroless stand-in: a root filesystem assembled in the Debian stage, then
# copied onto scratch. $1: static, base or cc; $2: root or nonroot (the default user).
distroless_body() {
	local variant=$1 user=$2 pkgs=""
	case $variant in
	base) pkgs="libc6 libssl3" ;;
	cc) pkgs="libc6 libssl3 libgcc-s1 libstdc++6 libgomp1" ;;
	esac
	cat <<BODY
RUN $APT_INSTALL tzdata && $APT_CLEAN \\
 && mkdir -p /rootfs/etc/ssl/certs /rootfs/usr/share /rootfs/usr/lib /rootfs/usr/lib64 /rootfs/tmp /rootfs/root /rootfs/home/nonroot \\
 && ln -s usr/lib /rootfs/lib && ln -s usr/lib64 /rootfs/lib64 \\
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \\
 && cp -a /usr/share/zoneinfo /rootfs/usr/share/ \\
 && chmod 1777 /rootfs/tmp && chmod 700 /rootfs/root && chown 65532:65532 /rootfs/home/nonroot \\
 && printf 'root:x:0:0:root:/root:/sbin/nologin\\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\\n' >/rootfs/etc/passwd \\
 && printf 'root:x:0:\\nnobody:x:65534:\\ntty:x:5:\\nstaff:x:50:\\nnonroot:x:65532:\\n' >/rootfs/etc/group \\
 && printf 'hosts: files dns\\n' >/rootfs/etc/nsswitch.conf \\
 && cp /etc/os-release /rootfs/etc/os-release \\
 && for p in true $pkgs; do [ "\$p" = true ] || dpkg -L "\$p" | while read -r f; do \\
      if [ -f "\$f" ] || [ -L "\$f" ]; then case "\$f" in /usr/share/doc/*|/usr/share/lintian/*|/usr/share/man/*|/usr/share/locale/*) ;; \\
        *) d=\$(readlink -f "\$(dirname "\$f")"); mkdir -p "/rootfs\$d"; cp -a "\$f" "/rootfs\$d/" ;; esac; fi; \\
    done; done
FROM scratch
COPY --from=0 /rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
BODY
	if [ "$user" = nonroot ]; then
		printf 'USER 65532\nWORKDIR /home/nonroot\n'
	fi
}

# --- step 3: a Dockerfile frontend image for `# syntax=` lines and heredocs ------------------

# Debian trixie's docker.io source ships BuildKit (v0.13) as an extra upstream tarball; its Go
# dependencies are Debian golang-*-dev packages, and bookworm-backports has a recent enough Go.
# Everything is fetched with apt using a private configuration (the system's apt state and
# sources are untouched) from the mirror of this machine's apt sources.
readonly FRONTEND_TAGS="docker/dockerfile:1.4 docker/dockerfile:1 docker/dockerfile:1.5 docker/dockerfile:1.6 docker/dockerfile:1.7"
readonly FRONTEND_IMAGE="dopt-standin/dockerfile-frontend:$SUITE"

build_dockerfile_frontend() {
	local work="$CACHE_DIR/frontend" m apt_conf gopath goroot buildkit
	m=$(mirror)
	mkdir -p "$work"/apt/lists/partial "$work"/apt/cache/archives/partial "$work"/dl "$work"/debs
	local key=/usr/share/keyrings/debian-archive-keyring.gpg
	printf 'deb [signed-by=%s] %s trixie main\ndeb-src [signed-by=%s] %s trixie main\ndeb [signed-by=%s] %s bookworm-backports main\n' \
		"$key" "$m" "$key" "$m" "$key" "$m" >"$work/apt/sources.list"
	apt_conf="$work/apt/apt.conf"
	printf 'Dir::Etc::sourcelist "%s";\nDir::Etc::sourceparts "-";\nDir::State::Lists "%s";\nDir::Cache "%s";\nAPT::Sandbox::User "root";\n' \
		"$work/apt/sources.list" "$work/apt/lists" "$work/apt/cache" >"$apt_conf"
	log "frontend: fetching package indexes (private apt configuration)"
	APT_CONFIG=$apt_conf apt-get update >"$work/apt.log" 2>&1 || die "apt-get update for the frontend failed, see $work/apt.log"

	# BuildKit source and Debian's packaging (for its Build-Depends and patches). The .dsc of
	# a security revision may be missing from the mirror; the tarballs are what we need.
	if ! compgen -G "$work/dl/docker.io_*.orig-buildkit.tar.xz" >/dev/null; then
		(cd "$work/dl" && APT_CONFIG=$apt_conf apt-get source --download-only docker.io >>"$work/apt.log" 2>&1) || true
	fi
	local buildkit_tar debian_tar
	buildkit_tar=$(compgen -G "$work/dl/docker.io_*.orig-buildkit.tar.xz" | head -n1)
	debian_tar=$(compgen -G "$work/dl/docker.io_*.debian.tar.xz" | head -n1)
	if [ -z "$buildkit_tar" ] || [ -z "$debian_tar" ]; then
		die "could not download the docker.io source from trixie, see $work/apt.log"
	fi
	rm -rf "$work/src" && mkdir -p "$work/src"
	tar -C "$work/src" -xf "$buildkit_tar"
	tar -C "$work/src" -xf "$debian_tar"

	# Go from bookworm-backports (BuildKit 0.13 needs Go >= 1.21).
	goroot="$work/goroot/usr/lib/go-1.22"
	if [ ! -x "$goroot/bin/go" ]; then
		(cd "$work/dl" && APT_CONFIG=$apt_conf apt-get download -t bookworm-backports golang-1.22-go golang-1.22-src >>"$work/apt.log" 2>&1) ||
			die "could not download Go 1.22 from bookworm-backports, see $work/apt.log"
		local deb
		for deb in "$work"/dl/golang-1.22-*.deb; do dpkg -x "$deb" "$work/goroot"; done
	fi

	# The golang-*-dev build dependencies of docker.io and their dependencies, extracted (not
	# installed) into a private tree. protobuf 1.3 and 1.5 share a path: keep 1.5, as Debian's
	# docker.io build does.
	sed -n '/^Build-Depends/,/^Standards/p' "$work/src/debian/control" | grep -o 'golang-[a-z0-9.+-]*' |
		grep -v -x -e golang-any -e golang-go | sort -u >"$work/build-deps.txt"
	# shellcheck disable=SC2046 # one package name per word
	APT_CONFIG=$apt_conf apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances $(cat "$work/build-deps.txt") 2>/dev/null |
		grep -E '^golang-.*-dev$' | grep -v -x golang-github-golang-protobuf-1-3-dev | sort -u >"$work/closure.txt"
	log "frontend: $(wc -l <"$work/closure.txt") Go library packages (source only)"
	# shellcheck disable=SC2046
	(cd "$work/debs" && APT_CONFIG=$apt_conf apt-get download $(cat "$work/closure.txt") >>"$work/apt.log" 2>&1) ||
		die "downloading the Go library packages failed, see $work/apt.log"
	rm -rf "$work/gocode" && mkdir -p "$work/gocode"
	local pkg
	while read -r pkg; do
		dpkg -x "$(compgen -G "$work/debs/${pkg}_*.deb" | head -n1)" "$work/gocode"
	done <"$work/closure.txt"

	# BuildKit in a GOPATH, with Debian's patches for its library versions.
	gopath="$work/gopath"
	buildkit="$gopath/src/github.com/moby/buildkit"
	rm -rf "$gopath" && mkdir -p "$(dirname "$buildkit")"
	cp -a "$work/src/buildkit" "$buildkit"
	local patch
	for patch in grpc-middleware-v1.patch buildkit-remove-jaeger.patch; do
		# The patches cover docker.io/{engine,buildkit}/...; hunks for the engine do not apply.
		(cd "$buildkit" && patch -p2 -N -t <"$work/src/debian/patches/$patch" >/dev/null 2>&1) || true
	done
	rm -rf "$buildkit/api/server" # created by the engine half of grpc-middleware-v1.patch

	log "frontend: compiling dockerfile-frontend (BuildKit $(grep -o 'v0\.[0-9.]*' <<<"$buildkit_tar" || echo from docker.io source))"
	(cd "$buildkit" && GO111MODULE=off GOPATH="$gopath:$work/gocode/usr/share/gocode" GOROOT="$goroot" \
		CGO_ENABLED=0 GOCACHE="$work/gocache" GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-trimpath \
		"$goroot/bin/go" build -o "$work/rootfs/bin/dockerfile-frontend" -ldflags '-s -w' \
		./frontend/dockerfile/cmd/dockerfile-frontend) >"$work/go-build.log" 2>&1 ||
		die "compiling the frontend failed, see $work/go-build.log"

	tar --numeric-owner --owner=0 --group=0 -C "$work/rootfs" -cf "$work/frontend.tar" bin
	# The labels the official image carries: BuildKit reads them to grant capabilities.
	docker import \
		--change 'ENTRYPOINT ["/bin/dockerfile-frontend"]' \
		--change 'LABEL moby.buildkit.frontend.network.none="true"' \
		--change 'LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"' \
		--change 'LABEL org.dopt.standin=true org.dopt.standin.flavor=dockerfile-frontend' \
		--change "LABEL org.dopt.standin.contents=\"BuildKit Dockerfile frontend built from Debian trixie docker.io source\"" \
		"$work/frontend.tar" "$FRONTEND_IMAGE" >/dev/null
	# Keep the downloads (dl/, debs/, goroot/); the extracted trees are ~2 GB.
	rm -rf "$work/gocode" "$work/gopath" "$work/src" "$work/gocache" "$work/rootfs" "$work/frontend.tar"
}

frontend_image() {
	if [ "${DOPT_STANDIN_FRONTEND:-1}" = 0 ]; then
		log "skipping the Dockerfile frontend (DOPT_STANDIN_FRONTEND=0)"
		return
	fi
	if image_exists "$FRONTEND_IMAGE" && [ "${FORCE:-0}" != 1 ]; then
		log "$FRONTEND_IMAGE exists, skipping build"
	else
		timed "build $FRONTEND_IMAGE" build_dockerfile_frontend
	fi
	local tag
	for tag in $FRONTEND_TAGS; do
		if image_exists "$tag" && ! is_standin "$tag"; then
			log "not tagging $tag: a real (non-stand-in) image already has that name"
			continue
		fi
		docker tag "$FRONTEND_IMAGE" "$tag"
	done
	SUMMARY+=("$FRONTEND_IMAGE $(human_size "$FRONTEND_IMAGE"): $FRONTEND_TAGS")
}

main() {
	[ "$(id -u)" = 0 ] || die "run as root (debootstrap needs it)"
	docker info >/dev/null 2>&1 || die "docker engine not reachable; run .ci/docker-setup.sh first"
	mkdir -p "$CACHE_DIR"

	if image_exists "$ROOT_IMAGE"; then
		log "$ROOT_IMAGE exists"
	else
		if [ -s "$ROOTFS_TAR" ]; then
			log "using cached rootfs $ROOTFS_TAR"
		else
			timed "debootstrap" make_rootfs_tar
		fi
		timed "docker import $ROOT_IMAGE" import_root_image "$ROOTFS_TAR" "$ROOT_IMAGE"
	fi
	if image_exists "$SLIM_ROOT_IMAGE"; then
		log "$SLIM_ROOT_IMAGE exists"
	else
		timed "docker import $SLIM_ROOT_IMAGE (pruned docs/man/locales)" import_slim_root_image
	fi

	build_flavor debian-slim "$SLIM_ROOT_IMAGE" "Debian $SUITE minbase, docs/man/locales excluded" \
		"debian:bookworm-slim debian:12-slim debian:stable-slim" <<'BODY'
BODY

	build_flavor debian-ca "$ROOT_IMAGE" "Debian $SUITE minbase" \
		"debian:bookworm debian:12 debian:stable debian:latest" <<'BODY'
BODY

	# buildpack-deps: the official non-slim python/node/golang images derive from it
	# (compilers, git, curl), which is what makes them large; keep that property.
	build_flavor buildpack-deps dopt-standin/debian-ca:$SUITE "Debian $SUITE + curl git build-essential" \
		"buildpack-deps:bookworm buildpack-deps:bookworm-scm buildpack-deps:bookworm-curl" <<BODY
RUN $APT_INSTALL curl wget git openssh-client procps build-essential pkg-config && $APT_CLEAN
BODY

	local python_setup
	python_setup="RUN $APT_INSTALL python3 python3-venv python3-pip && $APT_CLEAN \\
 && ln -s /usr/bin/python3 /usr/local/bin/python && ln -s /usr/bin/pip3 /usr/local/bin/pip \\
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
ENV PYTHONUNBUFFERED=1
CMD [\"python3\"]"
	# The official python images install into a private prefix, so pip may install system-wide;
	# Debian marks its python EXTERNALLY-MANAGED (PEP 668), which we remove for the same effect.
	build_flavor python-slim dopt-standin/debian-slim:$SUITE "Debian $SUITE python3 (3.11) + pip + venv" \
		"python:3.11-slim python:3.11-slim-bookworm python:3.12-slim python:3.10-slim python:3.9-slim python:3-slim python:slim python:3.10-alpine python:3.11-alpine python:alpine" <<<"$python_setup"
	build_flavor python dopt-standin/buildpack-deps:$SUITE "buildpack-deps + Debian $SUITE python3 (3.11) + pip + venv + python3-dev" \
		"python:3.11 python:3.11-bookworm python:3.12 python:3.10 python:3.9 python:3 python:latest" <<<"${python_setup/python3-pip/python3-pip python3-dev}"

	# node: Debian's nodejs (18.x) and npm; a `node` user with uid/gid 1000 like the official image.
	local node_setup
	node_setup="RUN $APT_INSTALL nodejs npm && $APT_CLEAN \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
CMD [\"node\"]"
	build_flavor node-slim dopt-standin/debian-slim:$SUITE "Debian $SUITE nodejs (18.x) + npm" \
		"node:20-slim node:18-slim node:22-slim node:current-slim node:lts-slim node:lts-buster-slim node:22-bookworm-slim node:20-bookworm-slim node:slim node:14.17.3-alpine3.14 node:20-alpine node:18-alpine node:lts-alpine node:alpine" <<<"$node_setup"
	build_flavor node dopt-standin/buildpack-deps:$SUITE "buildpack-deps + Debian $SUITE nodejs (18.x) + npm" \
		"node:20 node:18 node:22 node:current node:lts node:latest node:20-bookworm" <<<"$node_setup"

	# golang: Debian's golang-go (1.19) at the official paths (/usr/local/go, GOPATH=/go).
	build_flavor golang dopt-standin/buildpack-deps:$SUITE "buildpack-deps + Debian $SUITE golang-go (1.19)" \
		"golang:1.21 golang:1.21-bookworm golang:1.22 golang:1.20 golang:1.19 golang:1.18 golang:latest golang:1.18-alpine golang:alpine" <<BODY
RUN $APT_INSTALL golang-go && $APT_CLEAN \\
 && mkdir -p /usr/local/go /go/bin /go/src && ln -s /usr/lib/go/bin /usr/local/go/bin
ENV GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /go
BODY

	# rust: Debian's rustc and cargo (1.63) on buildpack-deps like the official image, with its
	# CARGO_HOME (/usr/local/cargo, bin on PATH) so `cargo install` lands where it would.
	build_flavor rust dopt-standin/buildpack-deps:$SUITE "buildpack-deps + Debian $SUITE rustc + cargo (1.63)" \
		"rust:1.79 rust:1.79-bookworm rust:1 rust:bookworm rust:latest" <<BODY
RUN $APT_INSTALL rustc cargo && $APT_CLEAN && mkdir -p /usr/local/cargo/bin
ENV CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
BODY

	# eclipse-temurin: Debian's OpenJDK 17 (headless).
	build_flavor jdk dopt-standin/debian-ca:$SUITE "Debian $SUITE openjdk-17-jdk-headless" \
		"eclipse-temurin:17-jdk eclipse-temurin:17 openjdk:17 openjdk:17-jdk" <<BODY
RUN mkdir -p /usr/share/man/man1 && $APT_INSTALL openjdk-17-jdk-headless && $APT_CLEAN \\
 && ln -s /usr/lib/jvm/java-17-openjdk-amd64 /opt/java
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
CMD ["jshell"]
BODY

	# eclipse-temurin JRE: Debian's OpenJDK 17 runtime (headless) at the official JAVA_HOME.
	build_flavor jre dopt-standin/debian-ca:$SUITE "Debian $SUITE openjdk-17-jre-headless" \
		"eclipse-temurin:17-jre eclipse-temurin:17-jre-jammy eclipse-temurin:17-jre-noble" <<BODY
RUN mkdir -p /usr/share/man/man1 /opt/java && $APT_INSTALL openjdk-17-jre-headless && $APT_CLEAN \\
 && ln -s /usr/lib/jvm/java-17-openjdk-amd64 /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
BODY

	# distroless: no shell, no package manager; /etc/passwd with root, nobody and nonroot
	# (65532), CA certificates, tzdata; base adds glibc and libssl, cc adds libgcc and
	# libstdc++. The `:nonroot` tags run as 65532 like the official ones.
	local variant user tags
	for variant in static base cc; do
		for user in root nonroot; do
			tags="gcr.io/distroless/$variant-debian12 gcr.io/distroless/$variant"
			if [ "$user" = nonroot ]; then
				tags="gcr.io/distroless/$variant-debian12:nonroot gcr.io/distroless/$variant:nonroot"
			fi
			distroless_body "$variant" "$user" |
				build_flavor "distroless-$variant-$user" dopt-standin/debian-ca:$SUITE \
					"distroless $variant ($user) from Debian $SUITE packages" "$tags"
		done
	done

	frontend_image

	local i
	for ((i = ${#STALE[@]} - 1; i >= 0; i--)); do
		if image_exists "${STALE[i]}"; then
			docker rmi "${STALE[i]}" >/dev/null 2>&1 || log "could not remove replaced image ${STALE[i]}"
		fi
	done

	log "summary:"
	printf '  %s\n' "${SUMMARY[@]}" >&2
}

main "$@"
