/*
 * Native load generator of the handshake-rate cell (bench/handshake-rate.ts): the same loop as the
 * `handshakes` command of bench/loadgen.ts, in C with epoll and non-blocking sockets, so that the
 * generator's own ceiling sits well above the servers it measures. libc only; compiled at bench
 * time by bench/handshake-native.ts with the system `cc`.
 *
 * Each of PARALLEL loops: connect to 127.0.0.1:PORT, send REQUEST, read the response head, require
 * "HTTP/1.1 101" and a Sec-WebSocket-Accept equal to ACCEPT, send FRAME (one masked text message),
 * read exactly REPLY (the server's unmasked echo) byte for byte, then close with SO_LINGER 0 (RST:
 * no TIME_WAIT) and start over. Mode raw (a TCP echo server): connect, send FRAME, read FRAME back.
 * The bytes come from the parent (bench/frames.ts) as hex arguments; nothing here encodes frames.
 *
 * usage: loadgen-handshake PORT PARALLEL WARMUP_MS DURATION_MS ws|raw REQUEST_HEX FRAME_HEX REPLY_HEX ACCEPT [LIMIT]
 * (LIMIT > 0 ends the measured window early once that many cycles completed in it.)
 * prints one JSON line: completed, seconds, perSec, cpuPct (own user+sys CPU over the window), errors, firstError.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEAD 16384
#define CYCLE_TIMEOUT_MS 10000
#define DRAIN_MS 15000

enum state { IDLE, CONNECTING, HEAD, ECHO };

struct conn {
  int fd;
  uint32_t gen;            /* epoll events of an earlier socket on the same slot are ignored */
  enum state st;
  double deadline;
  size_t sent;             /* bytes of the current outgoing buffer written */
  const unsigned char *out; size_t outLen;
  size_t got;              /* bytes in buf */
  unsigned char buf[MAX_HEAD];
};

static unsigned char *request, *frame, *reply;
static size_t requestLen, frameLen, replyLen;
static const char *accept_;
static int raw, port;
static struct sockaddr_in addr;
static int ep;
static long long completed, errors, limit;
static int counting, running = 1, live;
static char firstError[256];

static double nowMs(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpuMs(void) {
  struct rusage r; getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static unsigned char *unhex(const char *s, size_t *len) {
  size_t n = strlen(s);
  if (n % 2) { fprintf(stderr, "odd hex length\n"); exit(2); }
  unsigned char *b = malloc(n / 2 + 1);
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) { fprintf(stderr, "bad hex\n"); exit(2); }
    b[i] = (unsigned char)v;
  }
  *len = n / 2;
  return b;
}

static void arm(struct conn *c, int idx, uint32_t events, int op) {
  struct epoll_event ev = { .events = events, .data.u64 = ((uint64_t)c->gen << 32) | (uint32_t)idx };
  if (epoll_ctl(ep, op, c->fd, &ev) < 0) { perror("epoll_ctl"); exit(2); }
}

/* Close with RST (SO_LINGER 0 set at socket creation), count the cycle, leave the slot to restart. */
static void finish(struct conn *c, const char *err) {
  if (c->st == IDLE) return;
  if (err) { errors++; if (!firstError[0]) snprintf(firstError, sizeof firstError, "%s", err); }
  else if (counting && (limit == 0 || completed < limit)) completed++;
  close(c->fd);
  c->fd = -1; c->st = IDLE; c->gen++;
  live--;
}

static void start(struct conn *c, int idx) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { errors++; if (!firstError[0]) snprintf(firstError, sizeof firstError, "socket: %s", strerror(errno)); return; }
  int one = 1; struct linger lg = { 1, 0 };
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  c->fd = fd; c->st = CONNECTING; c->got = 0; c->sent = 0;
  c->out = raw ? frame : request; c->outLen = raw ? frameLen : requestLen;
  c->deadline = nowMs() + CYCLE_TIMEOUT_MS;
  live++;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
    char m[128]; snprintf(m, sizeof m, "connect: %s", strerror(errno));
    finish(c, m);
    return;
  }
  arm(c, idx, EPOLLOUT | EPOLLIN, EPOLL_CTL_ADD);
}

