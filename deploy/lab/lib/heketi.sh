# shellcheck shell=bash
# Heketi-shaped state on the lab nodes (heketi-db-spec.md §4): one VG vg_<deviceid> per disk,
# one thin pool + thin LV brick_<brickid> per brick, brick "mounts" at heketi's paths with
# heketi's fstab lines, ownership and mode, gluster volumes created with heketi's commands and
# options — and the heketi export JSON (plus heketi.db) describing exactly that.
#
# No device-mapper: the thin pools and LVs are written into the VG metadata with
# vgcfgrestore --force (LVM shows them inactive, as on any host where they are not active),
# and each brick mount is a tmpfs whose source is the device-mapper path heketi would mount.

HK() { printf '%s/heketi' "$HD_LAB_DIR"; }

# --- devices: pvcreate / vgcreate as heketi v10 does ------------------------------------------
heketi_devices() {
    local hk i loop devid uuid ext cnt
    hk=$(HK)
    mkdir -p "$hk"
    [[ -s $hk/cluster.id ]] || new_id >"$hk/cluster.id"
    if [[ ! -s $hk/nodes.tsv ]]; then
        for ((i = 1; i <= HD_LAB_NODES; i++)); do
            printf '%s\t%s\t%s\t%s\n' "$i" "$(new_id)" "$(node_name "$i")" "$(node_ip "$i")"
        done >"$hk/nodes.tsv"
    fi
    touch "$hk/devices.tsv"
    for ((i = 1; i <= HD_LAB_NODES; i++)); do
        while read -r loop; do
            [[ -n $loop ]] || continue
            # A disk that is a heketi device already is known by its VG, not by its loop number
            # (the loops may have been attached in another order, e.g. after a reboot): keep the
            # device and record its current name.
            local vg
            vg=$(in_node "$i" pvs --noheadings -o vg_name "$loop" 2>/dev/null | tr -d ' ') || true
            if [[ $vg == vg_* ]] && awk -F'\t' -v d="${vg#vg_}" '$1 == d { f = 1 } END { exit !f }' "$hk/devices.tsv"; then
                awk -F'\t' -v OFS='\t' -v d="${vg#vg_}" -v l="$loop" -v n="$i" '$1 == d { $2 = n; $3 = l } { print }' \
                    "$hk/devices.tsv" >"$hk/devices.tsv.new"
                mv "$hk/devices.tsv.new" "$hk/devices.tsv"
                continue
            fi
            devid=$(new_id)
            in_node "$i" pvcreate -qq --metadatasize=128M --dataalignment=256K "$loop" 2>/dev/null ||
                die "node$i: pvcreate $loop failed"
            # --setautoactivation n: a host with udev must never try to activate lab VGs.
            in_node "$i" vgcreate -qq --physicalextentsize=4M --autobackup=n --setautoactivation n \
                "vg_$devid" "$loop" 2>/dev/null || die "node$i: vgcreate vg_$devid failed"
            uuid=$(in_node "$i" pvs --noheadings -o pv_uuid "$loop" 2>/dev/null | tr -d ' ')
            read -r ext cnt < <(in_node "$i" vgs --noheadings --units k --nosuffix \
                -o vg_extent_size,vg_extent_count "vg_$devid" 2>/dev/null)
            ext=${ext%.*}
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$devid" "$i" "$loop" "$uuid" "$((ext * cnt))" "$ext" >>"$hk/devices.tsv"
        done < <(node_loops "$i")
    done
}

# --- plan: volumes, brick sets, placement, sizes (spec §4.4) ----------------------------------
align_up() { printf '%s' "$(((($1) + ($2) - 1) / ($2) * ($2)))"; }

