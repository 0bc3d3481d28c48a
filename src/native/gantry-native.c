/*
 * gantry_native: the few Linux syscalls Node's fs module does not offer, exposed through
 * Node-API (plain C, no dependencies). Everything here is thin: argument checks, one syscall,
 * and a Node-style error (`code`, `errno`, `syscall`, `path`) on failure. All calls are
 * synchronous except watchExit, which reports a child's exit later from the event loop.
 * The typed wrapper is src/native/native.ts.
 */
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <node_api.h>
#include <sys/sendfile.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <uv.h> /* uv_err_name_r / uv_strerror_r (the errno names and texts Node uses); uv_poll_t on Node's loop */

#define CHECK(call)                                                                           \
  do {                                                                                        \
    if ((call) != napi_ok) return NULL;                                                       \
  } while (0)

/* A Node-style error `EPERM: operation not permitted, mknod '/path'` with code/errno/syscall/path set. */
static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  char name[64], desc[256], *msg;
  napi_value error, message, value;
  uv_err_name_r(-err, name, sizeof name);
  uv_strerror_r(-err, desc, sizeof desc);
  size_t len = strlen(name) + strlen(desc) + strlen(syscall) + (path ? strlen(path) : 0) + 16;
  msg = malloc(len);
  if (msg == NULL) return NULL;
  if (path) snprintf(msg, len, "%s: %s, %s '%s'", name, desc, syscall, path);
  else snprintf(msg, len, "%s: %s, %s", name, desc, syscall);
  napi_status status = napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  free(msg);
  if (status != napi_ok || napi_create_error(env, NULL, message, &error) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &value) == napi_ok)
    napi_set_named_property(env, error, "code", value);
  if (napi_create_int32(env, -err, &value) == napi_ok) napi_set_named_property(env, error, "errno", value);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value) == napi_ok)
    napi_set_named_property(env, error, "syscall", value);
  if (path && napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value) == napi_ok)
    napi_set_named_property(env, error, "path", value);
  return error;
}

/* Throws errno_error(...); returns NULL for the caller to return. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_value error = errno_error(env, err, syscall, path);
  if (error == NULL) napi_throw_error(env, "ENOMEM", "out of memory");
  else napi_throw(env, error);
  return NULL;
}

/* Reads argument `i` as a NUL-free UTF-8 string into a malloc'd buffer (caller frees). */
static char *get_string(napi_env env, napi_value *argv, size_t argc, size_t i, const char *what) {
  size_t len = 0;
  char *buf;
  if (i >= argc || napi_get_value_string_utf8(env, argv[i], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
    return NULL;
  }
  buf = malloc(len + 1);
  if (buf == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[i], buf, len + 1, &len);
  if (strlen(buf) != len) { /* an embedded NUL would silently truncate the path */
    free(buf);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", what);
    return NULL;
  }
  return buf;
}

static int get_uint32(napi_env env, napi_value *argv, size_t argc, size_t i, uint32_t *out) {
  if (i < argc && napi_get_value_uint32(env, argv[i], out) == napi_ok) return 1;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a number");
  return 0;
}

/* mknod(path, mode, major, minor) */
static napi_value Mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  uint32_t mode, major, minor;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_uint32(env, argv, argc, 1, &mode) || !get_uint32(env, argv, argc, 2, &major) ||
      !get_uint32(env, argv, argc, 3, &minor))
    return NULL;
  char *path = get_string(env, argv, argc, 0, "path must be a string without NUL bytes");
  if (path == NULL) return NULL;
  if (mknod(path, (mode_t)mode, makedev(major, minor)) != 0) throw_errno(env, errno, "mknod", path);
  free(path);
  return NULL;
}

/* lsetxattr(path, name, value: Buffer) */
static napi_value Lsetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 3, size = 0;
  napi_value argv[3];
  void *data = NULL;
  bool is_buffer = false;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[2], &data, &size) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "value must be a Buffer");
    return NULL;
  }
  char *path = get_string(env, argv, argc, 0, "path must be a string without NUL bytes");
  if (path == NULL) return NULL;
  char *name = get_string(env, argv, argc, 1, "name must be a string without NUL bytes");
  if (name != NULL && lsetxattr(path, name, data, size, 0) != 0) throw_errno(env, errno, "lsetxattr", path);
  free(name);
  free(path);
  return NULL;
}

