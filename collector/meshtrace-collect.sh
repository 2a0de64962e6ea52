#!/bin/sh
# meshtrace-collect.sh: captures one node for meshtrace (reads only; see usage below).
#
# Run as root on a Docker (Swarm) node. It prints one meshtrace bundle: for the host network
# namespace and every namespace it finds (Docker's under /var/run/docker/netns, and the
# `ip netns list` ones under /var/run/netns), each section is
#
#     ### meshtrace node=<node> ns=<namespace> cmd=<the command that printed it>
#
# followed by that command's output verbatim (../shared/spec/capture-format.md). A tool that is
# missing or fails leaves a `# meshtrace: ...` note section instead of stopping the capture.
#
# It only reads. In particular it never runs `iptables-save -t TABLE` (legacy iptables would load
# and create the table), never runs ipvsadm when IPVS is not loaded (ipvsadm's main() runs
# `modprobe ip_vs` when it cannot reach IPVS), and never runs nft next to a legacy iptables
# (nfnetlink could load nf_tables for it). Temporary files live in a private folder that is
# removed on exit.
#
# POSIX sh: runs under dash, bash and busybox sh, also as `ssh NODE sudo sh -s < this-file`.
# Everything runs from main() at the end, so a truncated script does nothing.

MT_VERSION=1

# Kernel settings the model reads (src/core/sim: ip_forward, forwarding, rp_filter,
# route_localnet, bridge-nf-call-*, vs.*) and a few more that decide forwarding.
SYSCTL_RE='^net\.(ipv4\.(ip_forward|ip_nonlocal_bind|conf\.[^.]+\.(forwarding|rp_filter|route_localnet|accept_local|src_valid_mark|proxy_arp)|vs\.)|bridge\.bridge-nf-|ipv6\.conf\.(all|default)\.(forwarding|disable_ipv6)|netfilter\.nf_conntrack_(max|tcp_loose|tcp_be_liberal)) '

usage() {
	cat <<'EOF'
usage: meshtrace-collect.sh [options]          (as root on the node)
       ssh NODE sudo sh -s < meshtrace-collect.sh > NODE.txt

Prints one meshtrace bundle of this node: the host network namespace and every namespace under
/var/run/docker/netns and /var/run/netns (`ip netns list`), and Docker's JSON where the docker
CLI answers. It only reads; a tool that is missing or fails leaves a `# meshtrace:` note.

options:
  -o, --output FILE        write the bundle to FILE (atomically; owned by $SUDO_UID under sudo)
      --ns LIST            only these namespaces: comma-separated names or shell patterns
                           (`host`, `ingress_sbox`, `lb_*`); may be repeated
      --node NAME          node name in the bundle (default: uname -n)
      --redact             replace host names, MAC addresses and IP addresses outside Docker's
                           ranges (10/8, 172.16/12, 192.168/16, fd00::/8) and the special ones,
                           consistently in every dump; drop containers' Env
      --redact-key HEX     the key of the replacement (>= 32 hex digits; implies --redact): give
                           every node the same key so that all bundles agree
      --redact-map FILE    write each original and its replacement to FILE (keep it private)
      --redact-only        redact a bundle read on stdin instead of capturing
      --docker-cli PROG    the docker CLI to ask (default: docker)
      --docker-netns-dir DIR  where Docker keeps its namespaces (default: /var/run/docker/netns)
      --netns-dir DIR      where `ip netns` keeps its namespaces (default: /var/run/netns)
      --no-docker          do not ask the docker CLI
      --timeout SECONDS    give up on one command after this long (default: 120)
  -q, --quiet              no progress on stderr
  -h, --help               this text
EOF
}

die() {
	printf 'meshtrace-collect: %s\n' "$*" >&2
	exit 2
}

progress() {
	[ "$QUIET" = 1 ] || printf 'meshtrace-collect: %s\n' "$*" >&2
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# Runs a command with the per-command time limit, when a `timeout` program exists (coreutils and
# newer busybox take `timeout SECS`, busybox before 1.30 `timeout -t SECS`).
with_timeout() {
	case $TO_MODE in
	new) timeout "$TIMEOUT" "$@" ;;
	old) timeout -t "$TIMEOUT" "$@" ;;
	*) "$@" ;;
	esac
}

# run_in NSPATH PROG [ARGS...]: runs PROG in the network namespace bound at NSPATH ('' = ours).
# nsenter --net only switches the network namespace: /proc/sys/net and netlink then answer for
# it, which is all these tools read.
run_in() {
	ri_path=$1
	shift
	if [ -z "$ri_path" ]; then
		with_timeout "$@"
	else
		with_timeout nsenter --net="$ri_path" -- "$@"
	fi
}

# section NS CMD: one bundle header.
section() {
	printf '### meshtrace node=%s ns=%s cmd=%s\n' "$NODE" "$1" "$2"
}

# cat_nl FILE: prints FILE, and a newline when its last line has none (so the next header
# starts a line). A line of output that looks like a bundle header is indented by one space.
cat_nl() {
	[ -s "$1" ] || return 0
	if grep -q '^### meshtrace' "$1"; then
		sed 's/^### meshtrace/ ### meshtrace/' "$1"
	else
		cat "$1"
	fi
	case $(tail -c 1 "$1" | od -An -tx1) in
	*0a*) ;;
	*) echo ;;
	esac
}

