#ifndef NSTOPO_CSHIM_H
#define NSTOPO_CSHIM_H
// Prefixed shims for what Swift's Glibc module cannot import: it is built without
// _GNU_SOURCE, so unshare, setns, CLONE_NEWNET and gettid are missing, and statfs and
// the epoll family are not in it at all. Delete a shim when Glibc exports its function.
#include <stdint.h>
#include <sys/types.h>

/// unshare(CLONE_NEWNET): move the calling thread into a new network namespace.
int nstopo_unshare_net(void);
/// setns(fd, CLONE_NEWNET): move the calling thread into the namespace behind fd.
int nstopo_setns_net(int fd);
/// gettid(): the calling thread's id, for /proc/<pid>/task/<tid>/ns/net.
pid_t nstopo_gettid(void);
/// statfs(path)->f_type, or -1 with errno set.
long nstopo_statfs_type(const char *path);
/// mount(2) and umount2(2) with the flags this project uses, so Swift needs no MS_* constants.
int nstopo_make_shared(const char *path);          // mount --make-shared
int nstopo_bind_mount(const char *source, const char *target); // mount --bind
int nstopo_detach_unmount(const char *target);     // umount -l
/// renameat2(olddirfd, old, newdirfd, new, RENAME_NOREPLACE): fails with EEXIST instead of
/// replacing an existing entry (plain rename replaces an empty directory). Not in Glibc's
/// module without _GNU_SOURCE.
int nstopo_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/// setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1): ask the kernel for its error text.
/// SOL_NETLINK and NETLINK_EXT_ACK are not exported to Swift.
int nstopo_enable_ext_ack(int fd);
/// The kernel's extended-ack message (NLMSGERR_ATTR_MSG) of an error message, or NULL.
/// `nlmsgerr` points at the struct nlmsgerr inside a received NLMSG_ERROR message.
const char *nstopo_extack_message(const void *nlmsgerr);
/// The errno of a struct nlmsgerr (positive).
int nstopo_nlmsgerr_errno(const void *nlmsgerr);

/// A permanent neighbour entry for nstopo_neigh_add_batch: `family` is AF_INET (the first 4
/// bytes of `address` used) or AF_INET6 (all 16), in network byte order.
struct nstopo_neigh {
  int ifindex;
  uint8_t family;
  uint8_t address[16];
  uint8_t mac[6];
};

/// socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) in the calling thread's namespace, with large
/// buffers and extended acks. Returns the fd or -1.
int nstopo_rtnl_open(void);
/// Equivalent to `ip link add NAME address MAC up type bridge mcast_snooping 0`, on a socket
/// from nstopo_rtnl_open. Returns 0 or a negative errno (the kernel's message in `message`).
int nstopo_bridge_add(int fd, const char *name, const uint8_t *mac, char *message, size_t message_size);

/// Sets the calling thread's namespace's conntrack timeout for TCP connections in state CLOSE,
/// in seconds, through nfnetlink_cttimeout's default-set (`nfct default-set`), the same value as
/// `sysctl -w net.netfilter.nf_conntrack_tcp_timeout_close=SECONDS` without a lookup in
/// /proc/sys. Returns 0 or a negative errno (-EOPNOTSUPP and the like without the feature).
int nstopo_ct_tcp_close_timeout(uint32_t seconds, char *message, size_t message_size);

/// Adds `count` permanent neighbours (ARP or NDP entries) (`ip neigh replace ... nud permanent`) with as few
/// sendmsg calls as fit, acking only the last message; the kernel still reports every failure.
/// Exists because libnl sends one message per call and waits for each ack: 999,000 entries
/// took 32 s that way. Returns 0, or a negative errno with *failed set to the index of the
/// entry the kernel refused and `message` filled with its extended-ack text, if any.
int nstopo_neigh_add_batch(int fd, const struct nstopo_neigh *entries, size_t count, size_t *failed,
                           char *message, size_t message_size);
/// The reverse, batched the same way: `ip neigh del ADDR dev IF` per entry; an entry already
/// gone is not an error.
int nstopo_neigh_del_batch(int fd, const struct nstopo_neigh *entries, size_t count, size_t *failed,
                           char *message, size_t message_size);

/// epoll, which Swift's Glibc module does not export. Events carry a 64-bit token.
struct nstopo_event {
  uint32_t events;
  uint64_t token;
};
enum {
  NSTOPO_EPOLLIN = 0x001,
  NSTOPO_EPOLLOUT = 0x004,
  NSTOPO_EPOLLERR = 0x008,
  NSTOPO_EPOLLHUP = 0x010,
  NSTOPO_EPOLLRDHUP = 0x2000,
};
int nstopo_epoll_create(void);
/// op: 1 add, 2 delete, 3 modify (EPOLL_CTL_*).
int nstopo_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);
int nstopo_epoll_wait(int epfd, struct nstopo_event *events, int max, int timeout_ms);
/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC).
int nstopo_accept_nonblock(int fd);

/// Sequentially consistent loads and adds on an int shared by threads.
int nstopo_atomic_load(const int *p);
int nstopo_atomic_add(int *p, int delta);
/// setsockopt(SO_BINDTODEVICE): route only through `device`.
int nstopo_bind_to_device(int fd, const char *device);

/// `setsockopt(IP_RECVERR)` (or `IPV6_RECVERR` when `ipv6`): ICMP errors for the socket are
/// queued on its error queue, also those the kernel takes as soft while the socket is busy.
int nstopo_set_recverr(int fd, int ipv6);
/// An ICMPv6 raw socket's filter: echo replies and errors only (`setsockopt ICMP6_FILTER`).
int nstopo_icmp6_filter_echo_reply(int fd);

/// The errno of the first ICMP error on the socket's error queue (`recvmsg(MSG_ERRQUEUE)`,
/// `sock_extended_err.ee_errno`), 0 when there is none.
int nstopo_read_icmp_error(int fd);

/// What nstopo_spawn does in the child, in this order: new session, default signals, join
/// cgroups, enter the network namespace, a UTS namespace of its own with the node's
/// hostname, private mount namespace with /proc, chroot, stdio, exec. Every string is prepared by the caller: the child only makes system calls.
struct nstopo_spawn_spec {
  const char *const *argv;         /* NULL-terminated; argv[0] is searched in PATH */
  const char *const *envp;         /* NULL-terminated */
  const char *const *cgroup_procs; /* NULL-terminated cgroup.procs files to join */
  int netns_fd;                    /* -1: stay in the caller's namespace */
  const char *root;                /* chroot directory, or NULL */
  const char *proc_mount;          /* "<root>/proc" to mount procfs on, or NULL */
  int stdin_fd, stdout_fd, stderr_fd; /* -1: inherit */
  int new_session;                 /* setsid() */
  const char *hostname;            /* a new UTS namespace with this hostname, or NULL */
};

/// Forks and starts the child described by `spec`. Returns its pid, or -1 with `error`
/// naming the step that failed and why (e.g. "chroot /srv/rootfs: No such file or directory").
/// Exists because setns/unshare/chroot/mount must happen in the child between fork and exec,
/// which Swift cannot do safely (nothing but system calls may run there).
pid_t nstopo_spawn(const struct nstopo_spawn_spec *spec, char *error, size_t error_size);

#endif
