// A minimal TCP relay for bench:chaos: what a user-space relay with nothing else to do achieves here.
// One thread per direction moves bytes with blocking splice(2) through a pipe; no event loop, no
// toxics, no bookkeeping. The chaos proxy is judged against it as well as against a direct connection.
// Usage: reference-relay UPSTREAM_PORT; prints the port it listens on (127.0.0.1), then serves forever.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (1 << 20)

typedef struct {
  int in, out;
} direction_t;

static void* relay(void* arg) {
  direction_t* d = arg;
  int p[2];
  if (pipe(p) == 0) {
    fcntl(p[1], F_SETPIPE_SZ, CHUNK);
    for (;;) {
      ssize_t n = splice(d->in, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
      if (n <= 0) break;
      while (n > 0) {
        ssize_t m = splice(p[0], NULL, d->out, NULL, (size_t)n, SPLICE_F_MOVE);
        if (m <= 0) goto out;
        n -= m;
      }
    }
  out:
    close(p[0]);
    close(p[1]);
  }
  shutdown(d->out, SHUT_WR);
  free(d);
  return NULL;
}

static void start(int in, int out) {
  direction_t* d = malloc(sizeof *d);
  pthread_t t;
  if (!d) return;
  d->in = in;
  d->out = out;
  if (pthread_create(&t, NULL, relay, d) == 0) pthread_detach(t);
  else free(d);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: reference-relay UPSTREAM_PORT\n");
    return 2;
  }
  int one = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  socklen_t len = sizeof addr;
  if (ls < 0 || bind(ls, (struct sockaddr*)&addr, sizeof addr) || listen(ls, 64) ||
      getsockname(ls, (struct sockaddr*)&addr, &len)) {
    perror("reference-relay: listen");
    return 1;
  }
  printf("%d\n", ntohs(addr.sin_port));
  fflush(stdout);
  struct sockaddr_in up = {.sin_family = AF_INET,
                           .sin_port = htons((unsigned short)atoi(argv[1])),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) continue;
    int u = socket(AF_INET, SOCK_STREAM, 0);
    if (u < 0 || connect(u, (struct sockaddr*)&up, sizeof up)) {
      close(c);
      if (u >= 0) close(u);
      continue;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Each socket is closed by the process's exit: the bench kills the relay when it is done.
    start(c, u);
    start(u, c);
  }
}
