/* Starting a process inside a node: cgroup, network namespace, mount namespace, /proc,
   chroot, UTS namespace, stdio, exec; async-signal-safe calls only after fork. */
#define _GNU_SOURCE
#include "CShim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
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
