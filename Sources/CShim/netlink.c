/* nstopo's own netlink messages, where libnl has no call or is slow: extended acks,
   batched neighbour entries, bridges, conntrack's timeouts through nfnetlink. */
#define _GNU_SOURCE
#include "CShim.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int nstopo_enable_ext_ack(int fd) {
  int one = 1;
  return setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
}

int nstopo_nlmsgerr_errno(const void *p) {
  const struct nlmsgerr *e = p;
  return -e->error;
}

const char *nstopo_extack_message(const void *p) {
  const struct nlmsgerr *e = p;
  const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)p - NLMSG_HDRLEN);
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return NULL;
  size_t offset = sizeof(*e);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
  size_t total = h->nlmsg_len - NLMSG_HDRLEN;
  if (offset >= total) return NULL;
  const char *tlv = (const char *)p + offset;
  size_t remaining = total - offset;
  while (remaining >= sizeof(struct nlattr)) {
    const struct nlattr *a = (const struct nlattr *)tlv;
    if (a->nla_len < sizeof(struct nlattr) || a->nla_len > remaining) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char *msg = tlv + NLA_HDRLEN;
      size_t len = a->nla_len - NLA_HDRLEN;
      if (len > 0 && memchr(msg, 0, len)) return msg;
      return NULL;
    }
    size_t step = NLA_ALIGN(a->nla_len);
    if (step > remaining) break;
    tlv += step;
    remaining -= step;
  }
  return NULL;
}

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>

int nstopo_rtnl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  nstopo_enable_ext_ack(fd);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads what the kernel queued. Returns 0, 1 when the ack of `last_seq` arrived, or a
   negative errno for the first refused message (its index in *failed). */
static int drain(int fd, uint32_t base, uint32_t last_seq, int block, size_t *failed, char *message,
                 size_t message_size, int ignored) {
  char buf[65536] __attribute__((aligned(4)));
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), block ? 0 : MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      struct nlmsgerr *e = NLMSG_DATA(h);
      if (e->error != 0 && e->error != -ignored) {
        *failed = h->nlmsg_seq - base;
        const char *m = nstopo_extack_message(e);
        if (message_size > 0) {
          message[0] = 0;
          if (m) {
            strncpy(message, m, message_size - 1);
            message[message_size - 1] = 0;
          }
        }
        return e->error;
      }
      if (h->nlmsg_seq == last_seq) return 1;
    }
  }
}

static int neigh_batch(int fd, const struct nstopo_neigh *entries, size_t count, int delete, size_t *failed,
                       char *message, size_t message_size) {
  if (count == 0) return 0;
  enum { CHUNK = 60000 };
  static __thread uint32_t next_seq = 1;
  char *buf = malloc(CHUNK + 256);
  if (!buf) return -ENOMEM;
  uint32_t base = next_seq;
  next_seq += (uint32_t)count + 1;
  uint32_t last = base + (uint32_t)count - 1;
  size_t used = 0;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int rc = 0;
  for (size_t i = 0; i < count; i++) {
    if (entries[i].family != AF_INET && entries[i].family != AF_INET6) {
      *failed = i;
      free(buf);
      return -EAFNOSUPPORT;
    }
  }
  for (size_t i = 0; i < count; i++) {
    /* Header, ndmsg, NDA_DST (4 or 16 bytes), NDA_LLADDR (6): at most 72 bytes. */
    size_t alen = entries[i].family == AF_INET ? 4 : 16;
    struct nlmsghdr *h = (struct nlmsghdr *)(buf + used);
    memset(h, 0, 128);
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
    h->nlmsg_type = delete ? RTM_DELNEIGH : RTM_NEWNEIGH;
    h->nlmsg_flags = NLM_F_REQUEST | (delete ? 0 : NLM_F_CREATE | NLM_F_REPLACE) | (i == count - 1 ? NLM_F_ACK : 0);
    h->nlmsg_seq = base + (uint32_t)i;
    struct ndmsg *nd = NLMSG_DATA(h);
    nd->ndm_family = entries[i].family;
    nd->ndm_ifindex = entries[i].ifindex;
    nd->ndm_state = NUD_PERMANENT;
    struct rtattr *dst = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
    dst->rta_type = NDA_DST;
    dst->rta_len = (unsigned short)RTA_LENGTH(alen);
    memcpy(RTA_DATA(dst), entries[i].address, alen);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(alen);
    struct rtattr *ll = (struct rtattr *)((char *)h + h->nlmsg_len);
    ll->rta_type = NDA_LLADDR;
    ll->rta_len = (unsigned short)RTA_LENGTH(6);
    memcpy(RTA_DATA(ll), entries[i].mac, 6);
    h->nlmsg_len += RTA_SPACE(6);
    used += NLMSG_ALIGN(h->nlmsg_len);
    if (used >= CHUNK || i == count - 1) {
      ssize_t sent;
      do {
        sent = sendto(fd, buf, used, 0, (struct sockaddr *)&kernel, sizeof(kernel));
      } while (sent < 0 && errno == EINTR);
      if (sent < 0) {
        rc = -errno;
        *failed = i;
        break;
      }
      used = 0;
      rc = drain(fd, base, last, i == count - 1, failed, message, message_size, delete ? ENOENT : 0);
      if (rc < 0) break;
      rc = 0;
    }
  }
  free(buf);
  return rc;
}