/* lgetxattr(path, name): Buffer, or undefined when the attribute is not set (ENODATA). */
static napi_value Lgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = get_string(env, argv, argc, 0, "path must be a string without NUL bytes");
  if (path == NULL) return NULL;
  char *name = get_string(env, argv, argc, 1, "name must be a string without NUL bytes");
  char *buf = NULL;
  while (name != NULL) {
    ssize_t n = lgetxattr(path, name, NULL, 0);
    if (n >= 0) {
      free(buf);
      buf = malloc(n > 0 ? (size_t)n : 1);
      if (buf == NULL) {
        napi_throw_error(env, "ENOMEM", "out of memory");
        break;
      }
      n = lgetxattr(path, name, buf, (size_t)n);
    }
    if (n >= 0) {
      napi_create_buffer_copy(env, (size_t)n, buf, NULL, &result);
    } else if (errno == ERANGE) {
      continue; /* grew between the two calls */
    } else if (errno == ENODATA) {
      napi_get_undefined(env, &result);
    } else {
      throw_errno(env, errno, "lgetxattr", path);
    }
    break;
  }
  free(buf);
  free(name);
  free(path);
  return result;
}

/* llistxattr(path): string[] of attribute names. */
static napi_value Llistxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result = NULL, item;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = get_string(env, argv, argc, 0, "path must be a string without NUL bytes");
  if (path == NULL) return NULL;
  char *buf = NULL;
  ssize_t n;
  for (;;) {
    n = llistxattr(path, NULL, 0);
    if (n > 0) {
      free(buf);
      buf = malloc((size_t)n);
      if (buf == NULL) {
        napi_throw_error(env, "ENOMEM", "out of memory");
        goto out;
      }
      n = llistxattr(path, buf, (size_t)n);
    }
    if (n >= 0 || errno != ERANGE) break;
  }
  if (n < 0) {
    throw_errno(env, errno, "llistxattr", path);
    goto out;
  }
  if (napi_create_array(env, &result) != napi_ok) goto out;
  for (ssize_t off = 0, i = 0; off < n; i++) {
    size_t len = strnlen(buf + off, (size_t)(n - off));
    if (napi_create_string_utf8(env, buf + off, len, &item) == napi_ok)
      napi_set_element(env, result, (uint32_t)i, item);
    off += (ssize_t)len + 1;
  }
out:
  free(buf);
  free(path);
  return result;
}

/* mount(source, target, fstype, flags, data); empty strings are passed as NULL. */
static napi_value Mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int64_t flags;
  char *s[5] = {NULL, NULL, NULL, NULL, NULL};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || napi_get_value_int64(env, argv[3], &flags) != napi_ok || flags < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "flags must be a non-negative number");
    return NULL;
  }
  static const size_t idx[4] = {0, 1, 2, 4};
  for (size_t k = 0; k < 4; k++) {
    s[idx[k]] = get_string(env, argv, argc, idx[k], "mount arguments must be strings without NUL bytes");
    if (s[idx[k]] == NULL) goto out;
  }
#define OPT(p) ((p)[0] ? (p) : NULL)
  if (mount(OPT(s[0]), s[1], OPT(s[2]), (unsigned long)flags, OPT(s[4])) != 0)
    throw_errno(env, errno, "mount", s[1]);
#undef OPT
out:
  for (size_t k = 0; k < 5; k++) free(s[k]);
  return NULL;
}

/* umount2(target, flags) */
static napi_value Umount2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t flags;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_uint32(env, argv, argc, 1, &flags)) return NULL;
  char *target = get_string(env, argv, argc, 0, "target must be a string without NUL bytes");
  if (target == NULL) return NULL;
  if (umount2(target, (int)flags) != 0) throw_errno(env, errno, "umount2", target);
  free(target);
  return NULL;
}