# note NS MESSAGE [FILE]: a note section; FILE's first lines (a command's stderr) are quoted.
note() {
	section "$1" 'meshtrace-collect note'
	printf '# meshtrace: %s\n' "$2"
	if [ -n "${3-}" ] && [ -s "$3" ]; then
		head -n 20 "$3" | awk '{ print "# meshtrace:   " $0 }'
	fi
}

# note_once KEY NS MESSAGE: a note given once per node (a missing tool, IPVS not loaded).
note_once() {
	case $NOTED in
	*" $1 "*) return 0 ;;
	esac
	NOTED="$NOTED$1 "
	note "$2" "$3"
}

rc_hint() {
	case $1 in
	124 | 143) printf ', timed out after %ss?' "$TIMEOUT" ;;
	esac
}

# emit NS CMD RC: the section from $OUT_F (unless the command failed and printed nothing: an
# empty section would read as "nothing there"), then a note when it failed or wrote to stderr.
emit() {
	if [ "$3" -eq 0 ] || [ -s "$OUT_F" ]; then
		section "$1" "$2"
		cat_nl "$OUT_F"
	fi
	if [ "$3" -ne 0 ]; then
		note "$1" "\`$2\` failed (exit $3$(rc_hint "$3"))" "$ERR_F"
	elif [ -s "$ERR_F" ]; then
		note "$1" "\`$2\` wrote to stderr" "$ERR_F"
	fi
}

# dump NS NSPATH CMD PROG [ARGS...]: runs PROG in the namespace and prints its section.
dump() {
	d_ns=$1
	d_path=$2
	d_cmd=$3
	shift 3
	run_in "$d_path" "$@" </dev/null >"$OUT_F" 2>"$ERR_F"
	d_rc=$?
	emit "$d_ns" "$d_cmd" "$d_rc"
}

dump_sysctl() {
	run_in "$2" sysctl -a </dev/null >"$RAW_F" 2>/dev/null
	s_rc=$?
	grep -E "$SYSCTL_RE" "$RAW_F" >"$OUT_F"
	if [ -s "$OUT_F" ]; then
		section "$1" "sysctl -a 2>/dev/null | grep -E '$SYSCTL_RE'"
		cat_nl "$OUT_F"
	else
		note "$1" "\`sysctl -a\` printed none of the forwarding settings (exit $s_rc)"
	fi
}

# capture_ns NS NSPATH: every dump of one namespace.
capture_ns() {
	c_ns=$1
	c_path=$2
	if [ -n "$c_path" ] && ! have nsenter; then
		note_once nsenter host 'nsenter (util-linux) is not installed: only the host namespace is in this capture'
		return 0
	fi
	if [ -n "$c_path" ] && ! run_in "$c_path" true </dev/null >/dev/null 2>"$ERR_F"; then
		note "$c_ns" "cannot enter the namespace at $c_path (gone?); nothing captured for it" "$ERR_F"
		return 0
	fi
	for c_tool in iptables-save ip6tables-save; do
		if have "$c_tool"; then
			dump "$c_ns" "$c_path" "$c_tool -c" "$c_tool" -c
		else
			note_once "$c_tool" host "$c_tool is not installed: no $c_tool dumps in this capture"
		fi
	done
	if have ip; then
		dump "$c_ns" "$c_path" 'ip -d addr' ip -d addr
		dump "$c_ns" "$c_path" 'ip -j -d addr' ip -j -d addr
		dump "$c_ns" "$c_path" 'ip route show table all' ip route show table all
		dump "$c_ns" "$c_path" 'ip rule' ip rule
		dump "$c_ns" "$c_path" 'ip neigh' ip neigh
	else
		note_once ip host 'ip (iproute2) is not installed: no addresses, routes, rules or neighbours in this capture'
	fi
	if have bridge; then
		dump "$c_ns" "$c_path" 'bridge fdb show' bridge fdb show
	else
		note_once bridge host 'bridge (iproute2) is not installed: no bridge fdb dumps in this capture'
	fi
	if ! have ipvsadm; then
		note_once ipvsadm host 'ipvsadm is not installed: no IPVS tables in this capture (Swarm load balancing is unknown)'
	elif [ ! -e /proc/net/ip_vs ]; then
		note_once ipvs host 'IPVS is not loaded in this kernel (no /proc/net/ip_vs): ipvsadm not run, as it would load the ip_vs module'
	else
		dump "$c_ns" "$c_path" 'ipvsadm -Ln' ipvsadm -Ln
		dump "$c_ns" "$c_path" 'ipvsadm -S -n' ipvsadm -S -n
	fi
	if have sysctl; then
		dump_sysctl "$c_ns" "$c_path"
	else
		note_once sysctl host 'sysctl is not installed: no kernel settings in this capture'
	fi
	if [ "$NFT_OK" = 1 ]; then
		run_in "$c_path" nft list ruleset </dev/null >"$OUT_F" 2>"$ERR_F"
		n_rc=$?
		# iptables-nft's tables carry this warning; it says nothing about the capture.
		grep -v '^# Warning: table .* is managed by iptables-nft, do not touch!$' "$ERR_F" >"$RAW_F"
		cat "$RAW_F" >"$ERR_F"
		emit "$c_ns" 'nft list ruleset' "$n_rc"
	fi
}

