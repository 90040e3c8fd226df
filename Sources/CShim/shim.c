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
