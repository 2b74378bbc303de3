# shellcheck shell=bash
# Configuration, logging and namespace helpers shared by the lab scripts. Sourced by lab.sh.

# --- configuration (environment) -------------------------------------------------------------
# HD_LAB_NAME   prefix of every namespace (default "hd": netns hd-lab, hd-node1, …)
# HD_LAB_DIR    state directory (default /var/tmp/$HD_LAB_NAME-lab)
# HD_LAB_NODES  number of gluster nodes (default 3, at least 3)
# HD_LAB_NET    first three octets of the private lab subnet (default 10.77.0; node i = .(10+i))
# HD_LAB_DISKS  loop "disks" per node (default 2), HD_LAB_DISK_SIZE sparse size (default 100G)
# HD_LAB_LAYOUT volume layout file (default deploy/lab/layout.conf)
# HEKETI_DOCTOR heketi-doctor binary used to write heketi.db (default: PATH, then target/)
HD_LAB_NAME=${HD_LAB_NAME:-hd}
HD_LAB_DIR=${HD_LAB_DIR:-/var/tmp/${HD_LAB_NAME}-lab}
HD_LAB_NODES=${HD_LAB_NODES:-3}
HD_LAB_NET=${HD_LAB_NET:-10.77.0}
HD_LAB_DISKS=${HD_LAB_DISKS:-2}
HD_LAB_DISK_SIZE=${HD_LAB_DISK_SIZE:-100G}
HD_LAB_LAYOUT=${HD_LAB_LAYOUT:-$LAB_HOME/layout.conf}

# shellcheck disable=SC2034 # used by net.sh
BRIDGE_NS="${HD_LAB_NAME}-lab"
export LC_ALL=C
# LVM and glusterd live in sbin, which a sudo or CI PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
# LVM complains about every inherited descriptor otherwise.
export LVM_SUPPRESS_FD_WARNINGS=1

log() { printf '%s lab[%s]: %s\n' "$(date +%H:%M:%S)" "$HD_LAB_NAME" "$*" >&2; }
die() {
    printf 'lab[%s]: error: %s\n' "$HD_LAB_NAME" "$*" >&2
    exit 1
}

node_name() { printf 'node%s' "$1"; }
node_ns() { printf '%s-node%s' "$HD_LAB_NAME" "$1"; }
node_ip() { printf '%s.%s' "$HD_LAB_NET" "$((10 + $1))"; }
node_dir() { printf '%s/nodes/node%s' "$HD_LAB_DIR" "$1"; }
node_of_name() { # node3 -> 3
    local n=${1#node}
    if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > HD_LAB_NODES)); then
        die "no such node: $1 (node1..node$HD_LAB_NODES)"
    fi
    printf '%s' "$n"
}

# PID of the node's namespace holder (PID 1 of its PID namespace), empty when not running.
node_pid() {
    local f pid
    f="$(node_dir "$1")/ns.pid"
    [[ -r $f ]] || return 0
    pid=$(<"$f")
    [[ -n $pid && -d /proc/$pid ]] || return 0
    # The pid must still be our holder (pids are reused): its netns must be the node's.
    local want have
    want=$(stat -L -c %i "/run/netns/$(node_ns "$1")" 2>/dev/null) || return 0
    have=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || return 0
    [[ $want == "$have" ]] && printf '%s' "$pid"
}

# Run a command inside node $1's network, mount, UTS and PID namespaces.
in_node() {
    local n=$1 pid
    shift
    pid=$(node_pid "$n")
    [[ -n $pid ]] || die "node$n is not running (lab '$HD_LAB_NAME' up?)"
    nsenter -t "$pid" -m -u -n -p -- "$@"
}

# gluster CLI on a node, the way heketi calls it.
gluster_on() {
    local n=$1
    shift
    in_node "$n" timeout 120 gluster --mode=script --timeout=600 "$@"
}

# Retry a command until it succeeds or $1 seconds passed.
retry() {
    local secs=$1 start=$SECONDS
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS - start < secs)) || return 1
        sleep 0.3
    done
}

# 32 lowercase hex characters, like heketi's idgen.
new_id() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# An LVM uuid (6-4-4-4-4-4-6 of [A-Za-z0-9]).
lvm_uuid() {
    local s
    s=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32)
    printf '%s-%s-%s-%s-%s-%s-%s' "${s:0:6}" "${s:6:4}" "${s:10:4}" "${s:14:4}" "${s:18:4}" "${s:22:4}" "${s:26:6}"
}

# JSON string literal.
json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/\\t}
    s=${s//$'\n'/\\n}
    printf '"%s"' "$s"
}

# JSON array of strings from the arguments.
json_arr() {
    local first=1 x
    printf '['
    for x in "$@"; do
        ((first)) || printf ', '
        first=0
        json_str "$x"
    done
    printf ']'
}

need_root() { [[ $(id -u) == 0 ]] || die "the lab needs root (network/mount namespaces, loop devices, LVM)"; }

need_tools() {
    local t missing=()
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (apt-get install glusterfs-server lvm2 iproute2 util-linux attr)"
}

# shellcheck disable=SC2034 # used by lab.sh
LAB_TOOLS=(ip nsenter unshare losetup mount umount pvcreate vgcreate vgcfgbackup vgcfgrestore lvs glusterd gluster timeout stat od)