# ino FILE: the inode number of FILE after symlinks; one network namespace has one nsfs inode,
# however many names (bind mounts) it has.
ino() {
	# shellcheck disable=SC2012 # ls -i is the POSIX way to an inode number (stat is not POSIX)
	ls -dLi -- "$1" 2>/dev/null | awk '{ print $1; exit }'
}

# add_ns NAME PATH: appends one namespace to the list, under a unique header-safe name.
add_ns() {
	a_name=$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.:@-' '_')
	[ -n "$a_name" ] || a_name=_
	a_base=$a_name
	a_n=1
	while :; do
		case $USED in
		*" $a_name "*) ;;
		*) break ;;
		esac
		a_n=$((a_n + 1))
		a_name=$a_base-$a_n
	done
	USED="$USED$a_name "
	printf '%s %s\n' "$a_name" "$2" >>"$NS_LIST"
}

# scan_dir DIR: namespaces bound under DIR, each once (the host's own is skipped: Docker's
# `default` is a bind of it).
scan_dir() {
	[ -d "$1" ] || return 0
	for s_f in "$1"/*; do
		[ -e "$s_f" ] || continue
		case $s_f in
		*'
'*) continue ;;
		esac
		s_i=$(ino "$s_f")
		[ -n "$s_i" ] || continue
		case $SEEN in
		*" $s_i "*) continue ;;
		esac
		SEEN="$SEEN$s_i "
		add_ns "${s_f##*/}" "$s_f"
	done
}

# wanted NAME: whether --ns selects NAME.
wanted() {
	[ -z "$NS_FILTER" ] && return 0
	w_found=1
	w_ifs=$IFS
	IFS=,
	set -f
	for w_pat in $NS_FILTER; do
		# shellcheck disable=SC2254 # the pattern is meant to glob
		case $1 in
		$w_pat) w_found=0 ;;
		esac
	done
	set +f
	IFS=$w_ifs
	return $w_found
}

# Docker's JSON, from the node's docker CLI, when it answers.
capture_docker() {
	if [ "$NO_DOCKER" = 1 ]; then
		note host 'Docker was not asked (--no-docker): no Docker JSON in this capture'
		return 0
	fi
	if ! have "$DOCKER"; then
		note host "no docker CLI ($DOCKER) on this node: no \`docker network inspect\`, \`docker service inspect\`, \`docker node ls\` or \`docker inspect\` in this capture, so namespaces are known by their netns names only"
		return 0
	fi
	run_in "" "$DOCKER" version --format '{{.Server.Version}}' </dev/null >"$OUT_F" 2>"$ERR_F"
	k_rc=$?
	if [ "$k_rc" -ne 0 ]; then
		note host "the docker CLI did not answer (\`docker version\` exit $k_rc$(rc_hint "$k_rc")): no Docker JSON in this capture" "$ERR_F"
		return 0
	fi
	[ -d "$DOCKER_NETNS_DIR" ] || note host "$DOCKER_NETNS_DIR does not exist: Docker's sandboxes are not in this capture (dockerd with another --exec-root? use --docker-netns-dir)"

	docker_ids network ls -q || return 0
	if [ -n "$IDS" ]; then
		# shellcheck disable=SC2016,SC2086 # the header names the command; ids are plain words (docker_ids)
		dump host '' 'docker network inspect -v $(docker network ls -q)' "$DOCKER" network inspect -v $IDS
	fi
	if docker_ids service ls -q && [ -n "$IDS" ]; then
		# shellcheck disable=SC2016,SC2086
		dump host '' 'docker service inspect $(docker service ls -q)' "$DOCKER" service inspect $IDS
	fi
	dump host '' "docker node ls --format '{{json .}}'" "$DOCKER" node ls --format '{{json .}}'
	if docker_ids ps -q && [ -n "$IDS" ]; then
		# shellcheck disable=SC2016,SC2086
		dump host '' 'docker inspect $(docker ps -q)' "$DOCKER" inspect $IDS
	fi
}

# docker_ids ARGS...: sets IDS to the ids `docker ARGS` prints (plain words only); a failure
# leaves a note and returns 1.
docker_ids() {
	IDS=''
	run_in "" "$DOCKER" "$@" </dev/null >"$OUT_F" 2>"$ERR_F"
	i_rc=$?
	if [ "$i_rc" -ne 0 ]; then
		note host "\`docker $*\` failed (exit $i_rc$(rc_hint "$i_rc"))" "$ERR_F"
		return 1
	fi
	while IFS= read -r i_id; do
		case $i_id in
		'' | *[!A-Za-z0-9_.-]*) continue ;;
		esac
		IDS="$IDS $i_id"
	done <"$OUT_F"
	return 0
}

