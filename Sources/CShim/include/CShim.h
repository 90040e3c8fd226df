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

/// setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1): ask the kernel for its error text.
/// SOL_NETLINK and NETLINK_EXT_ACK are not exported to Swift.
int nstopo_enable_ext_ack(int fd);
/// The kernel's extended-ack message (NLMSGERR_ATTR_MSG) of an error message, or NULL.
/// `nlmsgerr` points at the struct nlmsgerr inside a received NLMSG_ERROR message.
const char *nstopo_extack_message(const void *nlmsgerr);
/// The errno of a struct nlmsgerr (positive).
int nstopo_nlmsgerr_errno(const void *nlmsgerr);

#endif
