/*
 * consumer: receives --count messages from a queue and prints the rate.
 *
 *   consumer --url tcp://127.0.0.1:61616 --count 100000
 *   consumer --url vm://bench --count 100000 --size 100 --preload
 *
 * --preload first sends the messages from this process (a vm:// broker lives inside one
 * process, so that is how to measure receiving there); --concurrent sends them from a
 * producer thread with its own connection while this thread receives, and prints the
 * end-to-end rate. --timeout MS is how long to wait for each message (default 5000).
 *
 * Build: cc consumer.c $(pkg-config --cflags --libs herald) -o consumer
 */
#include <pthread.h>

#include "common.h"

/* The --concurrent producer: its own connection, as another program would have. */
static void *produce(void *arg) {
  const struct options *o = arg;
  herald_error *err = NULL;
  herald_connection *connection = NULL;
  herald_session *session = NULL;
  check(herald_connection_open(o->url, NULL, NULL, NULL, &connection, &err), err, "herald_connection_open");
  check(herald_connection_create_session(connection, HERALD_ACK_MODE_AUTO, &session, &err), err, "create_session");
  send_messages(session, o);
  herald_session_free(session);
  herald_connection_free(connection);
  return NULL;
}

int main(int argc, char **argv) {
  struct options o = parse_options(argc, argv, " [--preload | --concurrent] [--timeout MS]");
  herald_error *err = NULL;
  herald_connection *connection = NULL;
  herald_session *session = NULL;
  herald_destination *queue = NULL;
  herald_consumer *consumer = NULL;

  check(herald_connection_open(o.url, NULL, NULL, NULL, &connection, &err), err, "herald_connection_open");
  check(herald_connection_create_session(connection, HERALD_ACK_MODE_AUTO, &session, &err), err,
        "herald_connection_create_session");
  if (o.preload) {
    double seconds = send_messages(session, &o);
    print_rate("sent", o.count, o.size, seconds);
  }

  check(herald_destination_queue(o.queue, &queue, &err), err, "herald_destination_queue");
  check(herald_session_create_consumer(session, queue, NULL, false, &consumer, &err), err,
        "herald_session_create_consumer");
  check(herald_connection_start(connection, &err), err, "herald_connection_start");

  long received = 0, bytes = 0;
  double start = now_seconds();
  pthread_t producer;
  if (o.concurrent && pthread_create(&producer, NULL, produce, &o) != 0) return 1;
  while (received < o.count) {
    herald_message *msg = NULL;
    herald_status status = herald_consumer_receive_timeout(consumer, (uint64_t)o.timeout_ms, &msg, &err);
    if (status == HERALD_STATUS_NO_MESSAGE) {
      fprintf(stderr, "no message within %ld ms after %ld received\n", o.timeout_ms, received);
      return 1;
    }
    check(status, err, "herald_consumer_receive_timeout");
    const uint8_t *data = NULL;
    size_t len = 0;
    check(herald_message_get_bytes(msg, &data, &len, &err), err, "herald_message_get_bytes");
    bytes += (long)len;
    herald_message_free(msg);
    received++;
  }
  double seconds = now_seconds() - start;
  if (o.concurrent) pthread_join(producer, NULL);
  print_rate(o.concurrent ? "sent and received" : "received", received, received ? bytes / received : 0, seconds);

  herald_consumer_free(consumer);
  herald_destination_free(queue);
  herald_session_free(session);
  herald_connection_free(connection);
  return 0;
}
