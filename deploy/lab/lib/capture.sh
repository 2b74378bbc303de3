# shellcheck shell=bash
# Capture: run, inside each node, the commands the agent (and heketi's own examiner) use and keep
# their outputs — one directory per node in the lab-debian12 capture layout (commands.json
# manifest + one file per command, "<file>.stderr" beside it when stderr was not empty), which
# heketi-doctor reads as a capture directory.

# file <TAB> command (run with sh -c inside the node)
CAPTURE_COMMANDS=$(
    cat <<'EOF'
hostname.txt	hostname
addresses.txt	ip -o address show
vgs.json	vgs --reportformat json --units k -o +vg_uuid,vg_extent_size,vg_extent_count,vg_free_count
lvs.json	lvs -a --reportformat json --units k -o +pool_lv,lv_metadata_size,data_percent,lv_uuid
pvs.json	pvs --reportformat json --units k -o +pv_uuid
lsblk.json	lsblk -J -b
volume-info.xml	gluster --mode=script --xml volume info
volume-status.xml	gluster --mode=script --xml volume status all
peer-status.xml	gluster --mode=script --xml peer status
pool-list.xml	gluster --mode=script --xml pool list
proc-mounts.txt	cat /proc/self/mounts
heketi-fstab.txt	cat /var/lib/heketi/fstab
brick-dirs.txt	for d in /var/lib/heketi/mounts/vg_*/brick_*/brick; do [ -d "$d" ] && stat -c '%n %g %a' "$d"; done; true
EOF
)

capture_node() {
    local i=$1 out=$2 file cmd rc first=1 entries=""
    mkdir -p "$out"
    while IFS=$'\t' read -r file cmd; do
        rc=0
        in_node "$i" timeout 60 sh -c "$cmd" >"$out/$file" 2>"$out/$file.stderr" || rc=$?
        local stderr_field=""
        if [[ -s $out/$file.stderr ]]; then
            stderr_field=", \"stderr_file\": $(json_str "$file.stderr")"
        else
            rm -f "$out/$file.stderr"
        fi
        ((first)) || entries+=$',\n'
        first=0
        entries+="    {\"file\": $(json_str "$file"), \"command\": $(json_str "$cmd"), \"rc\": $rc$stderr_field}"
    done <<<"$CAPTURE_COMMANDS"
    # glusterd's store, as the agent copies it (read by the capture reader as glusterd/…).
    in_node "$i" sh -c 'cd /var/lib/glusterd && tar -cf - glusterd.info peers vols 2>/dev/null' |
        { mkdir -p "$out/glusterd" && tar -xf - -C "$out/glusterd" --exclude='*.vol' --exclude='*.socket' 2>/dev/null; } || true
    {
        printf '{\n  "node": %s,\n  "ip": %s,\n  "note": "captured inside the node by deploy/lab (lab %s)",\n  "collected_at": %s,\n  "commands": [\n%s\n  ]\n}\n' \
            "$(json_str "$(node_name "$i")")" "$(json_str "$(node_ip "$i")")" "$HD_LAB_NAME" "$(date +%s)" "$entries"
    } >"$out/commands.json"
}

lab_capture() {
    local out=$1 i
    shift
    local -a nodes=("$@")
    if ((${#nodes[@]} == 0)); then
        for ((i = 1; i <= HD_LAB_NODES; i++)); do nodes+=("node$i"); done
    fi
    mkdir -p "$out"
    for n in "${nodes[@]}"; do
        i=$(node_of_name "$n")
        rm -rf "${out:?}/node$i"
        capture_node "$i" "$out/node$i"
    done
}