# The redaction, in POSIX awk (mawk, gawk, busybox and one-true-awk give the same bytes). It reads
# the bundle twice: pass 1 collects host names (node= of every header, and the Hostname of
# `docker node ls`), pass 2 rewrites.
#
# IP addresses: a keyed, prefix-preserving permutation (the Crypto-PAn construction: bit i of the
# result is bit i of the address flipped by a keyed function of the bits before it), so every
# subnet, route and rule keeps its meaning. Addresses inside the kept ranges stay as they are, and
# the permutation never flips a bit above a kept range, so nothing else can land in one:
# 0/8, 10/8, 127/8, 169.254/16, 172.16/12, 192.168/16 (Docker's default pools: swarm's
# default-addr-pool 10.0.0.0/8, bridges from 172.17-31 and 192.168), 224/3 (multicast, reserved,
# masks); ::/127, fd00::/8 (Docker's ULA pools), ff00::/8; fe80::/64 and ::ffff:0:0/96 keep their
# prefix only. `A/len` with no host bits set stays a network (host bits zero).
# MAC addresses: multicast, zero and broadcast ones stay; Docker's 02:42:<IPv4> follow their
# IPv4; others keep their first octet and the rest is permuted the same way.
# Host names: node-<10 hex digits> from a keyed hash, in headers, in quoted JSON strings, and
# (names of 3+ characters that are no keyword) as whole words anywhere.
# The key: >= 32 hex digits, expanded into a byte permutation by RC4's key schedule; the same key
# gives the same replacements on every node. This hides addresses from readers of a public issue;
# it is not encryption.
# shellcheck disable=SC2016 # awk program, not shell
REDACT_AWK='
function fail(msg) { printf "meshtrace-collect: %s\n", msg > "/dev/stderr"; failed = 1; exit 2 }
function bits8(n,   s, i) { s = ""; for (i = 0; i < 8; i++) { s = (n % 2) s; n = int(n / 2) } return s }
function bits16(n,   s, i) { s = ""; for (i = 0; i < 16; i++) { s = (n % 2) s; n = int(n / 2) } return s }
function num(b,   n, i) { n = 0; for (i = 1; i <= length(b); i++) n = n * 2 + substr(b, i, 1); return n }
function zeros(n,   s) { s = ""; while (n-- > 0) s = s "0"; return s }
function v4bits(t,   o, n, i, b) {
  n = split(t, o, ".")
  if (n != 4) return ""
  b = ""
  for (i = 1; i <= 4; i++) {
    if (o[i] !~ /^[0-9]+$/ || length(o[i]) > 3 || o[i] + 0 > 255) return ""
    b = b bits8(o[i] + 0)
  }
  return b
}
function v4str(b) { return num(substr(b, 1, 8)) "." num(substr(b, 9, 8)) "." num(substr(b, 17, 8)) "." num(substr(b, 25, 8)) }
function hexgroup(g,   n, i, c) {
  if (g !~ /^[0-9A-Fa-f]+$/ || length(g) > 4) return ""
  n = 0
  for (i = 1; i <= length(g); i++) n = n * 16 + HX[substr(g, i, 1)]
  return bits16(n)
}
function v6bits(t,   i, q, b4, dbl, left, right, nl, nr, L, R, b, g) {
  QUAD = 0
  if (index(t, ".")) {
    for (i = length(t); i > 0; i--) if (substr(t, i, 1) == ":") break
    if (i == 0) return ""
    b4 = v4bits(substr(t, i + 1))
    if (b4 == "") return ""
    t = substr(t, 1, i) sprintf("%x:%x", num(substr(b4, 1, 16)), num(substr(b4, 17, 16)))
    QUAD = 1
  }
  dbl = index(t, "::")
  if (dbl) {
    if (index(substr(t, dbl + 1), "::")) return ""
    left = substr(t, 1, dbl - 1); right = substr(t, dbl + 2)
  } else { left = t; right = "" }
  nl = (left == "") ? 0 : split(left, L, ":")
  nr = (right == "") ? 0 : split(right, R, ":")
  if (dbl) { if (nl + nr > 7) return "" } else if (nl != 8) return ""
  b = ""
  for (i = 1; i <= nl; i++) { g = hexgroup(L[i]); if (g == "") return ""; b = b g }
  if (dbl) for (i = nl + nr; i < 8; i++) b = b zeros(16)
  for (i = 1; i <= nr; i++) { g = hexgroup(R[i]); if (g == "") return ""; b = b g }
  return b
}
function fmt6(b, quad,   n, i, G, best, bl, cs, cl, s) {
  n = quad ? 6 : 8
  for (i = 1; i <= n; i++) G[i] = num(substr(b, (i - 1) * 16 + 1, 16))
  best = 0; bl = 0; cl = 0; cs = 0
  for (i = 1; i <= n; i++) {
    if (G[i] == 0) { if (cl == 0) cs = i; cl++; if (cl > bl) { bl = cl; best = cs } } else cl = 0
  }
  if (bl < 2) best = 0
  s = ""
  for (i = 1; i <= n; i++) {
    if (best && i == best) { s = s "::"; i += bl - 1; continue }
    if (s != "" && substr(s, length(s)) != ":") s = s ":"
    s = s sprintf("%x", G[i])
  }
  if (quad) { if (substr(s, length(s)) != ":") s = s ":"; s = s v4str(substr(b, 97, 32)) }
  return s
}
function keep(f, bits, len, full,   l) {
  NK[f]++
  KB[f, NK[f]] = substr(bits, 1, len); KF[f, NK[f]] = full
  for (l = 0; l < len; l++) ANC[f, substr(bits, 1, l)] = 1
}
function kept(f, b,   i, k) {
  for (i = 1; i <= NK[f]; i++) if (KF[f, i]) { k = KB[f, i]; if (substr(b, 1, length(k)) == k) return 1 }
  return 0
}
# The permutation: the decision at each prefix comes from a 4-byte state that walks the prefix.
function perm(f, b,   n, i, bit, flip, h0, h1, h2, h3, out, p) {
  if ((f, b) in PC) return PC[f, b]
  if (kept(f, b)) { PC[f, b] = b; return b }
  n = length(b)
  h0 = S[(f == "4") ? 17 : ((f == "6") ? 91 : 203)]; h1 = S[(h0 + 1) % 256]; h2 = S[(h1 + 2) % 256]; h3 = S[(h2 + 3) % 256]
  out = ""; p = ""
  for (i = 1; i <= n; i++) {
    bit = substr(b, i, 1) + 0
    if (((f, p) in ANC) || i <= MIND[f]) flip = 0
    else flip = S[(h0 + 3 * h1 + 5 * h2 + 7 * h3) % 256] % 2
    out = out ((bit + flip) % 2)
    h0 = S[(h0 + S[(h3 + 2 * bit + i) % 256]) % 256]
    h1 = S[(h1 + S[(h0 + bit + 7) % 256]) % 256]
    h2 = S[(h2 + S[(h1 + 11 * bit) % 256] + i) % 256]
    h3 = S[(h3 + S[(h2 + 29 + bit) % 256]) % 256]
    p = p bit
  }
  PC[f, b] = out
  return out
}
function record(kind, from, to) {
  if (mapfile == "" || ((kind, from) in RECORDED)) return
  RECORDED[kind, from] = 1
  print kind, from, to > mapfile
}
# An address token (and its /len, taken from the front of REST): its replacement. CONSUMED is set
# to the number of characters of REST that belong to it.
function addr(tok, rest, fam,   b, pb, len, maxl, out, from) {
  CONSUMED = 0
  if (fam == "4") { b = v4bits(tok); maxl = 32 } else { b = v6bits(tok); maxl = 128 }
  if (b == "") return ""
  len = -1
  if (match(rest, /^\/[0-9]+/)) { len = substr(rest, 2, RLENGTH - 1) + 0; if (len > maxl) len = -1; else CONSUMED = RLENGTH }
  if (fam == "6" && substr(b, 1, 96) == zeros(80) "1111111111111111") {
    pb = zeros(80) "1111111111111111" perm("4", substr(b, 97))
  } else pb = perm(fam, b)
  if (len >= 0 && len < maxl && substr(b, len + 1) == zeros(maxl - len)) pb = substr(pb, 1, len) zeros(maxl - len)
  out = (fam == "4") ? v4str(pb) : fmt6(pb, QUAD)
  from = tok
  if (CONSUMED) { from = from "/" len; out = out "/" len }
  if (from != out) record(fam == "4" ? "ipv4" : "ipv6", from, out)
  return out
}
function mac(tok,   t, o, i, b, pb, out) {
  t = tolower(tok)
  if (t == "00:00:00:00:00:00" || t == "ff:ff:ff:ff:ff:ff") return tok
  split(t, o, ":")
  for (i = 1; i <= 6; i++) o[i] = HX[substr(o[i], 1, 1)] * 16 + HX[substr(o[i], 2, 1)]
  if (o[1] % 2 == 1) return tok
  if (o[1] == 2 && o[2] == 66) {
    pb = perm("4", bits8(o[3]) bits8(o[4]) bits8(o[5]) bits8(o[6]))
    out = "02:42"
    for (i = 0; i < 4; i++) out = out ":" sprintf("%02x", num(substr(pb, i * 8 + 1, 8)))
  } else {
    b = ""
    for (i = 1; i <= 6; i++) b = b bits8(o[i])
    pb = perm("m", b)
    out = sprintf("%02x", num(substr(pb, 1, 8)))
    for (i = 1; i < 6; i++) out = out ":" sprintf("%02x", num(substr(pb, i * 8 + 1, 8)))
  }
  if (out != t) record("mac", t, out)
  return out
}
# A run of hex digits, colons and dots that holds a colon: an IPv6 address, a MAC, or text
# (times, counters `[12:345]`, ports `:80`) whose colon-separated parts may still be IPv4.
function colonrun(tok, prevc, rest,   r, n, P, i, s, tail) {
  CONSUMED = 0
  tail = ""
  while (length(tok) > 1 && substr(tok, length(tok)) == ".") { tail = "." tail; tok = substr(tok, 1, length(tok) - 1) }
  if (prevc !~ /[G-Zg-z_]/ && substr(tail rest, 1, 1) !~ /[G-Zg-z0-9_]/) {
    if (tok ~ /^[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]$/) return mac(tok) tail
    r = (tail == "") ? addr(tok, rest, "6") : addr(tok, "", "6")
    if (r != "") return r tail
  }
  n = split(tok, P, ":")
  s = ""
  for (i = 1; i <= n; i++) {
    if (i > 1) s = s ":"
    if (P[i] ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ && v4bits(P[i]) != "") s = s addr(P[i], "", "4")
    else s = s P[i]
  }
  return s tail
}
function addrs(s,   out, pre, tok, prevc, r) {
  if (index(s, ".") == 0 && index(s, ":") == 0) return s
  out = ""
  while (match(s, /[0-9A-Fa-f]*:[0-9A-Fa-f:.]*|[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/)) {
    pre = substr(s, 1, RSTART - 1)
    tok = substr(s, RSTART, RLENGTH)
    s = substr(s, RSTART + RLENGTH)
    out = out pre
    prevc = substr(out, length(out), 1)
    if (index(tok, ":")) r = colonrun(tok, prevc, s)
    else {
      r = ""
      if (prevc !~ /[0-9A-Za-z.]/ && substr(s, 1, 1) !~ /[0-9A-Za-z_]/ && !(substr(s, 1, 1) == "." && substr(s, 2, 1) ~ /[0-9]/)) r = addr(tok, s, "4")
      if (r == "") { r = tok; CONSUMED = 0 }
    }
    out = out r
    s = substr(s, CONSUMED + 1)
  }
  return out s
}
function hostmap(name,   i, c, a, b, d, e, k, out) {
  a = S[7]; b = S[101]; d = S[211]; e = S[53]
  for (i = 1; i <= length(name); i++) {
    c = ORD[substr(name, i, 1)] + 0
    a = S[(a + c + i) % 256]; b = S[(b + a + 3) % 256]; d = S[(d + b + c) % 256]; e = S[(e + d + 17) % 256]
  }
  out = ""
  for (k = 0; k < 5; k++) {
    a = S[(a + e + k) % 256]; b = S[(b + a) % 256]; d = S[(d + b + 5) % 256]; e = S[(e + d) % 256]
    out = out sprintf("%02x", S[(a + 2 * b + 3 * d + 5 * e) % 256])
  }
  return "node-" out
}
function addhost(name) {
  if (name == "" || (name in HM) || name ~ /^node-[0-9a-f]+$/) return
  HM[name] = hostmap(name)
  record("host", name, HM[name])
  NH++; HL[NH] = name
  HQ[name] = (length(name) < 3 || name ~ /^[0-9]+$/ || (name in RESERVED))
}
function isword(c) { return c ~ /[A-Za-z0-9_-]/ }
function hosts(s,   i, name, out, at, pc, nc) {
  for (i = 1; i <= NH; i++) {
    name = HL[i]
    if (index(s, name) == 0) continue
    out = ""
    while ((at = index(s, name)) > 0) {
      pc = (at > 1) ? substr(s, at - 1, 1) : substr(out, length(out), 1)
      nc = substr(s, at + length(name), 1)
      if (HQ[name] ? (pc == "\"" && nc == "\"") : (!isword(pc) && pc != "." && !isword(nc) && !(nc == "." && isword(substr(s, at + length(name) + 1, 1))))) {
        out = out substr(s, 1, at - 1) HM[name]
      } else out = out substr(s, 1, at - 1 + length(name))
      s = substr(s, at + length(name))
    }
    s = out s
  }
  return s
}
function header(line,   node) {
  if (!match(line, /^### meshtrace[ \t]+node=[^ \t]*/)) return line
  node = substr(line, RSTART, RLENGTH); sub(/^### meshtrace[ \t]+node=/, "", node)
  if (!(node in HM)) return line
  return "### meshtrace node=" HM[node] substr(line, RSTART + RLENGTH)
}
BEGIN {
  for (i = 0; i < 16; i++) { c = substr("0123456789abcdef", i + 1, 1); HX[c] = i; HX[toupper(c)] = i }
  for (i = 32; i < 127; i++) ORD[sprintf("%c", i)] = i
  keyfile = ENVIRON["MT_KEYFILE"]; mapfile = ENVIRON["MT_MAPFILE"]
  key = ""
  if (keyfile == "" || (getline key < keyfile) <= 0) fail("no redaction key")
  close(keyfile)
  gsub(/[^0-9A-Fa-f]/, "", key)
  if (length(key) < 32) fail("the redaction key needs at least 32 hex digits")
  nk = 0
  for (i = 1; i < length(key); i += 2) K[nk++] = HX[substr(key, i, 1)] * 16 + HX[substr(key, i + 1, 1)]
  for (i = 0; i < 256; i++) S[i] = i
  j = 0
  for (r = 0; r < 4; r++) for (i = 0; i < 256; i++) { j = (j + S[i] + K[(i + r) % nk]) % 256; t = S[i]; S[i] = S[j]; S[j] = t }
  keep("4", v4bits("0.0.0.0"), 8, 1); keep("4", v4bits("10.0.0.0"), 8, 1); keep("4", v4bits("127.0.0.0"), 8, 1)
  keep("4", v4bits("169.254.0.0"), 16, 1); keep("4", v4bits("172.16.0.0"), 12, 1); keep("4", v4bits("192.168.0.0"), 16, 1)
  keep("4", v4bits("224.0.0.0"), 3, 1)
  keep("6", v6bits("::"), 127, 1); keep("6", v6bits("fd00::"), 8, 1); keep("6", v6bits("ff00::"), 8, 1)
  keep("6", v6bits("fe80::"), 64, 0); keep("6", v6bits("::ffff:0:0"), 96, 0)
  MIND["4"] = 0; MIND["6"] = 0; MIND["m"] = 8
  n = split("host localhost local default main all link global docker bridge ingress overlay none null true false pasted node manager worker leader ready active", w, " ")
  for (i = 1; i <= n; i++) RESERVED[w[i]] = 1
  n = split(ENVIRON["MT_HOSTS"], w, ",")
  for (i = 1; i <= n; i++) addhost(w[i])
}
FNR == 1 { pass++ }
pass == 1 {
  if ($0 ~ /^### meshtrace[ \t]/) {
    if (match($0, /[ \t]node=[^ \t]*/)) addhost(substr($0, RSTART + 6, RLENGTH - 6))
    nodels = ($0 ~ /[ \t]cmd=docker node ls/)
  } else if (nodels) {
    s = $0
    while (match(s, /"Hostname":[ ]*"[^"]*"/)) {
      h = substr(s, RSTART, RLENGTH); sub(/^"Hostname":[ ]*"/, "", h); sub(/"$/, "", h)
      addhost(h)
      s = substr(s, RSTART + RLENGTH)
    }
  }
  next
}
{
  line = $0
  if (line ~ /^### meshtrace[ \t]/) {
    indocker = (line ~ /[ \t]cmd=docker /); inenv = 0
    print header(line)
    next
  }
  if (indocker) {
    if (inenv) {
      if (match(line, /^ *\],?$/) && match(line, /^ */) && RLENGTH == envind) {
        print substr(line, 1, envind) "\"Env\": []" (line ~ /,$/ ? "," : "")
        inenv = 0
      }
      next
    }
    if (line ~ /^ *"Env": \[$/) { match(line, /^ */); envind = RLENGTH; inenv = 1; next }
  }
  if (NH) line = hosts(line)
  print addrs(line)
}
END { if (failed) exit 2 }
'

# redact IN OUT: the redacted bundle.
redact() {
	r_key=$TMPD/key
	if [ -n "$REDACT_KEY" ]; then
		printf '%s\n' "$REDACT_KEY" >"$r_key"
	elif [ -r /dev/urandom ]; then
		od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$r_key"
		echo >>"$r_key"
	else
		die '--redact needs /dev/urandom or --redact-key'
	fi
	if [ -n "$REDACT_MAP" ]; then
		(umask 077 && : >"$REDACT_MAP") || die "cannot write $REDACT_MAP"
		give_to_sudo_user "$REDACT_MAP"
	fi
	MT_KEYFILE=$r_key MT_MAPFILE=$REDACT_MAP MT_HOSTS=$REDACT_HOSTS awk "$REDACT_AWK" "$1" "$1" >"$2" ||
		die 'redaction failed; nothing was written'
}

give_to_sudo_user() {
	if [ -n "${SUDO_UID-}" ] && [ -n "${SUDO_GID-}" ] && [ "$(id -u)" = 0 ]; then
		chown "$SUDO_UID:$SUDO_GID" "$1" 2>/dev/null || :
	fi
}

# write FILE: the finished bundle to --output (atomically) or stdout.
write_out() {
	if [ -n "$OUTPUT" ] && [ "$OUTPUT" != - ]; then
		w_tmp=$OUTPUT.tmp.$$
		(umask 077 && cat "$1" >"$w_tmp") || {
			rm -f "$w_tmp"
			die "cannot write $OUTPUT"
		}
		give_to_sudo_user "$w_tmp"
		mv -f "$w_tmp" "$OUTPUT" || die "cannot write $OUTPUT"
		progress "done: wrote $OUTPUT"
	else
		cat "$1" || exit 1
		progress 'done'
	fi
}

cleanup() {
	[ -n "$TMPD" ] && rm -rf "$TMPD"
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		-o | --output) [ $# -ge 2 ] || die "$1 needs a file name"; OUTPUT=$2; shift ;;
		--output=*) OUTPUT=${1#*=} ;;
		--ns) [ $# -ge 2 ] || die '--ns needs a list'; NS_FILTER=${NS_FILTER:+$NS_FILTER,}$2; shift ;;
		--ns=*) NS_FILTER=${NS_FILTER:+$NS_FILTER,}${1#*=} ;;
		--node) [ $# -ge 2 ] || die '--node needs a name'; NODE=$2; shift ;;
		--node=*) NODE=${1#*=} ;;
		--redact) REDACT=1 ;;
		--redact-key) [ $# -ge 2 ] || die '--redact-key needs a key'; REDACT_KEY=$2; REDACT=1; shift ;;
		--redact-key=*) REDACT_KEY=${1#*=}; REDACT=1 ;;
		--redact-map) [ $# -ge 2 ] || die '--redact-map needs a file name'; REDACT_MAP=$2; shift ;;
		--redact-map=*) REDACT_MAP=${1#*=} ;;
		--redact-only) REDACT_ONLY=1; REDACT=1 ;;
		--docker-cli) [ $# -ge 2 ] || die '--docker-cli needs a program'; DOCKER=$2; shift ;;
		--docker-cli=*) DOCKER=${1#*=} ;;
		--docker-netns-dir) [ $# -ge 2 ] || die '--docker-netns-dir needs a folder'; DOCKER_NETNS_DIR=$2; shift ;;
		--docker-netns-dir=*) DOCKER_NETNS_DIR=${1#*=} ;;
		--netns-dir) [ $# -ge 2 ] || die '--netns-dir needs a folder'; NETNS_DIR=$2; shift ;;
		--netns-dir=*) NETNS_DIR=${1#*=} ;;
		--no-docker) NO_DOCKER=1 ;;
		--timeout) [ $# -ge 2 ] || die '--timeout needs seconds'; TIMEOUT=$2; shift ;;
		--timeout=*) TIMEOUT=${1#*=} ;;
		-q | --quiet) QUIET=1 ;;
		-h | --help) usage; exit 0 ;;
		--version) echo "meshtrace-collect $MT_VERSION"; exit 0 ;;
		*) usage >&2; die "unknown option: $1" ;;
		esac
		shift
	done
	case $TIMEOUT in
	'' | *[!0-9]*) die "--timeout needs whole seconds (got $TIMEOUT)" ;;
	esac
	if [ -n "$REDACT_KEY" ]; then
		case $REDACT_KEY in
		*[!0-9A-Fa-f]*) die '--redact-key takes hex digits only' ;;
		esac
		[ ${#REDACT_KEY} -ge 32 ] || die '--redact-key needs at least 32 hex digits'
	fi
	[ -z "$REDACT_MAP" ] || [ "$REDACT" = 1 ] || die '--redact-map needs --redact'
	case $NODE in
	*[!A-Za-z0-9_.:@-]*) die "--node: letters, digits and . _ : @ - only (got $NODE)" ;;
	esac
}

