#define _GNU_SOURCE
#include "CShim.h"
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

int nstopo_unshare_net(void) { return unshare(CLONE_NEWNET); }

int nstopo_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

pid_t nstopo_gettid(void) { return (pid_t)syscall(SYS_gettid); }

long nstopo_statfs_type(const char *path) {
  struct statfs s;
  if (statfs(path, &s) != 0) return -1;
  return (long)s.f_type;
}

int nstopo_make_shared(const char *path) { return mount("", path, "none", MS_SHARED | MS_REC, NULL); }

int nstopo_bind_mount(const char *source, const char *target) {
  return mount(source, target, "none", MS_BIND, NULL);
}

int nstopo_detach_unmount(const char *target) { return umount2(target, MNT_DETACH); }

#include <linux/netlink.h>
#include <sys/socket.h>
#include <string.h>

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
                 size_t message_size) {
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
      if (e->error != 0) {
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

int nstopo_neigh_add_batch(int fd, const struct nstopo_neigh *entries, size_t count, size_t *failed,
                           char *message, size_t message_size) {
  if (count == 0) return 0;
  enum { CHUNK = 60000 };
  static uint32_t next_seq = 1;
  char *buf = malloc(CHUNK + 256);
  if (!buf) return -ENOMEM;
  uint32_t base = next_seq;
  next_seq += (uint32_t)count + 1;
  uint32_t last = base + (uint32_t)count - 1;
  size_t used = 0;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int rc = 0;
  for (size_t i = 0; i < count; i++) {
    struct {
      struct nlmsghdr h;
      struct ndmsg nd;
      struct rtattr dst_attr;
      uint32_t dst;
      struct rtattr ll_attr;
      uint8_t ll[8];
    } *req = (void *)(buf + used);
    memset(req, 0, sizeof(*req));
    req->h.nlmsg_len = sizeof(*req);
    req->h.nlmsg_type = RTM_NEWNEIGH;
    req->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | (i == count - 1 ? NLM_F_ACK : 0);
    req->h.nlmsg_seq = base + (uint32_t)i;
    req->nd.ndm_family = AF_INET;
    req->nd.ndm_ifindex = entries[i].ifindex;
    req->nd.ndm_state = NUD_PERMANENT;
    req->dst_attr.rta_type = NDA_DST;
    req->dst_attr.rta_len = RTA_LENGTH(4);
    req->dst = entries[i].address;
    req->ll_attr.rta_type = NDA_LLADDR;
    req->ll_attr.rta_len = RTA_LENGTH(6);
    memcpy(req->ll, entries[i].mac, 6);
    used += NLMSG_ALIGN(sizeof(*req));
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
      rc = drain(fd, base, last, i == count - 1, failed, message, message_size);
      if (rc < 0) break;
      rc = 0;
    }
  }
  free(buf);
  return rc;
}

#include <sys/epoll.h>

int nstopo_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int nstopo_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
  struct epoll_event ev = {.events = events, .data.u64 = token};
  return epoll_ctl(epfd, op, fd, &ev);
}

int nstopo_epoll_wait(int epfd, struct nstopo_event *out, int max, int timeout_ms) {
  struct epoll_event evs[1024];
  if (max > 1024) max = 1024;
  int n = epoll_wait(epfd, evs, max, timeout_ms);
  for (int i = 0; i < n; i++) {
    out[i].events = evs[i].events;
    out[i].token = evs[i].data.u64;
  }
  return n;
}

int nstopo_accept_nonblock(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int nstopo_bind_to_device(int fd, const char *device) {
  return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device));
}
