# shellcheck shell=bash
# One node = a network namespace plus a long-lived holder process (PID 1 of its own PID, mount
# and UTS namespaces) whose mount namespace gives the node private copies of /var/lib/glusterd,
# /var/log/glusterfs, /var/lib/heketi, /etc/lvm, /etc/hosts, /etc/resolv.conf and a tmpfs /run.
# Every lab command enters those namespaces with nsenter; glusterd runs inside them.

node_prepare_dirs() {
    local i=$1 d j
    d=$(node_dir "$i")
    mkdir -p "$d"/root/{glusterd,log,heketi,lvm/backup,lvm/archive} "$d/disks"
    # glusterd needs the option groups shipped by the package (gluster-block, virt, …).
    if [[ -d /var/lib/glusterd/groups && ! -d $d/root/glusterd/groups ]]; then
        cp -a /var/lib/glusterd/groups "$d/root/glusterd/"
    fi
    {
        printf '127.0.0.1\tlocalhost\n'
        for ((j = 1; j <= HD_LAB_NODES; j++)); do
            printf '%s\t%s\n' "$(node_ip "$j")" "$(node_name "$j")"
        done
    } >"$d/root/hosts"
    # No DNS inside the lab: lookups go to 127.0.0.1 of the node and fail at once.
    : >"$d/root/resolv.conf"
}

# Sparse files on loop devices: the node's disks. Re-uses loops already attached to the files.
node_disks_up() {
    local i=$1 d j img loop
    d=$(node_dir "$i")
    : >"$d/loops.new"
    for ((j = 1; j <= HD_LAB_DISKS; j++)); do
        img="$d/disks/disk$j.img"
        [[ -e $img ]] || truncate -s "$HD_LAB_DISK_SIZE" "$img"
        loop=$(losetup -j "$img" | head -n1 | cut -d: -f1)
        [[ -n $loop ]] || loop=$(losetup -f --show "$img")
        printf '%s\n' "$loop" >>"$d/loops.new"
    done
    mv "$d/loops.new" "$d/loops"
}

node_loops() { cat "$(node_dir "$1")/loops" 2>/dev/null || true; }

# lvm.conf of the node: its own loop devices only, no activation (no device-mapper needed),
# no udev, metadata backups in its private /etc/lvm.
node_lvm_conf() {
    local i=$1 d filter="" loop
    d=$(node_dir "$i")
    while read -r loop; do
        [[ -n $loop ]] && filter+="\"a|^${loop}\$|\", "
    done < <(node_loops "$i")
    filter+='"r|.*|"'
    cat >"$d/root/lvm/lvm.conf" <<EOF
# heketi-doctor lab, node$i: only this node's loop devices; activation off (no device-mapper).
devices {
    filter = [ $filter ]
    global_filter = [ $filter ]
    use_devicesfile = 0
    obtain_device_list_from_udev = 0
    external_device_info_source = "none"
}
global {
    activation = 0
    event_activation = 0
    use_lvmlockd = 0
}
activation {
    udev_sync = 0
    udev_rules = 0
    monitoring = 0
}
backup {
    backup = 1
    backup_dir = "/etc/lvm/backup"
    archive = 0
}
EOF
}

# The holder: runs as PID 1 of the node's PID namespace, sets up the private mounts, then waits
# (reaping the daemons glusterd double-forks).
node_holder_script() {
    local i=$1 d
    d=$(node_dir "$i")
    cat >"$d/holder.sh" <<EOF
set -euo pipefail
r='$d/root'
mount --bind "\$r/glusterd" /var/lib/glusterd
mount --bind "\$r/log" /var/log/glusterfs
mount --bind "\$r/heketi" /var/lib/heketi
mount --bind "\$r/lvm" /etc/lvm
mount --bind "\$r/hosts" /etc/hosts
mount --bind "\$r/resolv.conf" /etc/resolv.conf
mount -t tmpfs -o mode=755,size=65536k lab-run /run
mkdir -p /run/gluster /run/lock /run/lvm
hostname '$(node_name "$i")'
trap 'exit 0' TERM INT
echo ready >'$d/ready'
while :; do
    sleep 3600 &
    wait \$! || true
done
EOF
}