int nstopo_neigh_add_batch(int fd, const struct nstopo_neigh *entries, size_t count, size_t *failed,
                           char *message, size_t message_size) {
  return neigh_batch(fd, entries, count, 0, failed, message, message_size);
}

int nstopo_neigh_del_batch(int fd, const struct nstopo_neigh *entries, size_t count, size_t *failed,
                           char *message, size_t message_size) {
  return neigh_batch(fd, entries, count, 1, failed, message, message_size);
}

#include <linux/if_link.h>
#include <net/if.h>

/* Appends an attribute to a message being built in a buffer of `cap` bytes; returns it. */
static struct rtattr *put_attr(struct nlmsghdr *h, size_t cap, unsigned short type, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(h->nlmsg_len);
  if (at + RTA_SPACE(len) > cap) return NULL;
  struct rtattr *a = (struct rtattr *)((char *)h + at);
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  h->nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
  return a;
}

static void end_nest(struct nlmsghdr *h, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)nest);
}

int nstopo_bridge_add(int fd, const char *name, const uint8_t *mac, char *message, size_t message_size) {
  static __thread uint32_t seq = 0x40000000;
  char buf[512] __attribute__((aligned(4)));
  memset(buf, 0, sizeof(buf));
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  h->nlmsg_type = RTM_NEWLINK;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  h->nlmsg_seq = ++seq;
  struct ifinfomsg *ifi = NLMSG_DATA(h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  uint8_t off = 0;
  if (!put_attr(h, sizeof(buf), IFLA_IFNAME, name, strlen(name) + 1) ||
      !put_attr(h, sizeof(buf), IFLA_ADDRESS, mac, 6))
    return -EINVAL;
  struct rtattr *info = put_attr(h, sizeof(buf), IFLA_LINKINFO, NULL, 0);
  if (!info || !put_attr(h, sizeof(buf), IFLA_INFO_KIND, "bridge", 7)) return -EINVAL;
  struct rtattr *data = put_attr(h, sizeof(buf), IFLA_INFO_DATA, NULL, 0);
  if (!data || !put_attr(h, sizeof(buf), IFLA_BR_MCAST_SNOOPING, &off, 1)) return -EINVAL;
  end_nest(h, data);
  end_nest(h, info);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent;
  do {
    sent = sendto(fd, buf, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return -errno;
  size_t failed = 0;
  int rc = drain(fd, h->nlmsg_seq, h->nlmsg_seq, 1, &failed, message, message_size, 0);
  return rc < 0 ? rc : 0;
}

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cttimeout.h>
#include <netinet/in.h>

int nstopo_ct_tcp_close_timeout(uint32_t seconds, char *message, size_t message_size) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return -errno;
  nstopo_enable_ext_ack(fd);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  char buf[256] __attribute__((aligned(4)));
  memset(buf, 0, sizeof(buf));
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
  h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK_TIMEOUT << 8) | IPCTNL_MSG_TIMEOUT_DEFAULT_SET;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_seq = 1;
  struct nfgenmsg *g = NLMSG_DATA(h);
  g->nfgen_family = AF_INET;
  g->version = NFNETLINK_V0;
  uint16_t l3 = htons(AF_INET);
  uint8_t l4 = IPPROTO_TCP;
  uint32_t close_timeout = htonl(seconds);
  struct rtattr *data;
  if (!put_attr(h, sizeof(buf), CTA_TIMEOUT_L3PROTO, &l3, sizeof(l3)) ||
      !put_attr(h, sizeof(buf), CTA_TIMEOUT_L4PROTO, &l4, sizeof(l4)) ||
      !(data = put_attr(h, sizeof(buf), CTA_TIMEOUT_DATA | NLA_F_NESTED, NULL, 0)) ||
      !put_attr(h, sizeof(buf), CTA_TIMEOUT_TCP_CLOSE, &close_timeout, sizeof(close_timeout))) {
    close(fd);
    return -EINVAL;
  }
  end_nest(h, data);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent;
  do {
    sent = sendto(fd, buf, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  int rc = 0;
  if (sent < 0) {
    rc = -errno;
  } else {
    size_t failed = 0;
    rc = drain(fd, h->nlmsg_seq, h->nlmsg_seq, 1, &failed, message, message_size, 0);
    if (rc > 0) rc = 0;
  }
  close(fd);
  return rc;
}