/* Write what is left of c->out; once written, wait for input only. Returns 0 when the cycle failed. */
static int flush(struct conn *c, int idx) {
  while (c->sent < c->outLen) {
    ssize_t n = send(c->fd, c->out + c->sent, c->outLen - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) { arm(c, idx, EPOLLOUT | EPOLLIN, EPOLL_CTL_MOD); return 1; }
      char m[128]; snprintf(m, sizeof m, "write: %s", strerror(errno)); finish(c, m); return 0;
    }
    c->sent += (size_t)n;
  }
  arm(c, idx, EPOLLIN, EPOLL_CTL_MOD);
  return 1;
}

/* The response head (NUL-free, ends at "\r\n\r\n" at offset end): 101 and the expected accept value. */
static const char *checkHead(const unsigned char *b, size_t end) {
  if (end < 12 || memcmp(b, "HTTP/1.1 101", 12) != 0) return "handshake refused";
  static const char name[] = "sec-websocket-accept:";
  size_t nl = sizeof name - 1, al = strlen(accept_);
  for (size_t i = 0; i + 2 <= end; i++) {
    if (b[i] != '\r' || b[i + 1] != '\n') continue;
    size_t p = i + 2;
    if (p + nl > end || strncasecmp((const char *)b + p, name, nl) != 0) continue;
    p += nl;
    while (p < end && (b[p] == ' ' || b[p] == '\t')) p++;
    size_t q = p;
    while (q < end && b[q] != '\r') q++;
    while (q > p && (b[q - 1] == ' ' || b[q - 1] == '\t')) q--;
    return q - p == al && memcmp(b + p, accept_, al) == 0 ? NULL : "wrong Sec-WebSocket-Accept";
  }
  return "no Sec-WebSocket-Accept";
}

static void onReadable(struct conn *c, int idx) {
  for (;;) {
    ssize_t n = recv(c->fd, c->buf + c->got, sizeof c->buf - c->got, 0);
    if (n == 0) { finish(c, "closed before the echo"); return; }
    if (n < 0) {
      if (errno == EAGAIN) return;
      char m[128]; snprintf(m, sizeof m, "read: %s", strerror(errno)); finish(c, m); return;
    }
    c->got += (size_t)n;
    if (c->st == HEAD) {
      unsigned char *e = memmem(c->buf, c->got, "\r\n\r\n", 4);
      if (!e) { if (c->got == sizeof c->buf) { finish(c, "handshake response too long"); return; } continue; }
      size_t end = (size_t)(e - c->buf);
      const char *bad = checkHead(c->buf, end);
      if (bad) { finish(c, bad); return; }
      c->got -= end + 4;
      memmove(c->buf, e + 4, c->got);
      c->st = ECHO; c->out = frame; c->outLen = frameLen; c->sent = 0;
      if (!flush(c, idx)) return;
    }
    if (c->st == ECHO && c->got >= replyLen) {
      finish(c, c->got == replyLen && memcmp(c->buf, reply, replyLen) == 0 ? NULL : "echo mismatch after the handshake");
      return;
    }
    if (c->got == sizeof c->buf) { finish(c, "echo mismatch after the handshake"); return; }
  }
}

static void onEvent(struct conn *c, int idx, uint32_t ev) {
  if (c->st == CONNECTING) {
    int err = 0; socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) { char m[128]; snprintf(m, sizeof m, "connect: %s", strerror(err)); finish(c, m); return; }
    if (!(ev & EPOLLOUT)) return;
    c->st = raw ? ECHO : HEAD;
    if (!flush(c, idx)) return;
    if (!(ev & EPOLLIN)) return;
  } else if (ev & EPOLLOUT) {
    if (!flush(c, idx)) return;
  }
  if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) onReadable(c, idx);
}

