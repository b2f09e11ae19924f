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

/* A record is reserved at one of three sizes (header + 256, 512 or 2048
 * payload bytes: DNS_CAPTURE_CLASS below), the smallest its packet fits:
 * a typical query or answer takes ~340 bytes of the ring, not the 2 KiB
 * of a full record, so 1 MiB holds thousands. Reserved, not built in a
 * per-CPU buffer and copied: a softirq's program (ingress) can interrupt
 * a task's (egress) on the same CPU and would overwrite it. User space
 * maps the data pages twice, so the ring counts twice its size in the
 * recorder's RSS. */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

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

/* A reserved record's header; captured_len 0 until the payload is in. */
static __always_inline void fill(struct dns_capture_event *event, struct __sk_buff *skb,
                                 __u32 length, __u32 tcp_seq, int egress, __u8 family,
                                 __u8 protocol, __u16 sport, __u16 dport, const __u8 *saddr,
                                 const __u8 *daddr) {
  event->mono_ns = bpf_ktime_get_ns();
  __u64 cookie = bpf_get_socket_cookie(skb);
  event->socket_cookie = cookie;
  struct dns_socket_owner *owner = bpf_map_lookup_elem(&socket_owner, &cookie);
  event->tgid = owner ? owner->tgid : 0;
  event->tcp_seq = tcp_seq;
  event->payload_len = length;
  event->captured_len = 0;
  event->egress = egress;
  event->family = family;
  event->protocol = protocol;
  event->pad = 0;
  event->sport = sport;
  event->dport = dport;
  __builtin_memcpy(event->saddr, saddr, 16);
  __builtin_memcpy(event->daddr, daddr, 16);
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

  const __u64 wanted = length > DNS_CAPTURE_MAX_PAYLOAD ? DNS_CAPTURE_MAX_PAYLOAD : length;
  struct dns_capture_event *event = 0;
  /* Three constant-size reservations (the verifier wants a constant), and
   * in each a copy bounded by its room: the mask is applied in the
   * register the helper then receives. */
#define DNS_CAPTURE_CLASS(ROOM)                                                            \
  do {                                                                                     \
    event = bpf_ringbuf_reserve(&events, DNS_CAPTURE_HEADER_SIZE + (ROOM), 0);             \
    if (!event) break;                                                                     \
    fill(event, skb, length, tcp_seq, egress, family, protocol, sport, dport, saddr, daddr); \
    if (wanted > 0) {                                                                      \
      __u64 copy = wanted - 1;                                                             \
      asm volatile("%[copy] &= %[mask]" : [copy] "+r"(copy) : [mask] "i"((ROOM) - 1));     \
      copy += 1;                                                                           \
      if (bpf_skb_load_bytes(skb, offset, event->payload, copy) == 0)                      \
        event->captured_len = copy;                                                        \
    }                                                                                      \
    bpf_ringbuf_submit(event, 0);                                                          \
  } while (0)
  if (wanted <= 256)
    DNS_CAPTURE_CLASS(256);
  else if (wanted <= 512)
    DNS_CAPTURE_CLASS(512);
  else
    DNS_CAPTURE_CLASS(DNS_CAPTURE_MAX_PAYLOAD);
#undef DNS_CAPTURE_CLASS
  if (!event) {
    __u32 zero = 0;
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