node_start() {
    local i=$1 d upid pid
    d=$(node_dir "$i")
    [[ -n $(node_pid "$i") ]] && return 0
    for p in /var/lib/glusterd /var/log/glusterfs /etc/lvm; do
        [[ -d $p ]] || mkdir -p "$p"
    done
    # The one host path the lab adds: an (empty) mount point, as glusterfs-server adds
    # /var/lib/glusterd. It is left in place by "down".
    [[ -d /var/lib/heketi ]] || mkdir -p /var/lib/heketi
    node_holder_script "$i"
    rm -f "$d/ready"
    setsid ip netns exec "$(node_ns "$i")" \
        unshare --fork --pid --mount-proc --mount --uts --propagation private \
        bash "$d/holder.sh" </dev/null >"$d/holder.log" 2>&1 &
    upid=$!
    local start=$SECONDS
    until [[ -e $d/ready ]]; do
        kill -0 "$upid" 2>/dev/null || die "node$i: holder exited: $(tail -n3 "$d/holder.log")"
        ((SECONDS - start < 20)) || die "node$i: holder not ready after 20 s"
        sleep 0.1
    done
    pid=$(awk '{print $1}' "/proc/$upid/task/$upid/children" 2>/dev/null)
    [[ -n $pid ]] || die "node$i: cannot find the holder's child of $upid"
    printf '%s\n' "$upid" >"$d/unshare.pid"
    printf '%s\n' "$pid" >"$d/ns.pid"
}

node_glusterd_start() {
    local i=$1
    if ! in_node "$i" sh -c 'test -s /run/glusterd.pid && kill -0 "$(cat /run/glusterd.pid)"' 2>/dev/null; then
        in_node "$i" glusterd -p /run/glusterd.pid --log-level INFO
    fi
}

node_glusterd_wait() {
    retry 60 gluster_on "$1" pool list || die "node$1: glusterd does not answer (see $(node_dir "$1")/root/log/glusterd.log)"
}

# Stop a node: SIGKILL to PID 1 of its PID namespace kills every process in it (glusterd,
# bricks, self-heal daemons, agents); the mount namespace and its tmpfs mounts go with it.
node_stop() {
    local i=$1 d pid upid
    d=$(node_dir "$i")
    pid=$(node_pid "$i")
    if [[ -n $pid ]]; then
        kill -KILL "$pid" 2>/dev/null || true
        local start=$SECONDS
        while [[ -d /proc/$pid ]] && ((SECONDS - start < 10)); do sleep 0.1; done
    fi
    # Anything still in the node's network namespace (started by hand with ip netns exec).
    if netns_exists "$(node_ns "$i")"; then
        local p
        for p in $(ip netns pids "$(node_ns "$i")" 2>/dev/null); do
            kill -KILL "$p" 2>/dev/null || true
        done
    fi
    if [[ -r $d/unshare.pid ]]; then
        upid=$(<"$d/unshare.pid")
        # Only reap our own unshare (a reused pid would not be an unshare in the lab's netns).
        [[ -d /proc/$upid ]] && [[ $(cat "/proc/$upid/comm" 2>/dev/null) == unshare ]] && kill -KILL "$upid" 2>/dev/null
    fi
    rm -f "$d/ns.pid" "$d/unshare.pid" "$d/ready"
}

node_disks_down() {
    local i=$1 d img loop
    d=$(node_dir "$i")
    for img in "$d"/disks/*.img; do
        [[ -e $img ]] || continue
        for loop in $(losetup -j "$img" | cut -d: -f1); do
            losetup -d "$loop" 2>/dev/null || log "node$i: could not detach $loop"
        done
    done
}
