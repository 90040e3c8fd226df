/* The system calls Swift's Glibc module does not export (namespaces, mounts, epoll,
   socket options): one thin function each. */
#define _GNU_SOURCE
#include "CShim.h"
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/icmp6.h>
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

int nstopo_icmp6_filter_echo_reply(int fd) {
  struct icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &filter);
  return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
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