int main(int argc, char **argv) {
  if (argc != 10 && argc != 11) { fprintf(stderr, "usage: %s PORT PARALLEL WARMUP_MS DURATION_MS ws|raw REQUEST_HEX FRAME_HEX REPLY_HEX ACCEPT [LIMIT]\n", argv[0]); return 2; }
  port = atoi(argv[1]);
  int parallel = atoi(argv[2]);
  double warmupMs = atof(argv[3]), durationMs = atof(argv[4]);
  raw = strcmp(argv[5], "raw") == 0;
  request = unhex(argv[6], &requestLen);
  frame = unhex(argv[7], &frameLen);
  reply = unhex(argv[8], &replyLen);
  accept_ = argv[9];
  limit = argc == 11 ? atoll(argv[10]) : 0;
  if (parallel < 1 || port < 1 || replyLen == 0 || replyLen > MAX_HEAD) { fprintf(stderr, "bad arguments\n"); return 2; }
  addr.sin_family = AF_INET; addr.sin_port = htons((uint16_t)port); addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) { perror("epoll_create1"); return 2; }
  struct conn *conns = calloc((size_t)parallel, sizeof *conns);
  struct epoll_event *evs = calloc((size_t)parallel, sizeof *evs);
  for (int i = 0; i < parallel; i++) { conns[i].fd = -1; conns[i].st = IDLE; }

  double t0 = nowMs(), tStart = t0 + warmupMs, tEnd = tStart + durationMs, tDrain = tEnd + DRAIN_MS;
  double cpu0 = 0, cpu1 = 0, m0 = 0, m1 = 0;
  double nextScan = t0 + 100;
  for (;;) {
    /* Restart finished loops after the events of a batch (like the Node loop's setImmediate). */
    if (running) for (int i = 0; i < parallel; i++) if (conns[i].st == IDLE) start(&conns[i], i);
    double now = nowMs();
    if (!counting && running && now >= tStart) { counting = 1; cpu0 = cpuMs(); m0 = now; }
    if (counting && (now >= tEnd || (limit > 0 && completed >= limit))) { counting = 0; running = 0; cpu1 = cpuMs(); m1 = now; }
    if (!running && (live == 0 || now >= tDrain)) break;
    double until = counting ? tEnd : running ? tStart : tDrain;
    int wait = (int)(until - now) + 1;
    if (wait > 100) wait = 100;
    int n = epoll_wait(ep, evs, parallel, wait);
    if (n < 0 && errno != EINTR) { perror("epoll_wait"); return 2; }
    for (int k = 0; k < n; k++) {
      uint32_t idx = (uint32_t)evs[k].data.u64, gen = (uint32_t)(evs[k].data.u64 >> 32);
      struct conn *c = &conns[idx];
      if (c->st == IDLE || c->gen != gen) continue;
      onEvent(c, (int)idx, evs[k].events);
    }
    now = nowMs();
    if (now >= nextScan) {
      nextScan = now + 100;
      for (int i = 0; i < parallel; i++) if (conns[i].st != IDLE && now >= conns[i].deadline) finish(&conns[i], "connect/handshake/echo timeout");
    }
  }
  for (int i = 0; i < parallel; i++) if (conns[i].st != IDLE) { close(conns[i].fd); conns[i].st = IDLE; }
  double seconds = (m1 - m0) / 1e3;
  double cpuPct = seconds > 0 ? (cpu1 - cpu0) / 1e3 / seconds * 100 : 0;
  printf("{\"completed\":%lld,\"seconds\":%.6f,\"perSec\":%.3f,\"cpuPct\":%.2f,\"errors\":%lld,\"firstError\":\"",
    completed, seconds, seconds > 0 ? completed / seconds : 0, cpuPct, errors);
  for (const char *p = firstError; *p; p++) {
    if (*p == '"' || *p == '\\') putchar('\\');
    if ((unsigned char)*p >= 0x20) putchar(*p);
  }
  printf("\"}\n");
  fflush(stdout);
  free(conns); free(evs); free(request); free(frame); free(reply);
  return 0;
}
