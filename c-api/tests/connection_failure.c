/*
 * connection_failure URL: connects, prints "waiting", and waits without limit for the
 * connection to fail (scripts/test-c kills the server meanwhile). Exits 0 when the wait
 * reports the failure with HERALD_STATUS_IO, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>

#include "herald.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: connection_failure URL\n");
    return 2;
  }
  herald_connection *conn = NULL;
  herald_error *err = NULL;
  if (herald_connection_open(argv[1], NULL, NULL, NULL, &conn, &err) != HERALD_STATUS_OK) {
    fprintf(stderr, "connect: %s\n", herald_error_message(err));
    herald_error_free(err);
    return 1;
  }
  printf("waiting\n");
  fflush(stdout);
  herald_error *failure = NULL;
  herald_status status = herald_connection_wait_for_failure(conn, UINT64_MAX, &failure, &err);
  int ok = status == HERALD_STATUS_OK && failure && herald_error_status(failure) == HERALD_STATUS_IO;
  if (ok) {
    printf("failure: %s\n", herald_error_message(failure));
  } else {
    fprintf(stderr, "the wait returned %s (%s)\n", herald_status_string((uint32_t)status),
            failure ? herald_error_message(failure) : err ? herald_error_message(err) : "no failure");
  }
  herald_error_free(failure);
  herald_error_free(err);
  herald_connection_free(conn);
  return ok ? 0 : 1;
}
