#!/usr/bin/env bash
# heketi-doctor end-to-end lab: N GlusterFS nodes on one machine, each a network + mount + UTS +
# PID namespace with its own glusterd and heketi-shaped LVM on loop devices, plus the heketi
# export JSON / heketi.db that describes them. See README.md, "End-to-end lab".
#
#   lab.sh up                      bring the lab up (idempotent; resumes a half-built lab)
#   lab.sh down                    kill everything, detach loops, remove namespaces and state
#   lab.sh status                  nodes, glusterd, volumes
#   lab.sh exec NODE CMD [ARG…]    run a command inside a node (e.g. lab.sh exec node1 gluster volume info)
#   lab.sh shell NODE              interactive shell inside a node
#   lab.sh capture DIR [NODE…]     capture every node's state into DIR/nodeI (lab-debian12 layout)
#   lab.sh add-volume NAME|- DURABILITY SIZE [GID [SNAPSHOT [OPTIONS]]]
#                                  a heketi-shaped volume heketi's DB does not know (drift tests)
#   lab.sh env                     print the lab's settings as shell assignments
#   lab.sh check                   can this machine run the lab? (root, tools, namespaces, loops)
#
# Settings come from the environment (lib/common.sh): HD_LAB_NAME, HD_LAB_DIR, HD_LAB_NODES,
# HD_LAB_NET, HD_LAB_DISKS, HD_LAB_DISK_SIZE, HD_LAB_LAYOUT, HEKETI_DOCTOR.
set -euo pipefail

LAB_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$LAB_HOME/lib/common.sh"
# shellcheck source=lib/net.sh
. "$LAB_HOME/lib/net.sh"
# shellcheck source=lib/node.sh
. "$LAB_HOME/lib/node.sh"
# shellcheck source=lib/heketi.sh
. "$LAB_HOME/lib/heketi.sh"
# shellcheck source=lib/capture.sh
. "$LAB_HOME/lib/capture.sh"

# A lab that exists keeps the shape it was created with.
load_state() {
    if [[ -r $HD_LAB_DIR/lab.env ]]; then
        # shellcheck disable=SC1091
        . "$HD_LAB_DIR/lab.env"
    fi
}

save_state() {
    mkdir -p "$HD_LAB_DIR"
    cat >"$HD_LAB_DIR/lab.env" <<EOF
HD_LAB_NAME=$HD_LAB_NAME
HD_LAB_NODES=$HD_LAB_NODES
HD_LAB_NET=$HD_LAB_NET
HD_LAB_DISKS=$HD_LAB_DISKS
HD_LAB_DISK_SIZE=$HD_LAB_DISK_SIZE
HD_LAB_LAYOUT=$HD_LAB_LAYOUT
EOF
}

peers_connected() {
    [[ $(gluster_on "$1" --xml pool list | grep -c '<connected>1</connected>') == "$HD_LAB_NODES" ]]
}

cmd_check() {
    need_root
    need_tools "${LAB_TOOLS[@]}"
    local probe="${HD_LAB_NAME}-probe$$"
    ip netns add "$probe" 2>/dev/null || die "cannot create network namespaces (ip netns add): not privileged enough?"
    ip netns del "$probe"
    unshare --mount --pid --fork --uts true 2>/dev/null || die "cannot create mount/PID/UTS namespaces (unshare)"
    [[ -e /dev/loop-control ]] || losetup -f >/dev/null 2>&1 || die "no loop devices (modprobe loop)"
    echo "lab check: ok"
}

cmd_up() {
    need_root
    need_tools "${LAB_TOOLS[@]}"
    ((HD_LAB_NODES >= 3)) || die "HD_LAB_NODES must be at least 3 (replica 3)"
    ((HD_LAB_NODES <= 200)) || die "HD_LAB_NODES too large"
    save_state
    local i p start=$SECONDS
    log "network: namespace $BRIDGE_NS (bridge) and $(node_ns 1)..$(node_ns "$HD_LAB_NODES"), $HD_LAB_NET.0/24"
    net_up_bridge
    for ((i = 1; i <= HD_LAB_NODES; i++)); do
        net_up_node "$i"
        node_prepare_dirs "$i"
        node_disks_up "$i"
        node_lvm_conf "$i"
        node_start "$i"
    done
    # Resuming (a node was restarted): brick mounts first, so glusterd finds its bricks.
    [[ -s $(HK)/bricks.tsv ]] && heketi_bricks "$(HK)"
    log "glusterd on every node"
    # glusterd takes a few seconds to initialise: start them all, then wait for each.
    # (glusterd's start returns only when it is initialised: run the starts side by side)
    local -a starting=()
    for ((i = 1; i <= HD_LAB_NODES; i++)); do
        node_glusterd_start "$i" &
        starting+=($!)
    done
    for p in "${starting[@]}"; do wait "$p" || die "starting glusterd failed"; done
    for ((i = 1; i <= HD_LAB_NODES; i++)); do node_glusterd_wait "$i"; done
    for ((i = 2; i <= HD_LAB_NODES; i++)); do
        gluster_on 1 peer probe "$(node_ip "$i")" >/dev/null || die "peer probe $(node_ip "$i") failed"
    done
    for ((i = 1; i <= HD_LAB_NODES; i++)); do
        retry 60 peers_connected "$i" || die "node$i does not see $HD_LAB_NODES connected peers"
    done
    log "LVM: heketi devices (vg_<id>), thin pools and bricks"
    heketi_devices
    heketi_plan "$HD_LAB_LAYOUT" "$(HK)"
    heketi_lvm "$(HK)"
    heketi_bricks "$(HK)"
    log "gluster volumes"
    heketi_volumes "$(HK)"
    heketi_export_json
    heketi_db
    log "up in $((SECONDS - start)) s: $HD_LAB_NODES nodes, $(wc -l <"$(HK)/volumes.tsv") volumes, $(wc -l <"$(HK)/bricks.tsv") bricks; heketi export $(HK)/export.json"
}