main() {
	OUTPUT='' NS_FILTER='' NODE='' REDACT=0 REDACT_KEY='' REDACT_MAP='' REDACT_ONLY=0 NO_DOCKER=0 QUIET=0
	DOCKER=docker DOCKER_NETNS_DIR=/var/run/docker/netns NETNS_DIR='' TIMEOUT=120 TMPD='' NOTED=' ' IDS=''
	parse_args "$@"

	umask 077
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/meshtrace-collect.XXXXXX" 2>/dev/null) ||
		{ TMPD=${TMPDIR:-/tmp}/meshtrace-collect.$$ && mkdir "$TMPD"; } || die 'cannot make a temporary folder'
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	OUT_F=$TMPD/out ERR_F=$TMPD/err RAW_F=$TMPD/raw NS_LIST=$TMPD/namespaces BUNDLE=$TMPD/bundle
	REAL_HOST=$(uname -n 2>/dev/null | tr -c 'A-Za-z0-9_.:@\n-' '_')
	[ -n "$NODE" ] || NODE=${REAL_HOST:-node}
	REDACT_HOSTS=$NODE,$REAL_HOST

	if [ "$REDACT_ONLY" = 1 ]; then
		cat >"$TMPD/in" || die 'cannot read stdin'
		redact "$TMPD/in" "$BUNDLE"
		write_out "$BUNDLE"
		return 0
	fi

	TO_MODE=none
	if have timeout; then
		if timeout 5 true </dev/null >/dev/null 2>&1; then
			TO_MODE=new
		elif timeout -t 5 true </dev/null >/dev/null 2>&1; then
			TO_MODE=old
		fi
	fi
	# nft only where iptables already speaks nf_tables (or there is no iptables at all).
	NFT_OK=0
	if have nft; then
		case $(iptables -V 2>/dev/null </dev/null || echo none) in
		*nf_tables* | none) NFT_OK=1 ;;
		esac
	fi

	: >"$NS_LIST"
	USED=' '
	SEEN=" $(ino "/proc/$$/ns/net") "
	add_ns host ''
	scan_dir "$DOCKER_NETNS_DIR"
	# `ip netns list` lists the names bound in iproute2's NETNS_RUN_DIR; reading the folder
	# ourselves gives the same names without parsing "name (id: 3)" lines.
	if [ -n "$NETNS_DIR" ]; then
		scan_dir "$NETNS_DIR"
	elif [ -d /var/run/netns ]; then
		scan_dir /var/run/netns
	else
		scan_dir /run/netns
	fi

	{
		# The preamble is a note section too, so that bundles can simply be concatenated.
		section host 'meshtrace-collect note'
		printf '# meshtrace: bundle written by meshtrace-collect %s at %s; each section is the output of the command in its header, verbatim\n' "$MT_VERSION" "$(date -u '+%Y-%m-%dT%H:%M:%SZ')"
		[ "$REDACT" = 1 ] && printf '# meshtrace: redacted: host names, MAC addresses and IP addresses outside 10/8, 172.16/12, 192.168/16, fd00::/8 and the special ranges are replaced; Env of containers removed\n'
		[ "$(id -u)" = 0 ] || note host 'not running as root: most commands below fail (run it with sudo)'

		m_total=0
		while read -r m_name m_path; do
			wanted "$m_name" && m_total=$((m_total + 1))
		done <"$NS_LIST"
		progress "node $NODE: $m_total namespaces"
		m_i=0
		while read -r m_name m_path; do
			wanted "$m_name" || continue
			m_i=$((m_i + 1))
			progress "[$m_i/$m_total] $m_name"
			capture_ns "$m_name" "$m_path"
		done <"$NS_LIST"
		# Patterns that selected nothing are worth a note (a typo, or a container that is gone).
		printf '%s\n' "$NS_FILTER" | tr ',' '\n' >"$TMPD/patterns"
		while IFS= read -r m_pat; do
			[ -n "$m_pat" ] || continue
			m_hit=0
			while read -r m_name m_path; do
				# shellcheck disable=SC2254 # the pattern is meant to glob
				case $m_name in
				$m_pat) m_hit=1 ;;
				esac
			done <"$NS_LIST"
			[ "$m_hit" = 1 ] || note host "--ns $m_pat matched no namespace on this node"
		done <"$TMPD/patterns"
		progress '[docker]'
		capture_docker
	} >"$BUNDLE"

	if [ "$REDACT" = 1 ]; then
		progress 'redacting'
		redact "$BUNDLE" "$TMPD/redacted"
		write_out "$TMPD/redacted"
	else
		write_out "$BUNDLE"
	fi
}

main "$@"
