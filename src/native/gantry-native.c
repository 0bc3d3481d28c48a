/*
 * gantry_native: the few Linux syscalls Node's fs module does not offer, exposed through
 * Node-API (plain C, no dependencies). Everything here is synchronous and thin: argument
 * checks, one syscall, and a Node-style error (`code`, `errno`, `syscall`, `path`) on failure.
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
#include <uv.h> /* uv_err_name_r / uv_strerror_r: the same errno names and texts Node uses */

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

static napi_value Init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"mknod", Mknod},       {"lsetxattr", Lsetxattr}, {"lgetxattr", Lgetxattr},
             {"llistxattr", Llistxattr}, {"mount", Mount},     {"umount2", Umount2},
             {"seqpacketConnect", SeqpacketConnect}, {"shutdown", Shutdown}, {"flock", Flock},
             {"createNetns", CreateNetns}, {"markTopdir", MarkTopdir},
             {"sendfileSome", SendfileSome}};
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
