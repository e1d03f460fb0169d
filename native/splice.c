// Zero-copy forwarding for the chaos TCP proxy (Linux): one direction of one connection moves from a
// socket to another through a pipe with splice(2), driven by libuv poll handles on Node's own loop, so
// the bytes never enter JavaScript. Used only while that direction has no toxic; the proxy detaches it
// (after the pipe is flushed) the moment a toxic is added, and takes the bytes back into JavaScript.
//
// The sockets stay owned by Node: this code works on dup()s of their descriptors, so its poll handles
// never collide with libuv's own watchers of the same sockets, and closing the dups leaves them open.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

// Bytes asked of one splice call; the pipe is grown to this size where the kernel allows.
#define CHUNK (1 << 20)

typedef struct {
  napi_env env;
  napi_ref callback;  // (event: "eof" | "error" | "detached" | "cancelled") => void
  int in_fd, out_fd;  // dups
  int pipe_r, pipe_w;
  size_t in_pipe;     // bytes read into the pipe and not yet written out
  int eof;            // the source sent FIN
  int detaching;      // JavaScript asked for the bytes back
  int done;           // reported once; handles closing
  int refs;           // 2 poll handles + the JavaScript handle; freed at 0
  uv_poll_t in_poll, out_poll;
  int in_active, out_active;
} link_t;

static void unref_link(link_t* l) {
  if (--l->refs > 0) return;
  if (l->callback) napi_delete_reference(l->env, l->callback);
  free(l);
}

static void on_closed(uv_handle_t* h) { unref_link((link_t*)h->data); }

static void finish(link_t* l, const char* event) {
  if (l->done) return;
  l->done = 1;
  // Close the handles before the descriptors: closing a poll handle tells epoll to forget its fd, which
  // must not be a number the callback below may already have reused.
  uv_close((uv_handle_t*)&l->in_poll, on_closed);
  uv_close((uv_handle_t*)&l->out_poll, on_closed);
  close(l->in_fd);
  close(l->out_fd);
  close(l->pipe_r);
  close(l->pipe_w);

  napi_handle_scope scope;
  napi_open_handle_scope(l->env, &scope);
  napi_value cb, global, argv[1];
  napi_get_reference_value(l->env, l->callback, &cb);
  napi_get_global(l->env, &global);
  napi_create_string_utf8(l->env, event, NAPI_AUTO_LENGTH, &argv[0]);
  napi_value result;
  if (napi_make_callback(l->env, NULL, global, cb, 1, argv, &result) == napi_pending_exception) {
    // Thrown by the callback: Node's to report, as for any other callback.
    napi_value err;
    napi_get_and_clear_last_exception(l->env, &err);
    napi_fatal_exception(l->env, err);
  }
  napi_close_handle_scope(l->env, scope);
}

static void on_poll(uv_poll_t* h, int status, int events);

static void set_polls(link_t* l, int want_in, int want_out) {
  if (want_in != l->in_active) {
    if (want_in) uv_poll_start(&l->in_poll, UV_READABLE | UV_DISCONNECT, on_poll);
    else uv_poll_stop(&l->in_poll);
    l->in_active = want_in;
  }
  if (want_out != l->out_active) {
    if (want_out) uv_poll_start(&l->out_poll, UV_WRITABLE, on_poll);
    else uv_poll_stop(&l->out_poll);
    l->out_active = want_out;
  }
}

