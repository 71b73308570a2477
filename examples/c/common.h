/*
 * What the C examples share: option parsing, a clock, and failing loudly.
 */
#ifndef HERALD_EXAMPLE_COMMON_H
#define HERALD_EXAMPLE_COMMON_H

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "herald.h"

struct options {
  const char *url;
  const char *queue;
  long count;
  long size;
  int non_persistent;
  int preload;
  int concurrent;
  long timeout_ms;
};

static inline void usage(const char *program, const char *extra) {
  fprintf(stderr,
          "usage: %s [--url URL] [--queue NAME] [--count N] [--size BYTES] [--non-persistent]%s\n"
          "  --url URL        vm://NAME (a broker in this process) or tcp://HOST:PORT (default vm://example)\n"
          "  --queue NAME     the queue (default example.queue)\n"
          "  --count N        how many messages (default 10000)\n"
          "  --size BYTES     bytes per message body (default 100)\n",
          program, extra);
  exit(2);
}

static inline struct options parse_options(int argc, char **argv, const char *extra) {
  struct options o = {"vm://example", "example.queue", 10000, 100, 0, 0, 0, 5000};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--non-persistent") == 0) {
      o.non_persistent = 1;
    } else if (strcmp(a, "--preload") == 0) {
      o.preload = 1;
    } else if (strcmp(a, "--concurrent") == 0) {
      o.concurrent = 1;
    } else if (v && strcmp(a, "--url") == 0) {
      o.url = v, i++;
    } else if (v && strcmp(a, "--queue") == 0) {
      o.queue = v, i++;
    } else if (v && strcmp(a, "--count") == 0) {
      o.count = atol(v), i++;
    } else if (v && strcmp(a, "--size") == 0) {
      o.size = atol(v), i++;
    } else if (v && strcmp(a, "--timeout") == 0) {
      o.timeout_ms = atol(v), i++;
    } else {
      usage(argv[0], extra);
    }
  }
  if (o.count < 0 || o.size < 0) usage(argv[0], extra);
  return o;
}

/* Exits with the error's message when a call failed. */
static inline void check(herald_status status, herald_error *err, const char *what) {
  if (status == HERALD_STATUS_OK) return;
  fprintf(stderr, "%s failed: %s%s%s\n", what, herald_status_string(status), err ? ": " : "",
          err ? herald_error_message(err) : "");
  herald_error_free(err);
  exit(1);
}

static inline double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends `count` bytes messages of `size` bytes; returns the seconds it took. */
static inline double send_messages(herald_session *session, const struct options *o) {
  herald_error *err = NULL;
  herald_destination *queue = NULL;
  herald_producer *producer = NULL;
  herald_message *msg = NULL;

  check(herald_destination_queue(o->queue, &queue, &err), err, "herald_destination_queue");
  check(herald_session_create_producer(session, queue, &producer, &err), err, "create_producer");
  if (o->non_persistent) {
    check(herald_producer_set_delivery_mode(producer, HERALD_DELIVERY_MODE_NON_PERSISTENT, &err), err,
          "set_delivery_mode");
  }
  unsigned char *payload = malloc((size_t)o->size + 1);
  memset(payload, 'x', (size_t)o->size);
  check(herald_message_new(HERALD_BODY_KIND_BYTES, &msg, &err), err, "herald_message_new");
  check(herald_message_set_bytes(msg, payload, (size_t)o->size, &err), err, "set_bytes");

  double start = now_seconds();
  for (long i = 0; i < o->count; i++) {
    check(herald_message_set_long_property(msg, "seq", i, &err), err, "set_long_property");
    check(herald_producer_send(producer, msg, &err), err, "herald_producer_send");
  }
  double elapsed = now_seconds() - start;

  free(payload);
  herald_message_free(msg);
  herald_producer_free(producer);
  herald_destination_free(queue);
  return elapsed;
}

static inline void print_rate(const char *what, long count, long size, double seconds) {
  double rate = seconds > 0 ? (double)count / seconds : 0;
  printf("%s %ld messages of %ld bytes in %.3f s: %.0f msgs/s, %.1f MB/s\n", what, count, size, seconds, rate,
         rate * (double)size / 1e6);
}

#endif
