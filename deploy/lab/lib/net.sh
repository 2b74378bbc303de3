# shellcheck shell=bash
# Lab network: a dedicated network namespace "<name>-lab" holds a bridge; every node is a network
# namespace "<name>-nodeI" whose eth0 is a veth into that bridge. Nothing is created in the host's
# network namespace, and no namespace has a route anywhere but the private lab subnet.

netns_exists() { [[ -e /run/netns/$1 ]]; }

net_up_bridge() {
    if ! netns_exists "$BRIDGE_NS"; then
        ip netns add "$BRIDGE_NS"
    fi
    ip -n "$BRIDGE_NS" link set lo up
    if ! ip -n "$BRIDGE_NS" link show br0 >/dev/null 2>&1; then
        ip -n "$BRIDGE_NS" link add br0 type bridge
    fi
    ip -n "$BRIDGE_NS" link set br0 up
}

net_up_node() {
    local i=$1 ns
    ns=$(node_ns "$i")
    netns_exists "$ns" || ip netns add "$ns"
    ip -n "$ns" link set lo up
    if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
        # Both ends are created directly in their namespaces (no name in the host's namespace).
        ip -n "$BRIDGE_NS" link del "n$i" >/dev/null 2>&1 || true
        ip link add eth0 netns "$ns" type veth peer name "n$i" netns "$BRIDGE_NS"
    fi
    ip -n "$BRIDGE_NS" link set "n$i" master br0
    ip -n "$BRIDGE_NS" link set "n$i" up
    ip -n "$ns" addr replace "$(node_ip "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
}

net_down() {
    local i
    for ((i = 1; i <= HD_LAB_NODES; i++)); do
        netns_exists "$(node_ns "$i")" && ip netns del "$(node_ns "$i")"
    done
    netns_exists "$BRIDGE_NS" && ip netns del "$BRIDGE_NS"
    return 0
}
