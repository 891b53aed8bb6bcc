# Sourced by the live checks: two network namespaces, $client (198.18.0.2, veth-c) and $server (198.18.0.1,
# veth-s), joined by a veth pair. Nothing outside them is touched; the caller's trap deletes them.
veth_pair() {
  local client=$1 server=$2
  ip netns add "$client"
  ip netns add "$server"
  ip link add veth-c netns "$client" type veth peer name veth-s netns "$server"
  ip -n "$client" addr add 198.18.0.2/24 dev veth-c
  ip -n "$server" addr add 198.18.0.1/24 dev veth-s
  for ns in "$client" "$server"; do ip -n "$ns" link set lo up; done
  ip -n "$client" link set veth-c up
  ip -n "$server" link set veth-s up
}