// Moves as much as the kernel takes without blocking, then waits for whichever side blocked.
static void pump(link_t* l) {
  for (;;) {
    if (l->in_pipe > 0) {
      ssize_t m = splice(l->pipe_r, NULL, l->out_fd, NULL, l->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (m > 0) {
        l->in_pipe -= (size_t)m;
        continue;
      }
      if (m < 0 && errno == EINTR) continue;
      if (m < 0 && errno == EAGAIN) {
        set_polls(l, 0, 1);
        return;
      }
      finish(l, "error");
      return;
    }
    if (l->detaching) {
      finish(l, "detached");
      return;
    }
    if (l->eof) {
      finish(l, "eof");
      return;
    }
    ssize_t n = splice(l->in_fd, NULL, l->pipe_w, NULL, CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      l->in_pipe += (size_t)n;
      continue;
    }
    if (n == 0) {
      l->eof = 1;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      set_polls(l, 1, 0);
      return;
    }
    finish(l, "error");
    return;
  }
}

static void on_poll(uv_poll_t* h, int status, int events) {
  link_t* l = (link_t*)h->data;
  if (l->done) return;
  (void)events;
  if (status < 0) {
    finish(l, "error");
    return;
  }
  pump(l);
}

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void finalize_link(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  unref_link((link_t*)data);
}

// attach(inFd, outFd, callback): starts forwarding; returns a handle for detach().
static napi_value attach(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t in_fd, out_fd;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &in_fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &out_fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "attach(inFd, outFd, callback)");
    return NULL;
  }
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) return throw_errno(env, "pipe2", errno);
  // A bigger pipe means fewer splice calls; the default (64 KiB) still works if this is refused.
  fcntl(p[1], F_SETPIPE_SZ, CHUNK);
  int a = fcntl(in_fd, F_DUPFD_CLOEXEC, 0);
  int b = a < 0 ? -1 : fcntl(out_fd, F_DUPFD_CLOEXEC, 0);
  if (a < 0 || b < 0) {
    int err = errno;
    if (a >= 0) close(a);
    close(p[0]);
    close(p[1]);
    return throw_errno(env, "dup", err);
  }
  link_t* l = calloc(1, sizeof *l);
  if (!l) {
    close(a);
    close(b);
    close(p[0]);
    close(p[1]);
    return throw_errno(env, "calloc", ENOMEM);
  }
  l->env = env;
  l->refs = 3;
  l->in_fd = a;
  l->out_fd = b;
  l->pipe_r = p[0];
  l->pipe_w = p[1];
  if (napi_create_reference(env, argv[2], 1, &l->callback) != napi_ok) {
    close(a);
    close(b);
    close(p[0]);
    close(p[1]);
    free(l);
    return NULL;  // the exception is pending
  }
  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  l->in_poll.data = l;
  l->out_poll.data = l;
  int rc = uv_poll_init(loop, &l->in_poll, a);
  int in_ok = rc == 0;
  if (in_ok) rc = uv_poll_init(loop, &l->out_poll, b);
  if (rc != 0) {
    close(a);
    close(b);
    close(p[0]);
    close(p[1]);
    napi_delete_reference(env, l->callback);
    l->callback = NULL;
    if (in_ok) {
      l->refs = 1;  // freed once the initialised handle has closed
      uv_close((uv_handle_t*)&l->in_poll, on_closed);
    } else {
      free(l);
    }
    return throw_errno(env, "uv_poll_init", -rc);
  }
  // Not pump() here: a callback from inside attach() would run before the caller holds the handle.
  // Bytes already waiting make the poll fire on the loop's next turn.
  napi_value handle;
  if (napi_create_external(env, l, finalize_link, NULL, &handle) != napi_ok) {
    // No JavaScript handle will ever release its reference: drop it here and close everything.
    l->refs--;
    finish(l, "cancelled");
    return NULL;
  }
  set_polls(l, 1, 0);
  return handle;
}

// The link behind a handle argument, or NULL with a TypeError thrown.
static link_t* link_arg(napi_env env, napi_callback_info info, const char* usage) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return (link_t*)data;
}

// detach(handle): stop reading; the callback gets "detached" once every byte already read is written.
static napi_value detach(napi_env env, napi_callback_info info) {
  link_t* l = link_arg(env, info, "detach(handle)");
  if (l && !l->done && !l->detaching) {
    l->detaching = 1;
    pump(l);
  }
  return NULL;
}

// cancel(handle): stop at once, dropping what is in the pipe (the connection is being torn down).
static napi_value cancel(napi_env env, napi_callback_info info) {
  link_t* l = link_arg(env, info, "cancel(handle)");
  if (l && !l->done) finish(l, "cancelled");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"attach", NULL, attach, NULL, NULL, NULL, napi_default, NULL},
      {"detach", NULL, detach, NULL, NULL, NULL, napi_default, NULL},
      {"cancel", NULL, cancel, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