/*
 * seqpacketConnect(dir, name): a blocking SOCK_SEQPACKET connection to the Unix socket
 * `name` inside `dir`, returned as a file descriptor. The socket is reached through
 * /proc/self/fd/<dirfd>/<name>, so `dir` may be longer than sun_path allows (conmon's attach
 * sockets live in container directories of any depth).
 */
static napi_value SeqpacketConnect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *dir = get_string(env, argv, argc, 0, "dir must be a string without NUL bytes");
  if (dir == NULL) return NULL;
  char *name = get_string(env, argv, argc, 1, "name must be a string without NUL bytes");
  if (name == NULL) {
    free(dir);
    return NULL;
  }
  int dfd = -1, fd = -1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  dfd = open(dir, O_PATH | O_CLOEXEC);
  if (dfd < 0) {
    throw_errno(env, errno, "open", dir);
    goto out;
  }
  if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd, name) >= sizeof addr.sun_path) {
    throw_errno(env, ENAMETOOLONG, "connect", name);
    goto out;
  }
  fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket", NULL);
    goto out;
  }
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    throw_errno(env, errno, "connect", dir);
    close(fd);
    goto out;
  }
  napi_create_int32(env, fd, &result);
out:
  if (dfd >= 0) close(dfd);
  free(dir);
  free(name);
  return result;
}

/* shutdown(fd, how) with how 0 (SHUT_RD), 1 (SHUT_WR) or 2 (SHUT_RDWR). */
static napi_value Shutdown(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t fd, how;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_uint32(env, argv, argc, 0, &fd) || !get_uint32(env, argv, argc, 1, &how)) return NULL;
  if (shutdown((int)fd, (int)how) != 0 && errno != ENOTCONN) throw_errno(env, errno, "shutdown", NULL);
  return NULL;
}

/*
 * flock(fd, operation): true when done; false when LOCK_NB was given and the lock is held
 * elsewhere. Blocking calls block the calling thread: keep the locked sections short.
 */
static napi_value Flock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result = NULL;
  uint32_t fd, op;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_uint32(env, argv, argc, 0, &fd) || !get_uint32(env, argv, argc, 1, &op)) return NULL;
  int rc;
  do rc = flock((int)fd, (int)op);
  while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EWOULDBLOCK) return throw_errno(env, errno, "flock", NULL);
  napi_get_boolean(env, rc == 0, &result);
  return result;
}

/*
 * createNetns(path): a new network namespace, kept alive by a bind mount on `path` (an
 * existing empty file), with its loopback interface up, as `ip netns add` + `ip link set lo
 * up` would leave it. Only the calling thread enters the new namespace, and it returns to
 * its original one before this returns, also on failure.
 */
static napi_value CreateNetns(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = get_string(env, argv, argc, 0, "path must be a string without NUL bytes");
  if (path == NULL) return NULL;
  int orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (orig < 0) {
    throw_errno(env, errno, "open", "/proc/thread-self/ns/net");
    free(path);
    return NULL;
  }
  int err = 0;
  const char *failed = NULL;
  if (unshare(CLONE_NEWNET) != 0) {
    err = errno, failed = "unshare";
  } else {
    if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) != 0) {
      err = errno, failed = "mount";
    } else {
      int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      struct ifreq ifr;
      memset(&ifr, 0, sizeof ifr);
      strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
      if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
        err = errno, failed = "ioctl";
      } else {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = errno, failed = "ioctl";
      }
      if (s >= 0) close(s);
      if (failed) umount2(path, MNT_DETACH);
    }
    if (setns(orig, CLONE_NEWNET) != 0) abort(); /* a thread stuck in the wrong namespace must not go on */
  }
  close(orig);
  if (failed) throw_errno(env, err, failed, path);
  free(path);
  return NULL;
}

/*
 * markTopdir(path): sets the inode flag FS_TOPDIR_FL (`chattr +T`) on directory `path`, so
 * ext2/3/4 place each new subdirectory in a block group of its own (as for directories at
 * the top of the file system) rather than next to `path`. True when the flag is set; false
 * when the file system has no such flags (not ext*, e.g. tmpfs or overlay).
 */
