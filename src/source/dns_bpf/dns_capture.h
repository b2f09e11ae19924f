/* The record the DNS capture's BPF programs (dns_capture.bpf.c) put in
 * the ring buffer, shared with user space (source/dns_capture.cc). C, so
 * both compilers read it; fixed-size fields only. */
#ifndef RECORDER_DNS_CAPTURE_H
#define RECORDER_DNS_CAPTURE_H

#define DNS_CAPTURE_PORT 53
/* Payload bytes copied per packet: a DNS answer beyond this is cut (the
 * parser keeps the answers that were whole). A power of two: the
 * verifier bounds the copy's length with a mask. */
#define DNS_CAPTURE_MAX_PAYLOAD 2048

struct dns_capture_event {
  unsigned long long mono_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
  unsigned long long socket_cookie; /* 0 when the packet had no socket */
  unsigned int tgid;                /* the socket's process; 0 = not known */
  unsigned int tcp_seq;             /* TCP: the segment's first sequence number */
  unsigned int payload_len;         /* the transport payload's full length */
  unsigned int captured_len;        /* bytes of it in payload[] */
  unsigned char egress;             /* 1: leaving a local socket */
  unsigned char family;             /* 4 or 6 */
  unsigned char protocol;           /* IPPROTO_UDP (17) or IPPROTO_TCP (6) */
  unsigned char pad;
  unsigned short sport; /* host byte order */
  unsigned short dport;
  unsigned char saddr[16]; /* IPv4: the first 4 bytes */
  unsigned char daddr[16];
  unsigned char payload[DNS_CAPTURE_MAX_PAYLOAD];
};

/* A record in the ring is this header and room for its payload (256, 512
 * or DNS_CAPTURE_MAX_PAYLOAD bytes), captured_len of them used:
 * payload[] is the last field. */
#define DNS_CAPTURE_HEADER_SIZE __builtin_offsetof(struct dns_capture_event, payload)

/* The socket -> process map's value. */
struct dns_socket_owner {
  unsigned int tgid;
  unsigned int tid;
};

#endif
