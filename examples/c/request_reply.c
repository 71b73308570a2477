/*
 * request_reply: a requester sends --count requests to a queue, each naming a temporary
 * reply queue and a correlation ID; a responder thread answers each one. Prints the
 * round trips per second.
 *
 *   request_reply --url vm://example --count 100
 *   request_reply --url tcp://127.0.0.1:61616 --count 100
 *
 * The responder has its own connection, as a separate service would.
 * Build: cc request_reply.c $(pkg-config --cflags --libs herald) -lpthread -o request_reply
 */
#include <pthread.h>

#include "common.h"

struct responder {
  const struct options *o;
  herald_connection *connection;
};

/* Answers requests until its connection is closed. */
static void *respond(void *arg) {
  struct responder *r = arg;
  herald_error *err = NULL;
  herald_session *session = NULL;
  herald_destination *requests = NULL;
  herald_consumer *consumer = NULL;
  herald_producer *replies = NULL;

  check(herald_connection_create_session(r->connection, HERALD_ACK_MODE_AUTO, &session, &err), err, "create_session");
  check(herald_destination_queue(r->o->queue, &requests, &err), err, "herald_destination_queue");
  check(herald_session_create_consumer(session, requests, NULL, false, &consumer, &err), err, "create_consumer");
  check(herald_session_create_producer(session, NULL, &replies, &err), err, "create_producer");
  check(herald_connection_start(r->connection, &err), err, "herald_connection_start");

  for (;;) {
    herald_message *request = NULL;
    herald_status status = herald_consumer_receive(consumer, &request, &err);
    if (status == HERALD_STATUS_ILLEGAL_STATE) { /* closed: time to stop */
      herald_error_free(err);
      break;
    }
    check(status, err, "herald_consumer_receive");

    char text[256], id[64];
    check(herald_message_get_text(request, text, sizeof text, NULL, &err), err, "herald_message_get_text");
    check(herald_message_get_message_id(request, id, sizeof id, NULL, &err), err, "get_message_id");
    herald_destination *reply_to = NULL;
    check(herald_message_get_reply_to(request, &reply_to, &err), err, "herald_message_get_reply_to");

    herald_message *reply = NULL;
    char answer[300];
    snprintf(answer, sizeof answer, "re: %s", text);
    check(herald_message_new(HERALD_BODY_KIND_TEXT, &reply, &err), err, "herald_message_new");
    check(herald_message_set_text(reply, answer, &err), err, "herald_message_set_text");
    check(herald_message_set_correlation_id(reply, id, &err), err, "set_correlation_id");
    check(herald_producer_send_to(replies, reply_to, reply, &err), err, "herald_producer_send_to");

    herald_message_free(reply);
    herald_destination_free(reply_to);
    herald_message_free(request);
  }

  herald_producer_free(replies);
  herald_consumer_free(consumer);
  herald_destination_free(requests);
  herald_session_free(session);
  return NULL;
}

int main(int argc, char **argv) {
  struct options o = parse_options(argc, argv, "");
  o.queue = strcmp(o.queue, "example.queue") == 0 ? "example.requests" : o.queue;
  if (o.count == 10000) o.count = 100;
  herald_error *err = NULL;

  struct responder r = {&o, NULL};
  check(herald_connection_open(o.url, NULL, NULL, NULL, &r.connection, &err), err, "herald_connection_open");
  pthread_t thread;
  if (pthread_create(&thread, NULL, respond, &r) != 0) return 1;

  herald_connection *connection = NULL;
  herald_session *session = NULL;
  herald_destination *requests = NULL, *reply_queue = NULL;
  herald_producer *producer = NULL;
  herald_consumer *consumer = NULL;
  check(herald_connection_open(o.url, NULL, NULL, NULL, &connection, &err), err, "herald_connection_open");
  check(herald_connection_create_session(connection, HERALD_ACK_MODE_AUTO, &session, &err), err, "create_session");
  check(herald_destination_queue(o.queue, &requests, &err), err, "herald_destination_queue");
  check(herald_connection_create_temporary_queue(connection, &reply_queue, &err), err, "create_temporary_queue");
  check(herald_session_create_producer(session, requests, &producer, &err), err, "create_producer");
  check(herald_session_create_consumer(session, reply_queue, NULL, false, &consumer, &err), err, "create_consumer");
  check(herald_connection_start(connection, &err), err, "herald_connection_start");

  double start = now_seconds();
  for (long i = 0; i < o.count; i++) {
    herald_message *request = NULL, *reply = NULL;
    char text[64], sent_id[64], correlation[64], answer[128];
    snprintf(text, sizeof text, "request %ld", i);
    check(herald_message_new(HERALD_BODY_KIND_TEXT, &request, &err), err, "herald_message_new");
    check(herald_message_set_text(request, text, &err), err, "herald_message_set_text");
    check(herald_message_set_reply_to(request, reply_queue, &err), err, "herald_message_set_reply_to");
    check(herald_producer_send(producer, request, &err), err, "herald_producer_send");
    check(herald_message_get_message_id(request, sent_id, sizeof sent_id, NULL, &err), err, "get_message_id");

    herald_status status = herald_consumer_receive_timeout(consumer, (uint64_t)o.timeout_ms, &reply, &err);
    if (status == HERALD_STATUS_NO_MESSAGE) {
      fprintf(stderr, "no reply to request %ld within %ld ms\n", i, o.timeout_ms);
      return 1;
    }
    check(status, err, "herald_consumer_receive_timeout");
    check(herald_message_get_correlation_id(reply, correlation, sizeof correlation, NULL, &err), err,
          "get_correlation_id");
    check(herald_message_get_text(reply, answer, sizeof answer, NULL, &err), err, "herald_message_get_text");
    if (strcmp(correlation, sent_id) != 0 || strncmp(answer, "re: request ", 12) != 0) {
      fprintf(stderr, "reply %ld does not match: %s / %s\n", i, correlation, answer);
      return 1;
    }
    if (i == 0) printf("first reply: \"%s\"\n", answer);
    herald_message_free(request);
    herald_message_free(reply);
  }
  double seconds = now_seconds() - start;
  printf("%ld request/reply round trips in %.3f s: %.0f per second\n", o.count, seconds,
         seconds > 0 ? (double)o.count / seconds : 0);

  /* Closing the responder's connection ends its blocked receive. */
  check(herald_connection_close(r.connection, &err), err, "herald_connection_close");
  pthread_join(thread, NULL);
  herald_connection_free(r.connection);

  herald_consumer_free(consumer);
  herald_producer_free(producer);
  herald_destination_free(reply_queue);
  herald_destination_free(requests);
  herald_session_free(session);
  herald_connection_free(connection);
  return 0;
}