static napi_value MarkTopdir(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = get_string(env, argv, argc, 0, "path must be a string without NUL bytes");
  if (path == NULL) return NULL;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    throw_errno(env, errno, "open", path);
    free(path);
    return NULL;
  }
  int flags = 0, err = 0, supported = 1;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) err = errno;
  else if (!(flags & FS_TOPDIR_FL)) {
    flags |= FS_TOPDIR_FL;
    if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) err = errno;
  }
  close(fd);
  if (err == ENOTTY || err == EOPNOTSUPP || err == EINVAL || err == ENOSYS) supported = 0, err = 0;
  if (err != 0) throw_errno(env, err, "ioctl", path);
  else napi_get_boolean(env, supported, &result);
  free(path);
  return result;
}

/*
 * sendfileSome(outFd, inFd, offset, count): one sendfile(2) of up to `count` bytes of file
 * `inFd` from `offset` to the non-blocking socket `outFd` — from the page cache to the socket,
 * never through user space. Returns the bytes sent: as many as the socket buffer took; -1 when
 * it is full (EAGAIN; the caller tries again later); 0 at the end of the file. Other errors
 * throw (EPIPE: the client went away).
 */
static napi_value SendfileSome(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result = NULL;
  uint32_t out_fd, in_fd;
  int64_t offset, count;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_uint32(env, argv, argc, 0, &out_fd) || !get_uint32(env, argv, argc, 1, &in_fd)) return NULL;
  if (argc < 4 || napi_get_value_int64(env, argv[2], &offset) != napi_ok || napi_get_value_int64(env, argv[3], &count) != napi_ok ||
      offset < 0 || count < 0) {
    napi_throw_type_error(env, NULL, "offset and count must be non-negative numbers");
    return NULL;
  }
  off_t off = (off_t)offset;
  ssize_t n;
  do n = sendfile((int)out_fd, (int)in_fd, &off, count > (1 << 30) ? (size_t)(1 << 30) : (size_t)count);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN) return throw_errno(env, errno, "sendfile", NULL);
  napi_create_double(env, n < 0 ? -1 : (double)n, &result);
  return result;
}

/*
 * mallocTrim(): malloc_trim(0), giving the C heap's free pages back to the kernel. glibc keeps
 * freed memory for reuse: after a burst of large buffers (a 200 MB push), tens of megabytes.
 * Returns whether any memory was released.
 */
static napi_value MallocTrim(napi_env env, napi_callback_info info) {
  napi_value result = NULL;
  napi_get_boolean(env, malloc_trim(0) != 0, &result);
  return result;
}

/* pipe(): [readFd, writeFd], both close-on-exec (spawn hands them to a child explicitly). */
static napi_value Pipe(napi_env env, napi_callback_info info) {
  int fds[2];
  napi_value result = NULL, value;
  if (pipe2(fds, O_CLOEXEC) != 0) return throw_errno(env, errno, "pipe2", NULL);
  if (napi_create_array_with_length(env, 2, &result) != napi_ok) goto fail;
  for (uint32_t i = 0; i < 2; i++) {
    if (napi_create_int32(env, fds[i], &value) != napi_ok || napi_set_element(env, result, i, value) != napi_ok) goto fail;
  }
  return result;
fail:
  close(fds[0]);
  close(fds[1]);
  return NULL;
}

static void free_strings(char **list) {
  if (list == NULL) return;
  for (char **p = list; *p != NULL; p++) free(*p);
  free(list);
}