# A heketi-shaped volume made behind heketi's back (LVs, mounts, fstab, gluster volume with
# user.heketi.id), not added to the lab's export JSON: "a heketi volume the DB does not know".
cmd_add_volume() {
    (($# >= 3)) || die "usage: lab.sh add-volume NAME|- DURABILITY SIZE [GID [SNAPSHOT [OPTIONS]]]"
    [[ -s $(HK)/bricks.tsv ]] || die "lab '$HD_LAB_NAME' is not up"
    local set
    set="$(HK)/extra/$(date +%s)-$$"
    mkdir -p "$set"
    printf '%s %s %s %s %s %s\n' "$1" "$2" "$3" "${4:-0}" "${5:-1}" "${6:-}" >"$set/layout.conf"
    heketi_plan "$set/layout.conf" "$set"
    heketi_lvm "$set"
    heketi_bricks "$set"
    heketi_volumes "$set"
    cut -f1,2 "$set/volumes.tsv"
}

cmd_down() {
    need_root
    local i
    for ((i = 1; i <= HD_LAB_NODES; i++)); do node_stop "$i"; done
    for ((i = 1; i <= HD_LAB_NODES; i++)); do node_disks_down "$i"; done
    net_down
    if [[ -d $HD_LAB_DIR ]]; then
        # Only a directory this lab made (it holds lab.env or nodes/), never an arbitrary path.
        if [[ -e $HD_LAB_DIR/lab.env || -d $HD_LAB_DIR/nodes ]]; then
            rm -rf "${HD_LAB_DIR:?}"
        else
            log "$HD_LAB_DIR does not look like a lab directory; left in place"
        fi
    fi
    log "down"
}

cmd_status() {
    local i pid
    [[ -r $HD_LAB_DIR/lab.env ]] || {
        echo "lab '$HD_LAB_NAME': not created ($HD_LAB_DIR)"
        return 0
    }
    echo "lab '$HD_LAB_NAME' in $HD_LAB_DIR: $HD_LAB_NODES nodes on $HD_LAB_NET.0/24"
    for ((i = 1; i <= HD_LAB_NODES; i++)); do
        pid=$(node_pid "$i")
        if [[ -z $pid ]]; then
            printf '  node%s  %-15s  stopped\n' "$i" "$(node_ip "$i")"
            continue
        fi
        local gd="glusterd down"
        in_node "$i" sh -c 'test -s /run/glusterd.pid && kill -0 "$(cat /run/glusterd.pid)"' 2>/dev/null && gd="glusterd up"
        printf '  node%s  %-15s  pid %-7s %s  loops: %s\n' "$i" "$(node_ip "$i")" "$pid" "$gd" "$(node_loops "$i" | tr '\n' ' ')"
    done
    if [[ -n $(node_pid 1) ]]; then
        echo "volumes:"
        gluster_on 1 volume list 2>/dev/null | sed 's/^/  /' || true
    fi
    [[ -e $(HK)/export.json ]] && echo "heketi export: $(HK)/export.json"
    [[ -e $(HK)/heketi.db ]] && echo "heketi.db:     $(HK)/heketi.db"
    return 0
}

main() {
    local cmd=${1:-}
    [[ -n $cmd ]] || {
        sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 2
    }
    shift
    load_state
    case $cmd in
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        check) cmd_check ;;
        env) cat "$HD_LAB_DIR/lab.env" 2>/dev/null || die "lab '$HD_LAB_NAME' not created" ;;
        exec)
            (($# >= 2)) || die "usage: lab.sh exec NODE CMD [ARG…]"
            local n
            n=$(node_of_name "$1")
            shift
            in_node "$n" "$@"
            ;;
        shell)
            (($# == 1)) || die "usage: lab.sh shell NODE"
            in_node "$(node_of_name "$1")" bash -i
            ;;
        capture)
            (($# >= 1)) || die "usage: lab.sh capture DIR [NODE…]"
            lab_capture "$@"
            ;;
        add-volume) cmd_add_volume "$@" ;;
        -h | --help | help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
        *) die "unknown command '$cmd' (up, down, status, exec, shell, capture, add-volume, env, check)" ;;
    esac
}

main "$@"
