#define _GNU_SOURCE
#include "CShim.h"
#include <sched.h>
#include <stdio.h>
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

int nstopo_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
  return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);
}

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

int nstopo_atomic_load(const int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

int nstopo_atomic_add(int *p, int delta) { return __atomic_add_fetch(p, delta, __ATOMIC_SEQ_CST); }

int nstopo_bind_to_device(int fd, const char *device) {
  return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device));
}

#include <linux/errqueue.h>
#include <netinet/in.h>

int nstopo_set_recverr(int fd, int ipv6) {
  int one = 1;
  return ipv6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one) : setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
}

int nstopo_read_icmp_error(int fd) {
  char data[64];
  char control[256];
  struct iovec iov = {data, sizeof data};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      struct sock_extended_err e;
      memcpy(&e, CMSG_DATA(c), sizeof e);
      return (int)e.ee_errno;
    }
  }
  return 0;
}

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

enum { STEP_SETSID = 1, STEP_CGROUP, STEP_SETNS, STEP_UNSHARE, STEP_PRIVATE, STEP_PROC, STEP_CHROOT, STEP_CHDIR, STEP_DUP, STEP_EXEC, STEP_UTS, STEP_HOSTNAME };

struct child_error {
  int step;
  int err;
  int index;
};

static void child_fail(int fd, int step, int index) {
  struct child_error e = {step, errno, index};
  ssize_t unused = write(fd, &e, sizeof(e));
  (void)unused;
  _exit(127);
}

static size_t cstrlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

/* Decimal pid into buf; async-signal-safe. */
static size_t format_pid(pid_t pid, char *buf) {
  char tmp[16];
  size_t n = 0;
  unsigned long v = (unsigned long)pid;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v && n < sizeof(tmp));
  for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n++] = '\n';
  return n;
}

/* Every descriptor above stdio closes at exec, so a service holds none of nstopo's own
   (a pipe on nstopo's stdout, say, that `nstopo up | cat` waits on). The error pipe
   stays open until exec: it is already close-on-exec. */
static void close_inherited(void) {
#ifdef CLOSE_RANGE_CLOEXEC
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
  for (int i = 3; i < 65536; i++) {
    int flags = fcntl(i, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(i, F_SETFD, flags | FD_CLOEXEC);
  }
}

static void exec_search(const struct nstopo_spawn_spec *s) {
  const char *file = s->argv[0];
  for (const char *p = file; *p; p++) {
    if (*p == '/') {
      execve(file, (char *const *)s->argv, (char *const *)s->envp);
      return;
    }
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const char *const *e = s->envp; *e; e++) {
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  }
  char buf[4096];
  size_t flen = cstrlen(file);
  int saw_eacces = 0;
  const char *dir = path;
  for (;;) {
    const char *end = dir;
    while (*end && *end != ':') end++;
    size_t dlen = (size_t)(end - dir);
    if (dlen + flen + 2 < sizeof(buf)) {
      memcpy(buf, dir, dlen);
      size_t n = dlen;
      if (n == 0) buf[n++] = '.';
      buf[n++] = '/';
      memcpy(buf + n, file, flen + 1);
      execve(buf, (char *const *)s->argv, (char *const *)s->envp);
      if (errno == EACCES) saw_eacces = 1;
    }
    if (!*end) break;
    dir = end + 1;
  }
  errno = saw_eacces ? EACCES : ENOENT;
}

pid_t nstopo_spawn(const struct nstopo_spawn_spec *s, char *error, size_t error_size) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    snprintf(error, error_size, "pipe: %s", strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(error, error_size, "fork: %s", strerror(errno));
    close(pipefd[0]);
    close(pipefd[1]);
    return -1;
  }
  if (pid == 0) {
    int fd = pipefd[1];
    if (s->new_session && setsid() < 0) child_fail(fd, STEP_SETSID, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < 32; sig++) {
      if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    }
    if (s->cgroup_procs) {
      char buf[24];
      size_t n = format_pid(getpid(), buf);
      for (int i = 0; s->cgroup_procs[i]; i++) {
        int c = open(s->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
        if (c < 0 || write(c, buf, n) != (ssize_t)n) child_fail(fd, STEP_CGROUP, i);
        close(c);
      }
    }
    if (s->netns_fd >= 0 && setns(s->netns_fd, CLONE_NEWNET) != 0) child_fail(fd, STEP_SETNS, 0);
    if (s->hostname) {
      if (unshare(CLONE_NEWUTS) != 0) child_fail(fd, STEP_UTS, 0);
      if (sethostname(s->hostname, cstrlen(s->hostname)) != 0) child_fail(fd, STEP_HOSTNAME, 0);
    }
    if (s->root) {
      if (unshare(CLONE_NEWNS) != 0) child_fail(fd, STEP_UNSHARE, 0);
      if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) child_fail(fd, STEP_PRIVATE, 0);
      if (s->proc_mount && mount("proc", s->proc_mount, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        child_fail(fd, STEP_PROC, 0);
      if (chroot(s->root) != 0) child_fail(fd, STEP_CHROOT, 0);
      if (chdir("/") != 0) child_fail(fd, STEP_CHDIR, 0);
    }
    if (s->stdin_fd >= 0 && dup2(s->stdin_fd, 0) < 0) child_fail(fd, STEP_DUP, 0);
    if (s->stdout_fd >= 0 && dup2(s->stdout_fd, 1) < 0) child_fail(fd, STEP_DUP, 1);
    if (s->stderr_fd >= 0 && dup2(s->stderr_fd, 2) < 0) child_fail(fd, STEP_DUP, 2);
    close_inherited();
    exec_search(s);
    child_fail(fd, STEP_EXEC, 0);
  }
  close(pipefd[1]);
  struct child_error e;
  ssize_t n;
  do {
    n = read(pipefd[0], &e, sizeof(e));
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  if (n == (ssize_t)sizeof(e)) {
    int status;
    waitpid(pid, &status, 0);
    const char *what = "exec";
    const char *object = s->argv[0];
    switch (e.step) {
    case STEP_SETSID: what = "setsid"; object = ""; break;
    case STEP_CGROUP: what = "join cgroup"; object = s->cgroup_procs[e.index]; break;
    case STEP_SETNS: what = "enter network namespace"; object = ""; break;
    case STEP_UNSHARE: what = "create mount namespace"; object = ""; break;
    case STEP_PRIVATE: what = "make mounts private"; object = ""; break;
    case STEP_PROC: what = "mount /proc on"; object = s->proc_mount; break;
    case STEP_CHROOT: what = "chroot"; object = s->root; break;
    case STEP_CHDIR: what = "chdir /"; object = ""; break;
    case STEP_DUP: what = "redirect stdio"; object = ""; break;
    case STEP_UTS: what = "create UTS namespace"; object = ""; break;
    case STEP_HOSTNAME: what = "set hostname"; object = s->hostname; break;
    }
    snprintf(error, error_size, "%s%s%s: %s", what, object[0] ? " " : "", object, strerror(e.err));
    errno = e.err;
    return -1;
  }
  return pid;
}