/* Reads argument `i`, an array of NUL-free strings, into a NULL-terminated malloc'd list. */
static char **get_strings(napi_env env, napi_value *argv, size_t argc, size_t i, const char *what) {
  bool is_array = false;
  uint32_t n = 0;
  if (i >= argc || napi_is_array(env, argv[i], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[i], &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
    return NULL;
  }
  char **list = calloc((size_t)n + 1, sizeof *list);
  if (list == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  for (uint32_t k = 0; k < n; k++) {
    napi_value item;
    if (napi_get_element(env, argv[i], k, &item) != napi_ok || (list[k] = get_string(env, &item, 1, 0, what)) == NULL) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

/*
 * spawn(file, argv, env, cwd, fds, setsid): starts program `file` (an absolute path; no PATH
 * search) with posix_spawn and returns its pid. glibc's posix_spawn clones with CLONE_VM |
 * CLONE_VFORK: the child borrows the parent's memory until it calls exec, so unlike fork()
 * (what libuv and child_process use) no page tables are copied, which for a Node process of
 * some tens of megabytes is most of the cost of starting a child.
 *
 * `env` is an array of "NAME=value" strings, or null for this process's environment. `cwd`
 * (a string or null) is where the child starts. `fds[i]` is the parent's descriptor that
 * becomes the child's descriptor i, or -1 for /dev/null; every descriptor from fds.length up
 * is closed in the child whatever its close-on-exec flag. With `setsid` the child starts a
 * session of its own (as child_process's `detached`). The child starts with an empty signal
 * mask and every signal at its default action: Node ignores SIGPIPE, and a child must not
 * inherit that. Errors, also those of exec such as ENOENT for a missing program, throw.
 */
static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result = NULL;
  napi_valuetype type;
  bool is_array = false, new_session = false;
  uint32_t nfds = 0;
  int *fds = NULL, *temps = NULL, err = 0, actions_ready = 0, attr_ready = 0;
  char *file = NULL, *cwd = NULL, **args = NULL, **envp = NULL;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "spawn takes file, argv, env, cwd, fds and setsid");
    return NULL;
  }
  if ((file = get_string(env, argv, argc, 0, "file must be a string without NUL bytes")) == NULL) goto out;
  if ((args = get_strings(env, argv, argc, 1, "argv must be an array of strings without NUL bytes")) == NULL) goto out;
  if (napi_typeof(env, argv[2], &type) != napi_ok) goto out;
  if (type != napi_null && type != napi_undefined &&
      (envp = get_strings(env, argv, argc, 2, "env must be null or an array of strings without NUL bytes")) == NULL)
    goto out;
  if (napi_typeof(env, argv[3], &type) != napi_ok) goto out;
  if (type != napi_null && type != napi_undefined &&
      (cwd = get_string(env, argv, argc, 3, "cwd must be null or a string without NUL bytes")) == NULL)
    goto out;
  if (napi_is_array(env, argv[4], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[4], &nfds) != napi_ok ||
      nfds > 1024) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fds must be an array of file descriptors or -1");
    goto out;
  }
  if (napi_get_value_bool(env, argv[5], &new_session) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setsid must be a boolean");
    goto out;
  }
  fds = malloc(((size_t)nfds + 1) * sizeof *fds);
  temps = malloc(((size_t)nfds + 1) * sizeof *temps);
  if (fds == NULL || temps == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < nfds; i++) temps[i] = -1;
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value item;
    if (napi_get_element(env, argv[4], i, &item) != napi_ok || napi_get_value_int32(env, item, &fds[i]) != napi_ok || fds[i] < -1) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fds must be an array of file descriptors or -1");
      goto out;
    }
  }
  /*
   * The child's dup2s run in order, so a source below nfds that is not its own target could
   * be overwritten by an earlier one (e.g. fds [1, 0] swapping stdin and stdout). Such sources
   * are first copied here, in the parent, above the range the child's dup2s write to.
   */
  for (uint32_t i = 0; i < nfds; i++) {
    if (fds[i] < 0 || (uint32_t)fds[i] >= nfds || (uint32_t)fds[i] == i) continue;
    temps[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, (int)nfds);
    if (temps[i] < 0) {
      throw_errno(env, errno, "fcntl", NULL);
      goto out;
    }
  }
  if ((err = posix_spawn_file_actions_init(&actions)) != 0) goto spawn_failed;
  actions_ready = 1;
  if (cwd != NULL && (err = posix_spawn_file_actions_addchdir_np(&actions, cwd)) != 0) goto spawn_failed;
  for (uint32_t i = 0; i < nfds; i++) {
    int source = temps[i] >= 0 ? temps[i] : fds[i];
    /* dup2 onto itself clears close-on-exec, which is what passing an fd as itself wants. */
    if (source >= 0) err = posix_spawn_file_actions_adddup2(&actions, source, (int)i);
    else err = posix_spawn_file_actions_addopen(&actions, (int)i, "/dev/null", O_RDWR, 0);
    if (err != 0) goto spawn_failed;
  }
  if ((err = posix_spawn_file_actions_addclosefrom_np(&actions, (int)nfds)) != 0) goto spawn_failed;
  if ((err = posix_spawnattr_init(&attr)) != 0) goto spawn_failed;
  attr_ready = 1;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (new_session ? POSIX_SPAWN_SETSID : 0);
  if ((err = posix_spawnattr_setflags(&attr, flags)) != 0 || (err = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
      (err = posix_spawnattr_setsigdefault(&attr, &all)) != 0)
    goto spawn_failed;
  pid_t pid;
  if ((err = posix_spawn(&pid, file, &actions, &attr, args, envp != NULL ? envp : environ)) != 0) goto spawn_failed;
  napi_create_int32(env, pid, &result);
  goto out;
spawn_failed:
  throw_errno(env, err, "posix_spawn", file);
out:
  if (attr_ready) posix_spawnattr_destroy(&attr);
  if (actions_ready) posix_spawn_file_actions_destroy(&actions);
  if (temps != NULL)
    for (uint32_t i = 0; i < nfds; i++)
      if (temps[i] >= 0) close(temps[i]);
  free(temps);
  free(fds);
  free_strings(envp);
  free_strings(args);
  free(cwd);
  free(file);
  return result;
}

