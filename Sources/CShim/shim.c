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
