// SPDX-License-Identifier: GPL-2.0
/* The DNS monitor's kernel side (see source/dns_capture.h): programs
 * attached to the cgroup v2 root, so they see every socket of the machine
 * without kprobes or fentry.
 *
 *   cgroup/sock_create, connect4/6, sendmsg4/6: run in the task that
 *     creates, connects or sends on an inet socket; record socket cookie ->
 *     process. The later hooks overwrite the creator: a socket handed to a
 *     child is the child's when it uses it.
 *   cgroup/sock_release: forgets the socket.
 *   cgroup_skb ingress/egress: a UDP or TCP packet to or from port 53 is
 *     copied (headers parsed here, payload up to DNS_CAPTURE_MAX_PAYLOAD
 *     bytes) with its socket's cookie and process into the ring buffer.
 *
 * Every program lets the packet or call through: the monitor watches,
 * never blocks. */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dns_capture.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct dns_socket_owner);
} socket_owner SEC(".maps");

/* Records are as long as their packet (header + captured payload, ~200
 * bytes for a typical query or answer), not the 2 KiB of a full record:
 * 1 MiB holds thousands. User space maps the data pages twice, so the
 * ring counts twice its size in the recorder's RSS. */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Where a record is built before it is copied into the ring at its
 * length (a reserved record's size must be a constant). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct dns_capture_event);
} scratch SEC(".maps");

/* Packets the ring buffer had no room for (index 0), read by user space. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} lost SEC(".maps");

static __always_inline void remember(__u64 cookie) {
  __u64 id = bpf_get_current_pid_tgid();
  struct dns_socket_owner owner = {.tgid = id >> 32, .tid = (__u32)id};
  if (owner.tgid == 0) return; /* a kernel thread */
  bpf_map_update_elem(&socket_owner, &cookie, &owner, BPF_ANY);
}

SEC("cgroup/sock_create")
int dns_sock_create(struct bpf_sock *sk) {
  if (sk->family == 2 /* AF_INET */ || sk->family == 10 /* AF_INET6 */)
    remember(bpf_get_socket_cookie(sk));
  return 1;
}

SEC("cgroup/sock_release")
int dns_sock_release(struct bpf_sock *sk) {
  __u64 cookie = bpf_get_socket_cookie(sk);
  bpf_map_delete_elem(&socket_owner, &cookie);
  return 1;
}

SEC("cgroup/connect4")
int dns_connect4(struct bpf_sock_addr *ctx) {
  remember(bpf_get_socket_cookie(ctx));
  return 1;
}

SEC("cgroup/connect6")
int dns_connect6(struct bpf_sock_addr *ctx) {
  remember(bpf_get_socket_cookie(ctx));
  return 1;
}

SEC("cgroup/sendmsg4")
int dns_sendmsg4(struct bpf_sock_addr *ctx) {
  remember(bpf_get_socket_cookie(ctx));
  return 1;
}

SEC("cgroup/sendmsg6")
int dns_sendmsg6(struct bpf_sock_addr *ctx) {
  remember(bpf_get_socket_cookie(ctx));
  return 1;
}

static __always_inline void capture(struct __sk_buff *skb, int egress) {
  /* The headers first, on the stack (the record is reserved only for a
   * packet to or from port 53). */
  __u8 saddr[16] = {}, daddr[16] = {};
  __u32 offset = 0, tcp_seq = 0;
  __u8 protocol = 0, family = 0;
  if (skb->protocol == bpf_htons(0x0800)) {
    struct iphdr ip;
    if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0) return;
    if (ip.frag_off & bpf_htons(0x1FFF)) return; /* a later fragment: no ports */
    protocol = ip.protocol;
    offset = ip.ihl * 4;
    family = 4;
    __builtin_memcpy(saddr, &ip.saddr, 4);
    __builtin_memcpy(daddr, &ip.daddr, 4);
  } else if (skb->protocol == bpf_htons(0x86DD)) {
    struct ipv6hdr ip6;
    if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0) return;
    protocol = ip6.nexthdr; /* extension headers: not followed */
    offset = sizeof(ip6);
    family = 6;
    __builtin_memcpy(saddr, &ip6.saddr, 16);
    __builtin_memcpy(daddr, &ip6.daddr, 16);
  } else {
    return;
  }
  __u16 ports[2];
  if (protocol == IPPROTO_UDP) {
    if (bpf_skb_load_bytes(skb, offset, ports, sizeof(ports)) < 0) return;
    offset += sizeof(struct udphdr);
  } else if (protocol == IPPROTO_TCP) {
    struct tcphdr tcp;
    if (bpf_skb_load_bytes(skb, offset, &tcp, sizeof(tcp)) < 0) return;
    ports[0] = tcp.source;
    ports[1] = tcp.dest;
    tcp_seq = bpf_ntohl(tcp.seq);
    offset += tcp.doff * 4;
  } else {
    return;
  }
  const __u16 sport = bpf_ntohs(ports[0]), dport = bpf_ntohs(ports[1]);
  if (sport != DNS_CAPTURE_PORT && dport != DNS_CAPTURE_PORT) return;
  const __u32 length = skb->len > offset ? skb->len - offset : 0;
  if (length == 0 && protocol == IPPROTO_TCP) return; /* a bare ACK, SYN or FIN */

  __u32 zero = 0;
  struct dns_capture_event *event = bpf_map_lookup_elem(&scratch, &zero);
  if (!event) return;
  event->mono_ns = bpf_ktime_get_ns();
  event->socket_cookie = bpf_get_socket_cookie(skb);
  struct dns_socket_owner *owner = bpf_map_lookup_elem(&socket_owner, &event->socket_cookie);
  event->tgid = owner ? owner->tgid : 0;
  event->tcp_seq = tcp_seq;
  event->payload_len = length;
  event->egress = egress;
  event->family = family;
  event->protocol = protocol;
  event->pad = 0;
  event->sport = sport;
  event->dport = dport;
  __builtin_memcpy(event->saddr, saddr, 16);
  __builtin_memcpy(event->daddr, daddr, 16);
  event->captured_len = 0;
  __u64 copy = 0;
  if (length > 0) {
    /* 1..DNS_CAPTURE_MAX_PAYLOAD, in a form the verifier can bound: the
     * mask is applied in the register the helper then receives. */
    copy = (length > DNS_CAPTURE_MAX_PAYLOAD ? DNS_CAPTURE_MAX_PAYLOAD : length) - 1;
    asm volatile("%[copy] &= %[mask]" : [copy] "+r"(copy) : [mask] "i"(DNS_CAPTURE_MAX_PAYLOAD - 1));
    copy += 1;
    if (bpf_skb_load_bytes(skb, offset, event->payload, copy) == 0)
      event->captured_len = copy;
    else
      copy = 0;
  }
  if (bpf_ringbuf_output(&events, event, DNS_CAPTURE_HEADER_SIZE + copy, 0) != 0) {
    __u64 *count = bpf_map_lookup_elem(&lost, &zero);
    if (count) __sync_fetch_and_add(count, 1);
  }
}

SEC("cgroup_skb/egress")
int dns_egress(struct __sk_buff *skb) {
  capture(skb, 1);
  return 1;
}

SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb) {
  capture(skb, 0);
  return 1;
}