/*
 * An exit watch (see WatchExit): a poll handle on the child's pidfd, and the JavaScript
 * callback to call once the child is reaped.
 */
typedef struct {
  uv_poll_t poll; /* first, so the handle's address is the watch's */
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  pid_t pid;
  int pidfd;
} exit_watch;

/* The poll handle is closed: the pidfd may go now (not before: epoll still held it). */
static void exit_watch_closed(uv_handle_t *handle) {
  exit_watch *w = (exit_watch *)handle;
  close(w->pidfd);
  free(w);
}

/* The environment goes away (a worker thread ends) before the child exited: stop watching. */
static void exit_watch_cleanup(void *arg) {
  exit_watch *w = arg;
  uv_close((uv_handle_t *)&w->poll, exit_watch_closed);
}

/* The pidfd turned readable: the child has exited. Reap it and report (code, signal). */
static void exit_watch_ready(uv_poll_t *handle, int status, int events) {
  exit_watch *w = (exit_watch *)handle;
  int wstatus = 0;
  pid_t got;
  do got = waitpid(w->pid, &wstatus, WNOHANG);
  while (got < 0 && errno == EINTR);
  if (got == 0 && status == 0) return; /* not exited after all (cannot happen for a pidfd; harmless) */
  napi_env env = w->env;
  napi_ref ref = w->callback;
  napi_async_context async = w->async;
  napi_remove_env_cleanup_hook(env, exit_watch_cleanup, w);
  uv_close((uv_handle_t *)&w->poll, exit_watch_closed);

  napi_handle_scope scope;
  napi_value callback, recv, args[2];
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  /* (null, null) when the status is unknown: someone else reaped the child (ECHILD). */
  if (got > 0 && WIFEXITED(wstatus)) napi_create_int32(env, WEXITSTATUS(wstatus), &args[0]);
  else napi_get_null(env, &args[0]);
  if (got > 0 && WIFSIGNALED(wstatus)) napi_create_int32(env, WTERMSIG(wstatus), &args[1]);
  else napi_get_null(env, &args[1]);
  if (napi_get_reference_value(env, ref, &callback) == napi_ok && callback != NULL && napi_get_global(env, &recv) == napi_ok &&
      napi_make_callback(env, async, recv, callback, 2, args, NULL) == napi_pending_exception) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
  napi_delete_reference(env, ref);
  napi_async_destroy(env, async);
}