# heketi_plan LAYOUT SETDIR: plans the volumes of LAYOUT into SETDIR/{volumes,bricks}.tsv, on top
# of the bricks every other set (the lab's own, volumes added later) already uses.
heketi_plan() {
    local layout=$1 set=$2 hk
    hk=$(HK)
    [[ -s $set/bricks.tsv ]] && return 0
    [[ -r $layout ]] || die "layout file $layout not found"
    mkdir -p "$set"
    declare -A used=()
    local devid
    while IFS=$'\t' read -r devid _; do used[$devid]=0; done <"$hk/devices.tsv"
    local f bid tp pms rot=0
    for f in "$hk/bricks.tsv" "$hk"/extra/*/bricks.tsv; do
        [[ -r $f ]] || continue
        while IFS=$'\t' read -r bid _ _ devid _ tp pms _; do used[$devid]=$((used[$devid] + tp + pms)); done <"$f"
        rot=$((rot + $(cut -f2,10 "$f" | sort -u | wc -l)))
    done

    local name dur size gid factor opts vid kind replica data red
    : >"$set/volumes.tsv.new"
    : >"$set/bricks.tsv.new"
    while read -r name dur size gid factor opts; do
        [[ -z $name || $name == \#* ]] && continue
        vid=$(new_id)
        [[ $name == - ]] && name="vol_$vid"
        replica=0 data=0 red=0
        case $dur in
            replicate:*) kind=replicate replica=${dur#replicate:} ;;
            arbiter) kind=arbiter replica=3 ;;
            disperse:auto)
                kind=disperse
                if ((HD_LAB_NODES >= 6)); then data=4 red=2; else data=2 red=1; fi
                ;;
            disperse:*:*) kind=disperse data=${dur#disperse:} red=${data#*:} data=${data%%:*} ;;
            none) kind=none ;;
            *) die "layout: unknown durability '$dur' for $name" ;;
        esac
        local per_set
        case $kind in
            replicate | arbiter) per_set=$replica ;;
            disperse) per_set=$((data + red)) ;;
            none) per_set=1 ;;
        esac
        ((per_set <= HD_LAB_NODES)) || die "layout: $name needs $per_set nodes, the lab has $HD_LAB_NODES"
        # factor "1.5" → 15/10 (exact for the factors float32 holds exactly: 1, 1.5, 2 …)
        local fnum fden
        if [[ $factor == *.* ]]; then
            local frac=${factor#*.}
            fnum=$((10#${factor/./})) fden=$((10 ** ${#frac}))
        else
            fnum=$factor fden=1
        fi
        local total_gib=0 part=0 psize
        local -a parts=()
        IFS=+ read -r -a parts <<<"$size"
        for psize in "${parts[@]}"; do
            total_gib=$((total_gib + psize))
            local kib=$((psize * 1048576)) brick
            brick=$kib
            [[ $kind == disperse ]] && brick=$((kib / data))
            ((brick >= 1048576)) || die "layout: $name: bricks of $brick KiB are below heketi's 1 GiB minimum"
            local pos
            for ((pos = 0; pos < per_set; pos++)); do
                local n=$(((rot + pos) % HD_LAB_NODES + 1)) bsize=$brick subtype=1
                if [[ $kind == arbiter && $pos == 2 ]]; then
                    bsize=$((brick / 64))
                    ((bsize >= 16384)) || bsize=16384
                    subtype=2
                fi
                local tp pms best="" bestfree=-1 d dn dt
                # Pools are aligned to the 4 MiB extent every lab VG uses.
                tp=$(align_up "$((bsize * fnum / fden))" 4096)
                pms=$((tp * 5 / 1000))
                ((pms <= 16777216)) || pms=16777216
                pms=$(align_up "$pms" 4096)
                # The device of node n with the most free space (heketi requires free > needed).
                while IFS=$'\t' read -r d dn _ _ dt _; do
                    [[ $dn == "$n" ]] || continue
                    local free=$((dt - used[$d]))
                    ((free > tp + pms && free > bestfree)) && best=$d bestfree=$free
                done <"$hk/devices.tsv"
                [[ -n $best ]] || die "layout: no space for a brick of $name on node$n"
                used[$best]=$((used[$best] + tp + pms))
                local bid pool
                bid=$(new_id)
                # heketi ≥ v8 renames the first brick of every set after choosing its pool name
                # (spec §4.1): that brick's pool is tp_<another id>.
                if ((pos == 0)); then pool="tp_$(new_id)"; else pool="tp_$bid"; fi
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
                    "$bid" "$vid" "$n" "$best" "$bsize" "$tp" "$pms" "$pool" "$subtype" "$part" "$pos" >>"$set/bricks.tsv.new"
            done
            rot=$((rot + 1))
            part=$((part + 1))
        done
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
            "$vid" "$name" "$kind" "$replica" "$data" "$red" "$total_gib" "$gid" "$factor" "$opts" >>"$set/volumes.tsv.new"
    done <"$layout"
    mv "$set/volumes.tsv.new" "$set/volumes.tsv"
    mv "$set/bricks.tsv.new" "$set/bricks.tsv"
}

# --- LVM: thin pools and thin LVs written into each VG's metadata ------------------------------
lv_block() { # name status(quoted list) segment-body
    cat <<EOF

		$1 {
			id = "$(lvm_uuid)"
			status = [$2]
			flags = []
			creation_time = $NOW
			creation_host = "$HOST"
			segment_count = 1

			segment1 {
$3
			}
		}
EOF
}

striped_seg() { # start extent_count pv_offset
    printf '\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = %s\n\n\t\t\t\ttype = "striped"\n\t\t\t\tstripe_count = 1\n\n\t\t\t\tstripes = [\n\t\t\t\t\t"pv0", %s\n\t\t\t\t]' "$1" "$2"
}

# heketi_lvm_device DEVID NODE SETDIR: the set's pools and thin LVs on one VG. A VG that has no
# LVs yet also gets the pool metadata spare lvcreate makes; on a VG with LVs the new ones go
# after the last allocated extent.
heketi_lvm_device() {
    local devid=$1 n=$2 set=$3 tmp lvcount
    local -A have=()
    local lv
    for lv in $(in_node "$n" lvs --noheadings -o lv_name "vg_$devid" 2>/dev/null); do have[$lv]=1; done
    lvcount=${#have[@]}
    # the set's bricks on this VG that are not there yet
    local todo
    todo=$(awk -F'\t' -v d="$devid" '$4 == d' "$set/bricks.tsv" | while IFS=$'\t' read -r b _; do
        [[ -n ${have[brick_$b]:-} ]] || echo "$b"
    done)
    [[ -n $todo ]] || return 0
    tmp=$(node_dir "$n")/root/lvm/restore-vg_$devid.txt
    in_node "$n" vgcfgbackup -f "/etc/lvm/restore-vg_$devid.txt" "vg_$devid" >/dev/null 2>&1 ||
        die "node$n: vgcfgbackup vg_$devid failed"
    local E=4096 off=0 maxpms=0 body="" bid vid bn bd bsize tp pms pool
    NOW=$(date +%s) HOST=$(node_name "$n")
    while IFS=$'\t' read -r bid vid bn bd bsize tp pms pool _; do
        if [[ $bd != "$devid" ]] || ! grep -qx "$bid" <<<"$todo"; then continue; fi
        ((pms > maxpms)) && maxpms=$pms
    done <"$set/bricks.tsv"
    if ((lvcount == 0)); then
        # lvcreate allocates the pool metadata spare first (sized like the largest pool metadata).
        body+=$(lv_block lvol0_pmspare '"READ", "WRITE"' "$(striped_seg $((maxpms / E)) $off)")
        off=$((off + maxpms / E))
    else
        off=$(in_node "$n" pvs --segments --noheadings -o pvseg_start,pvseg_size,lv_name -S "vg_name=vg_$devid" 2>/dev/null |
            awk 'NF == 3 && $1 + $2 > m { m = $1 + $2 } END { print m + 0 }')
    fi
    while IFS=$'\t' read -r bid vid bn bd bsize tp pms pool _; do
        if [[ $bd != "$devid" ]] || ! grep -qx "$bid" <<<"$todo"; then continue; fi
        local meta=$((pms / E)) data=$((tp / E)) virt=$(((bsize + E - 1) / E))
        body+=$(lv_block "${pool}_tmeta" '"READ", "WRITE"' "$(striped_seg "$meta" "$off")")
        off=$((off + meta))
        body+=$(lv_block "${pool}_tdata" '"READ", "WRITE"' "$(striped_seg "$data" "$off")")
        off=$((off + data))
        body+=$(lv_block "$pool" '"READ", "WRITE", "VISIBLE"' "$(printf '\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = %s\n\n\t\t\t\ttype = "thin-pool"\n\t\t\t\tmetadata = "%s"\n\t\t\t\tpool = "%s"\n\t\t\t\ttransaction_id = 1\n\t\t\t\tchunk_size = 512\n\t\t\t\tdiscards = "passdown"\n\t\t\t\tzero_new_blocks = 1' "$data" "${pool}_tmeta" "${pool}_tdata")")
        body+=$(lv_block "brick_$bid" '"READ", "WRITE", "VISIBLE"' "$(printf '\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = %s\n\n\t\t\t\ttype = "thin"\n\t\t\t\tthin_pool = "%s"\n\t\t\t\ttransaction_id = 0\n\t\t\t\tdevice_id = 1' "$virt" "$pool")")
    done <"$set/bricks.tsv"
    if ((lvcount == 0)); then
        # "logical_volumes { … }" before the VG block's closing brace (the file's last "}")
        awk -v lvs="$(printf '\n\tlogical_volumes {\n%s\n\t}\n' "$body")" '
            { lines[NR] = $0 }
            END {
                last = 0
                for (i = NR; i > 0; i--) if (lines[i] == "}") { last = i; break }
                for (i = 1; i <= NR; i++) { if (i == last) print lvs; print lines[i] }
            }' "$tmp" >"$tmp.new"
    else
        # the new LVs at the end of the existing "logical_volumes" section
        awk -v lvs="$body" '
            /^\tlogical_volumes \{$/ { inlv = 1 }
            inlv && /^\t\}$/ { print lvs; inlv = 0 }
            { print }' "$tmp" >"$tmp.new"
    fi
    mv "$tmp.new" "$tmp"
    in_node "$n" vgcfgrestore --force -f "/etc/lvm/restore-vg_$devid.txt" "vg_$devid" >/dev/null 2>&1 ||
        die "node$n: vgcfgrestore vg_$devid failed (metadata in $tmp)"
    rm -f "$tmp"
}

heketi_lvm() {
    local set=$1 devid n
    while IFS=$'\t' read -r devid n _; do heketi_lvm_device "$devid" "$n" "$set"; done <"$(HK)/devices.tsv"
}

# --- brick mounts, fstab, brick directories ---------------------------------------------------
heketi_bricks_node() {
    local n=$1 set=$2 script bid vid bn bd bsize gid name
    script=$(node_dir "$n")/bricks.sh
    {
        echo 'set -euo pipefail'
        echo 'umask 022'
        echo 'fstab=/var/lib/heketi/fstab; touch "$fstab"'
        while IFS=$'\t' read -r bid vid bn bd bsize _; do
            [[ $bn == "$n" ]] || continue
            gid=$(awk -F'\t' -v v="$vid" '$1 == v { print $8 }' "$set/volumes.tsv")
            name=$(awk -F'\t' -v v="$vid" '$1 == v { print $2 }' "$set/volumes.tsv")
            local mp="/var/lib/heketi/mounts/vg_$bd/brick_$bid" dev="/dev/mapper/vg_$bd-brick_$bid"
            cat <<EOF
mkdir -p $mp
grep -q "brick_$bid " "\$fstab" || echo "$dev $mp xfs rw,inode64,noatime,nouuid 1 2" >>"\$fstab"
mountpoint -q $mp || mount -t tmpfs -o size=${bsize}k,mode=755 $dev $mp
if [ ! -d $mp/brick ]; then
    mkdir $mp/brick
    # A node restarted: its tmpfs bricks came back empty. Give the brick its volume's id back
    # (what reset-brick does) so glusterd starts it and self-heal refills it.
    id=\$(sed -n 's/^volume-id=//p' /var/lib/glusterd/vols/$name/info 2>/dev/null | tr -d -) || true
    if [ -n "\$id" ] && command -v setfattr >/dev/null; then
        setfattr -n trusted.glusterfs.volume-id -v "0x\$id" $mp/brick
        mkdir -m 0600 $mp/brick/.glusterfs
    fi
fi
EOF
            if [[ $gid != 0 ]]; then
                printf 'chown :%s %s/brick\nchmod 2775 %s/brick\n' "$gid" "$mp" "$mp"
            fi
        done <"$set/bricks.tsv"
    } >"$script"
    in_node "$n" bash "$script" || die "node$n: setting up brick mounts failed ($script)"
}

heketi_bricks() {
    local i
    for ((i = 1; i <= HD_LAB_NODES; i++)); do heketi_bricks_node "$i" "$1"; done
}

# --- gluster volumes (spec §4.5) --------------------------------------------------------------
brick_hostpaths() { # set vid part → "host:path" in set order
    awk -F'\t' -v v="$2" -v p="$3" -v net="$HD_LAB_NET" '$2 == v && $10 == p {
        printf "%s.%d:/var/lib/heketi/mounts/vg_%s/brick_%s/brick\n", net, 10 + $3, $4, $1 }' "$1/bricks.tsv"
}

heketi_volumes() {
    local set=$1 vid name kind replica data red size gid factor opts
    # OCS/gluster-kubernetes clusters run with brick multiplexing: one brick process per node.
    gluster_on 1 volume set all cluster.brick-multiplex on >/dev/null
    while IFS=$'\t' read -r vid name kind replica data red size gid factor opts; do
        if gluster_on 1 volume info "$name" >/dev/null 2>&1; then
            # resuming: start it if stopped, restart bricks that are offline
            gluster_on 1 volume start "$name" force >/dev/null 2>&1 || true
            continue
        fi
        local -a args=()
        case $kind in
            replicate) args=(replica "$replica") ;;
            arbiter) args=(replica 3 arbiter 1) ;;
            disperse) args=(disperse-data "$data" redundancy "$red") ;;
        esac
        local parts
        parts=$(awk -F'\t' -v v="$vid" '$2 == v { if ($10 + 1 > m) m = $10 + 1 } END { print m + 0 }' "$set/bricks.tsv")
        local -a bricks=()
        mapfile -t bricks < <(brick_hostpaths "$set" "$vid" 0)
        gluster_on 1 volume create "$name" "${args[@]}" "${bricks[@]}" >/dev/null ||
            die "gluster volume create $name failed"
        local o
        local -a o_list=()
        IFS=';' read -r -a o_list <<<"$opts"
        for o in "${o_list[@]}"; do
            [[ -n $o ]] || continue
            # shellcheck disable=SC2086 # "key value"
            gluster_on 1 volume set "$name" $o >/dev/null || die "gluster volume set $name $o failed"
        done
        gluster_on 1 volume set "$name" user.heketi.id "$vid" >/dev/null
        gluster_on 1 volume start "$name" >/dev/null || die "gluster volume start $name failed"
        local p
        for ((p = 1; p < parts; p++)); do # expansions: add-brick, then rebalance (heketi always does)
            mapfile -t bricks < <(brick_hostpaths "$set" "$vid" "$p")
            gluster_on 1 volume add-brick "$name" "${bricks[@]}" >/dev/null || die "add-brick $name failed"
            gluster_on 1 volume rebalance "$name" start >/dev/null || log "rebalance $name did not start"
        done
    done <"$set/volumes.tsv"
}

# --- the heketi export JSON (what `heketi db export` would print for this cluster) ------------
heketi_export_json() {
    local hk cid out
    hk=$(HK)
    cid=$(<"$hk/cluster.id")
    out=$hk/export.json.new
    local -a node_ids=() vol_ids=()
    mapfile -t node_ids < <(cut -f2 "$hk/nodes.tsv" | sort)
    mapfile -t vol_ids < <(cut -f1 "$hk/volumes.tsv" | sort)
    # mount hosts: storage host of every cluster node, in cluster.Nodes (sorted id) order
    local -a hosts=()
    local id
    for id in "${node_ids[@]}"; do hosts+=("$(awk -F'\t' -v i="$id" '$2 == i { print $4 }' "$hk/nodes.tsv")"); done
    local backup
    backup=$(
        IFS=,
        printf '%s' "${hosts[*]:1}"
    )
    {
        printf '{\n"clusterentries": {\n'
        printf '%s: {"Info": {"id": %s, "nodes": %s, "volumes": %s, "block": true, "file": true, "blockvolumes": []}}\n' \
            "$(json_str "$cid")" "$(json_str "$cid")" "$(json_arr "${node_ids[@]}")" "$(json_arr "${vol_ids[@]}")"
        printf '},\n"volumeentries": {\n'
        local first=1 vid name kind replica data red size gid factor opts
        while IFS=$'\t' read -r vid name kind replica data red size gid factor opts; do
            ((first)) || printf ',\n'
            first=0
            local dtype=$kind rep='{}' dis='{}'
            case $kind in
                replicate | arbiter) dtype=replicate rep="{\"replica\": $replica}" ;;
                disperse) dis="{\"data\": $data, \"redundancy\": $red}" ;;
            esac
            local enable=false
            [[ $factor == 1 ]] || enable=true
            local -a bricks=() o_list=() gvo=("")
            mapfile -t bricks < <(awk -F'\t' -v v="$vid" '$2 == v { print $1 }' "$hk/bricks.tsv" | sort)
            IFS=';' read -r -a o_list <<<"$opts"
            local o
            for o in "${o_list[@]}"; do [[ -n $o ]] && gvo+=("$o"); done
            gvo+=("")
            printf '%s: {"Info": {"size": %s, "name": %s, "durability": {"type": "%s", "replicate": %s, "disperse": %s}, "gid": %s, "snapshot": {"enable": %s, "factor": %s}, "id": %s, "cluster": %s, "mount": {"glusterfs": {"hosts": %s, "device": %s, "options": {"backup-volfile-servers": %s}}}, "blockinfo": {}}, "Bricks": %s, "GlusterVolumeOptions": %s, "Pending": {"Id": ""}}' \
                "$(json_str "$vid")" "$size" "$(json_str "$name")" "$dtype" "$rep" "$dis" "$gid" "$enable" "$factor" \
                "$(json_str "$vid")" "$(json_str "$cid")" "$(json_arr "${hosts[@]}")" "$(json_str "${hosts[0]}:$name")" \
                "$(json_str "$backup")" "$(json_arr "${bricks[@]}")" "$(json_arr "${gvo[@]}")"
        done < <(sort "$hk/volumes.tsv")
        printf '\n},\n"brickentries": {\n'
        first=1
        local bid bn bd bsize tp pms pool subtype
        while IFS=$'\t' read -r bid vid bn bd bsize tp pms pool subtype _; do
            ((first)) || printf ',\n'
            first=0
            local nid
            nid=$(awk -F'\t' -v n="$bn" '$1 == n { print $2 }' "$hk/nodes.tsv")
            printf '%s: {"Info": {"id": %s, "path": "/var/lib/heketi/mounts/vg_%s/brick_%s/brick", "device": %s, "node": %s, "volume": %s, "size": %s}, "TpSize": %s, "PoolMetadataSize": %s, "Pending": {"Id": ""}, "LvmThinPool": %s, "LvmLv": "", "SubType": %s}' \
                "$(json_str "$bid")" "$(json_str "$bid")" "$bd" "$bid" "$(json_str "$bd")" "$(json_str "$nid")" \
                "$(json_str "$vid")" "$bsize" "$tp" "$pms" "$(json_str "$pool")" "$subtype"
        done < <(sort "$hk/bricks.tsv")
        printf '\n},\n"nodeentries": {\n'
        first=1
        local i nid hostname ip
        while IFS=$'\t' read -r i nid hostname ip; do
            ((first)) || printf ',\n'
            first=0
            local -a devs=()
            mapfile -t devs < <(awk -F'\t' -v n="$i" '$2 == n { print $1 }' "$hk/devices.tsv" | sort)
            printf '%s: {"State": "online", "Info": {"zone": %s, "hostnames": {"manage": %s, "storage": %s}, "cluster": %s, "id": %s}, "Devices": %s}' \
                "$(json_str "$nid")" "$i" "$(json_arr "$hostname")" "$(json_arr "$ip")" "$(json_str "$cid")" \
                "$(json_str "$nid")" "$(json_arr "${devs[@]}")"
        done <"$hk/nodes.tsv"
        printf '\n},\n"deviceentries": {\n'
        first=1
        local devid n loop uuid total ext
        while IFS=$'\t' read -r devid n loop uuid total ext; do
            ((first)) || printf ',\n'
            first=0
            local -a dbricks=()
            local dused
            mapfile -t dbricks < <(awk -F'\t' -v d="$devid" '$4 == d { print $1 }' "$hk/bricks.tsv" | sort)
            dused=$(awk -F'\t' -v d="$devid" '$4 == d { s += $6 + $7 } END { print s + 0 }' "$hk/bricks.tsv")
            nid=$(awk -F'\t' -v i="$n" '$1 == i { print $2 }' "$hk/nodes.tsv")
            printf '%s: {"State": "online", "Info": {"name": %s, "storage": {"total": %s, "free": %s, "used": %s}, "id": %s, "paths": %s, "pv_uuid": %s}, "Bricks": %s, "NodeId": %s, "ExtentSize": %s}' \
                "$(json_str "$devid")" "$(json_str "$loop")" "$total" "$((total - dused))" "$dused" "$(json_str "$devid")" \
                "$(json_arr "$loop")" "$(json_str "$uuid")" "$(json_arr "${dbricks[@]}")" "$(json_str "$nid")" "$ext"
        done < <(sort "$hk/devices.tsv")
        printf '\n},\n"blockvolumeentries": {},\n"dbattributeentries": {\n'
        local k
        for k in DB_BRICK_HAS_SUBTYPE_FIELD DB_CLUSTER_HAS_FILE_BLOCK_FLAG DB_DEVICE_HAS_ID_META; do
            printf '"%s": {"Key": "%s", "Value": "yes"},\n' "$k" "$k"
        done
        printf '"DB_GENERATION_ID": {"Key": "DB_GENERATION_ID", "Value": "%s"},\n' "$(new_id)"
        printf '"DB_HAS_PENDING_OPS_BUCKET": {"Key": "DB_HAS_PENDING_OPS_BUCKET", "Value": "yes"}\n'
        printf '},\n"pendingoperations": {}\n}\n'
    } >"$out"
    mv "$out" "$hk/export.json"
}

find_heketi_doctor() {
    if [[ -n ${HEKETI_DOCTOR:-} ]]; then
        printf '%s' "$HEKETI_DOCTOR"
        return
    fi
    local c
    for c in "$(command -v heketi-doctor 2>/dev/null)" "$LAB_HOME/../../target/release/heketi-doctor" \
        "$LAB_HOME/../../target/debug/heketi-doctor"; do
        [[ -n $c && -x $c ]] && {
            printf '%s' "$c"
            return
        }
    done
}

heketi_db() {
    local hk bin
    hk=$(HK)
    bin=$(find_heketi_doctor)
    if [[ -z $bin ]]; then
        log "heketi-doctor not found (set HEKETI_DOCTOR or cargo build): wrote $hk/export.json only"
        return 0
    fi
    rm -f "$hk/heketi.db"
    "$bin" import --json "$hk/export.json" --db-out "$hk/heketi.db" >/dev/null ||
        die "heketi-doctor import of $hk/export.json failed"
}