/*
 * watchExit(pid, callback, ref): reaps child `pid` (one this process spawned with spawn())
 * once it exits and then calls callback(code, signal): the exit code and null, or null and
 * the number of the signal that killed it. Nothing blocks: the child's pidfd (pidfd_open,
 * Linux 5.3+) turns readable when it exits, and a uv_poll handle on Node's own loop waits for
 * that. libuv reaps only the pids it spawned itself (its SIGCHLD handler waits for each of
 * them by pid, never for any child), so the two never take each other's children.
 *
 * The watch keeps the event loop alive like a running child_process child, unless `ref` is
 * false (a detached child whose exit matters only so that it leaves no zombie).
 */
static napi_value WatchExit(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], name;
  napi_valuetype type;
  int32_t pid;
  bool ref = true;
  uv_loop_t *loop;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0 || napi_typeof(env, argv[1], &type) != napi_ok ||
      type != napi_function || (argc > 2 && napi_get_value_bool(env, argv[2], &ref) != napi_ok)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "watchExit takes a pid, a function and an optional boolean");
    return NULL;
  }
  CHECK(napi_get_uv_event_loop(env, &loop));
  exit_watch *w = calloc(1, sizeof *w);
  if (w == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  w->env = env;
  w->pid = pid;
  w->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0); /* always close-on-exec */
  if (w->pidfd < 0) {
    free(w);
    return throw_errno(env, errno, "pidfd_open", NULL);
  }
  int err = uv_poll_init(loop, &w->poll, w->pidfd);
  if (err != 0) {
    close(w->pidfd);
    free(w);
    return throw_errno(env, -err, "uv_poll_init", NULL);
  }
  if ((err = uv_poll_start(&w->poll, UV_READABLE, exit_watch_ready)) != 0) {
    uv_close((uv_handle_t *)&w->poll, exit_watch_closed);
    return throw_errno(env, -err, "uv_poll_start", NULL);
  }
  if (!ref) uv_unref((uv_handle_t *)&w->poll);
  if (napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok ||
      napi_create_string_utf8(env, "gantry:exit", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &w->async) != napi_ok) {
    if (w->callback != NULL) napi_delete_reference(env, w->callback);
    uv_close((uv_handle_t *)&w->poll, exit_watch_closed);
    return NULL;
  }
  napi_add_env_cleanup_hook(env, exit_watch_cleanup, w);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"mknod", Mknod},       {"lsetxattr", Lsetxattr}, {"lgetxattr", Lgetxattr},
             {"llistxattr", Llistxattr}, {"mount", Mount},     {"umount2", Umount2},
             {"seqpacketConnect", SeqpacketConnect}, {"shutdown", Shutdown}, {"flock", Flock},
             {"createNetns", CreateNetns}, {"markTopdir", MarkTopdir},
             {"sendfileSome", SendfileSome}, {"mallocTrim", MallocTrim}, {"pipe", Pipe}, {"spawn", Spawn},
             {"watchExit", WatchExit}};
  static const struct {
    const char *name;
    double value;
  } consts[] = {{"MS_RDONLY", MS_RDONLY}, {"MS_NOSUID", MS_NOSUID},   {"MS_NODEV", MS_NODEV},
                {"MS_NOEXEC", MS_NOEXEC}, {"MS_REMOUNT", MS_REMOUNT}, {"MS_BIND", MS_BIND},
                {"MS_REC", MS_REC},       {"MS_PRIVATE", MS_PRIVATE}, {"MNT_DETACH", MNT_DETACH},
                {"LOCK_SH", LOCK_SH},     {"LOCK_EX", LOCK_EX},       {"LOCK_NB", LOCK_NB},
                {"LOCK_UN", LOCK_UN}};
  napi_value value;
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    CHECK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &value));
    CHECK(napi_set_named_property(env, exports, fns[i].name, value));
  }
  for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
    CHECK(napi_create_double(env, consts[i].value, &value));
    CHECK(napi_set_named_property(env, exports, consts[i].name, value));
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
