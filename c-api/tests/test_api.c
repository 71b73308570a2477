/*
 * The C API test suite: every function in herald.h, every error status.
 *
 * Usage: test_api [URL]   (default vm://c-tests; tcp://HOST:PORT runs against a server)
 * Prints "api: N passed, M failed" and exits non-zero on any failure.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static const char *url = "vm://c-tests";
static char run_id[32];

/* A destination name unique to this run, so runs against one server do not meet. */
static const char *name(const char *base) {
  static char names[64][96];
  static int next = 0;
  char *n = names[next++ % 64];
  snprintf(n, 96, "%s.%s", base, run_id);
  return n;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static herald_connection *connect_to(const char *client_id) {
  herald_connection *c = NULL;
  OK(herald_connection_open(url, NULL, NULL, client_id, &c, &err));
  if (c) OK(herald_connection_start(c, &err));
  return c;
}

static herald_destination *queue(const char *base) {
  herald_destination *d = NULL;
  OK(herald_destination_queue(name(base), &d, &err));
  return d;
}

static herald_destination *topic(const char *base) {
  herald_destination *d = NULL;
  OK(herald_destination_topic(name(base), &d, &err));
  return d;
}

static herald_message *text_message(const char *text) {
  herald_message *m = NULL;
  OK(herald_message_new(HERALD_BODY_KIND_TEXT, &m, &err));
  OK(herald_message_set_text(m, text, &err));
  return m;
}

static void send_text(herald_producer *p, const char *text) {
  herald_message *m = text_message(text);
  OK(herald_producer_send(p, m, &err));
  herald_message_free(m);
}

/* Receives a text message within a second and checks its text; returns the message. */
static herald_message *expect_text(herald_consumer *c, const char *want) {
  herald_message *m = NULL;
  char buf[256] = "";
  OK(herald_consumer_receive_timeout(c, 1000, &m, &err));
  if (!m) return NULL;
  OK(herald_message_get_text(m, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, want);
  return m;
}

static void receive_text(herald_consumer *c, const char *want) {
  herald_message_free(expect_text(c, want));
}

static void expect_nothing(herald_consumer *c, uint64_t wait_ms) {
  herald_message *m = NULL;
  EXPECT(HERALD_STATUS_NO_MESSAGE, herald_consumer_receive_timeout(c, wait_ms, &m, &err));
  CHECK(m == NULL);
  herald_message_free(m);
}

/* ---- statuses, errors, version ---- */

static void test_status_and_error_objects(void) {
  CHECK(strstr(herald_status_string(HERALD_STATUS_OK), "HERALD_STATUS_OK") != NULL);
  CHECK(strstr(herald_status_string(HERALD_STATUS_ILLEGAL_STATE), "ILLEGAL_STATE") != NULL);
  CHECK(strstr(herald_status_string(HERALD_STATUS_END_OF_STREAM), "END_OF_STREAM") != NULL);
  CHECK(strstr(herald_status_string(9999), "unknown") != NULL);
  CHECK_STR(herald_version(), HERALD_VERSION);
  CHECK(HERALD_VERSION_NUMBER == HERALD_MAKE_VERSION(HERALD_VERSION_MAJOR, HERALD_VERSION_MINOR, HERALD_VERSION_PATCH));

  /* The status numbers are shared with the core's error kinds and with Java. */
  CHECK(HERALD_STATUS_INVALID_SELECTOR == 1);
  CHECK(HERALD_STATUS_ILLEGAL_STATE == 3);
  CHECK(HERALD_STATUS_MESSAGE_FORMAT == 5);
  CHECK(HERALD_STATUS_INTERNAL == 12);

  /* A failure fills err_out with its status and a message. */
  herald_destination *d = NULL;
  herald_error *e = NULL;
  herald_status s = herald_destination_parse("nonsense", &d, &e);
  CHECK(s == HERALD_STATUS_INVALID_DESTINATION);
  CHECK(d == NULL);
  CHECK(e != NULL);
  CHECK(herald_error_status(e) == HERALD_STATUS_INVALID_DESTINATION);
  CHECK(strstr(herald_error_message(e), "nonsense") != NULL);
  herald_error_free(e);

  /* err_out is optional. */
  CHECK(herald_destination_parse("nonsense", &d, NULL) == HERALD_STATUS_INVALID_DESTINATION);

  /* The error accessors take NULL. */
  CHECK(herald_error_status(NULL) == HERALD_STATUS_NULL_ARGUMENT);
  CHECK_STR(herald_error_message(NULL), "");
  herald_error_free(NULL);
}

/* ---- NULL arguments: a status, never a crash ---- */

static void test_null_arguments(void) {
  herald_connection *c = NULL;
  herald_session *s = NULL;
  herald_message *m = NULL;
  herald_destination *d = NULL;
  int32_t i = 0;

  herald_error *e = NULL;
  CHECK(herald_connection_open(NULL, NULL, NULL, NULL, &c, &e) == HERALD_STATUS_NULL_ARGUMENT);
  CHECK(e != NULL && herald_error_status(e) == HERALD_STATUS_NULL_ARGUMENT);
  CHECK(e != NULL && strstr(herald_error_message(e), "url") != NULL);
  herald_error_free(e);

  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_connection_open(url, NULL, NULL, NULL, NULL, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_connection_start(NULL, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_connection_create_session(NULL, HERALD_ACK_MODE_AUTO, &s, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_session_commit(NULL, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_session_create_consumer(NULL, NULL, NULL, false, NULL, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_producer_send(NULL, NULL, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_consumer_receive_no_wait(NULL, &m, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_browser_next(NULL, &m, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_destination_queue(NULL, &d, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_destination_queue("q", NULL, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_message_new(HERALD_BODY_KIND_TEXT, NULL, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_message_get_int_property(NULL, "p", &i, &err));

  OK(herald_message_new(HERALD_BODY_KIND_BYTES, &m, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_message_get_int_property(m, NULL, &i, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_message_get_int_property(m, "p", NULL, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_message_set_bytes(m, NULL, 3, &err));
  OK(herald_message_set_bytes(m, NULL, 0, &err));
  herald_message_free(m);

  /* Every _free ignores NULL. */
  herald_connection_free(NULL);
  herald_session_free(NULL);
  herald_producer_free(NULL);
  herald_consumer_free(NULL);
  herald_browser_free(NULL);
  herald_message_free(NULL);
  herald_destination_free(NULL);
}

/* ---- destinations ---- */

static void test_destinations(void) {
  herald_destination *q = NULL, *t = NULL, *p = NULL, *bad = NULL;
  uint32_t kind = 0;
  bool equal = true;
  char buf[128];
  size_t len = 0;

  OK(herald_destination_queue("orders", &q, &err));
  OK(herald_destination_topic("prices", &t, &err));
  OK(herald_destination_get_kind(q, &kind, &err));
  CHECK(kind == HERALD_DESTINATION_KIND_QUEUE);
  OK(herald_destination_get_kind(t, &kind, &err));
  CHECK(kind == HERALD_DESTINATION_KIND_TOPIC);
  OK(herald_destination_get_name(q, buf, sizeof buf, &len, &err));
  CHECK_STR(buf, "orders");
  CHECK(len == 6);
  OK(herald_destination_to_string(t, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "topic://prices");

  /* Asking for the size first, then a buffer one byte too small. */
  len = 0;
  EXPECT(HERALD_STATUS_INSUFFICIENT_SIZE, herald_destination_get_name(q, NULL, 0, &len, &err));
  CHECK(len == 6);
  memset(buf, 'x', sizeof buf);
  EXPECT(HERALD_STATUS_INSUFFICIENT_SIZE, herald_destination_get_name(q, buf, 6, &len, &err));
  CHECK(buf[0] == 'x');
  OK(herald_destination_get_name(q, buf, 7, &len, &err));
  CHECK_STR(buf, "orders");

  OK(herald_destination_parse("queue://orders", &p, &err));
  OK(herald_destination_equal(q, p, &equal, &err));
  CHECK(equal);
  OK(herald_destination_equal(q, t, &equal, &err));
  CHECK(!equal);
  herald_destination_free(p);
  p = NULL;
  OK(herald_destination_parse("temp-topic://x", &p, &err));
  OK(herald_destination_get_kind(p, &kind, &err));
  CHECK(kind == HERALD_DESTINATION_KIND_TEMPORARY_TOPIC);

  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_destination_parse("mailbox://x", &bad, &err));
  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_destination_queue("", &bad, &err));
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_destination_topic("caf\xc3", &bad, &err));
  CHECK(bad == NULL);

  herald_destination_free(q);
  herald_destination_free(t);
  herald_destination_free(p);
}

/* ---- connections ---- */

static void test_connections(void) {
  herald_connection *c = NULL, *other = NULL;
  herald_session *s = NULL;
  char buf[64];
  size_t len = 0;

  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_connection_open("http://nowhere", NULL, NULL, NULL, &c, &err));
  CHECK(c == NULL);

  OK(herald_connection_open(url, "user", "secret", name("client"), &c, &err));
  OK(herald_connection_get_client_id(c, buf, sizeof buf, &len, &err));
  CHECK_STR(buf, name("client"));
  CHECK(len == strlen(name("client")));
  /* Client IDs are unique per broker. */
  EXPECT(HERALD_STATUS_INVALID_CLIENT_ID, herald_connection_open(url, NULL, NULL, name("client"), &other, &err));
  CHECK(other == NULL);
  /* ... and set once. */
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_connection_set_client_id(c, "again", &err));
  herald_connection_free(c);
  c = NULL;

  /* Once the connection is used, its client ID is fixed. */
  OK(herald_connection_open(url, NULL, NULL, NULL, &c, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_connection_get_client_id(c, buf, sizeof buf, &len, &err));
  OK(herald_connection_set_client_id(c, name("late-client"), &err));
  OK(herald_connection_get_client_id(c, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, name("late-client"));
  herald_connection_free(c);
  c = NULL;

  OK(herald_connection_open(url, NULL, NULL, NULL, &c, &err));
  OK(herald_connection_start(c, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_connection_set_client_id(c, name("too-late"), &err));
  OK(herald_connection_stop(c, &err));
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_connection_create_session(c, 7, &s, &err));
  CHECK(s == NULL);

  /* Closed: the handle stays valid, every call is ILLEGAL_STATE; closing twice is fine. */
  OK(herald_connection_close(c, &err));
  OK(herald_connection_close(c, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_connection_start(c, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_connection_stop(c, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_connection_get_client_id(c, buf, sizeof buf, NULL, &err));
  herald_connection_free(c);

  /* The client ID of a closed connection is free again. */
  OK(herald_connection_open(url, NULL, NULL, name("client"), &c, &err));
  herald_connection_free(c);
}

/* ---- sessions, producers, consumers: the basic exchange and its headers ---- */

static void test_send_and_receive(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("basic"), *got_dest = NULL;
  herald_message *m = NULL;
  uint32_t u = 0;
  int64_t ts = 0;
  bool b = true;
  char buf[128];
  size_t len = 0;

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_get_ack_mode(s, &u, &err));
  CHECK(u == HERALD_ACK_MODE_AUTO);
  OK(herald_session_create_producer(s, q, &p, &err));
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));

  /* Nothing there yet: NO_MESSAGE, and no error object. */
  herald_error *e = NULL;
  CHECK(herald_consumer_receive_no_wait(k, &m, &e) == HERALD_STATUS_NO_MESSAGE);
  CHECK(e == NULL && m == NULL);
  expect_nothing(k, 20);

  m = text_message("hello");
  OK(herald_message_set_correlation_id(m, "corr-1", &err));
  OK(herald_message_set_type(m, "greeting", &err));
  OK(herald_message_set_reply_to(m, q, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_message_id(m, buf, sizeof buf, NULL, &err));
  OK(herald_message_get_delivery_count(m, &u, &err));
  CHECK(u == 0);
  OK(herald_producer_send(p, m, &err));
  /* The send set the headers it assigned on the caller's message. */
  OK(herald_message_get_message_id(m, buf, sizeof buf, &len, &err));
  CHECK(strncmp(buf, "ID:", 3) == 0 && len == 39);
  char sent_id[64];
  strcpy(sent_id, buf);
  OK(herald_message_get_timestamp(m, &ts, &err));
  CHECK(ts > 1600000000000LL);
  OK(herald_message_get_destination(m, &got_dest, &err));
  OK(herald_destination_equal(got_dest, q, &b, &err));
  CHECK(b);
  herald_destination_free(got_dest);
  got_dest = NULL;
  herald_message_free(m);
  m = NULL;

  OK(herald_consumer_receive(k, &m, &err));
  OK(herald_message_get_text(m, buf, sizeof buf, &len, &err));
  CHECK_STR(buf, "hello");
  CHECK(len == 5);
  OK(herald_message_get_message_id(m, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, sent_id);
  OK(herald_message_get_correlation_id(m, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "corr-1");
  OK(herald_message_get_type(m, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "greeting");
  OK(herald_message_get_reply_to(m, &got_dest, &err));
  OK(herald_destination_equal(got_dest, q, &b, &err));
  CHECK(b);
  herald_destination_free(got_dest);
  got_dest = NULL;
  OK(herald_message_get_destination(m, &got_dest, &err));
  herald_destination_free(got_dest);
  got_dest = NULL;
  OK(herald_message_get_delivery_mode(m, &u, &err));
  CHECK(u == HERALD_DELIVERY_MODE_PERSISTENT);
  OK(herald_message_get_priority(m, &u, &err));
  CHECK(u == 4);
  OK(herald_message_get_expiration(m, &ts, &err));
  CHECK(ts == 0);
  OK(herald_message_get_delivery_time(m, &ts, &err));
  CHECK(ts > 0);
  OK(herald_message_get_redelivered(m, &b, &err));
  CHECK(!b);
  OK(herald_message_get_delivery_count(m, &u, &err));
  CHECK(u == 1);

  /* Clearing headers. */
  OK(herald_message_set_correlation_id(m, NULL, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_correlation_id(m, buf, sizeof buf, NULL, &err));
  OK(herald_message_set_type(m, NULL, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_type(m, buf, sizeof buf, NULL, &err));
  OK(herald_message_set_reply_to(m, NULL, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_reply_to(m, &got_dest, &err));
  CHECK(got_dest == NULL);
  herald_message_free(m);

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

static void test_producer_options(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_producer *p = NULL, *anon = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("options"), *d = NULL;
  herald_message *m = NULL;
  uint32_t u = 0;
  int64_t ms = 0, sent_at = 0, exp = 0;
  char buf[64];

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));
  OK(herald_producer_get_destination(p, &d, &err));
  herald_destination_free(d);
  d = NULL;
  OK(herald_producer_get_delivery_mode(p, &u, &err));
  CHECK(u == HERALD_DELIVERY_MODE_PERSISTENT);
  OK(herald_producer_set_delivery_mode(p, HERALD_DELIVERY_MODE_NON_PERSISTENT, &err));
  OK(herald_producer_get_delivery_mode(p, &u, &err));
  CHECK(u == HERALD_DELIVERY_MODE_NON_PERSISTENT);
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_producer_set_delivery_mode(p, 3, &err));
  OK(herald_producer_get_priority(p, &u, &err));
  CHECK(u == 4);
  OK(herald_producer_set_priority(p, 7, &err));
  OK(herald_producer_get_priority(p, &u, &err));
  CHECK(u == 7);
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_producer_set_priority(p, 10, &err));
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_producer_set_priority(p, 300, &err));
  OK(herald_producer_set_time_to_live(p, 60000, &err));
  OK(herald_producer_get_time_to_live(p, &ms, &err));
  CHECK(ms == 60000);
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_producer_set_time_to_live(p, -1, &err));
  OK(herald_producer_get_delivery_delay(p, &ms, &err));
  CHECK(ms == 0);
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_producer_set_delivery_delay(p, -5, &err));
  OK(herald_producer_set_disable_message_id(p, true, &err));
  OK(herald_producer_set_disable_timestamp(p, true, &err));

  m = text_message("options");
  OK(herald_producer_send(p, m, &err));
  herald_message_free(m);
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  m = expect_text(k, "options");
  OK(herald_message_get_delivery_mode(m, &u, &err));
  CHECK(u == HERALD_DELIVERY_MODE_NON_PERSISTENT);
  OK(herald_message_get_priority(m, &u, &err));
  CHECK(u == 7);
  OK(herald_message_get_expiration(m, &exp, &err));
  OK(herald_message_get_delivery_time(m, &sent_at, &err));
  CHECK(exp - sent_at == 60000);
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_message_id(m, buf, sizeof buf, NULL, &err));
  OK(herald_message_get_timestamp(m, &ms, &err));
  CHECK(ms == 0);
  herald_message_free(m);

  /* A producer without a destination names one on each send. */
  OK(herald_session_create_producer(s, NULL, &anon, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_producer_get_destination(anon, &d, &err));
  m = text_message("anonymous");
  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_producer_send(anon, m, &err));
  OK(herald_producer_send_to(anon, q, m, &err));
  receive_text(k, "anonymous");
  /* A producer with a destination takes no other. */
  herald_destination *elsewhere = queue("elsewhere");
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_producer_send_to(p, elsewhere, m, &err));
  herald_destination_free(elsewhere);

  /* A closed producer refuses everything. */
  OK(herald_producer_close(p, &err));
  OK(herald_producer_close(p, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_producer_send(p, m, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_producer_set_priority(p, 1, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_producer_get_priority(p, &u, &err));
  herald_message_free(m);

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_producer_free(anon);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

static void test_priority_expiry_and_delay(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("delivery");
  herald_message *m = NULL;
  int64_t delivery_time = 0, timestamp = 0;

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));

  /* Higher priority first. */
  OK(herald_producer_set_priority(p, 1, &err));
  send_text(p, "low");
  OK(herald_producer_set_priority(p, 9, &err));
  send_text(p, "high");
  OK(herald_producer_set_priority(p, 4, &err));

  /* An expired message is never delivered. */
  OK(herald_producer_set_time_to_live(p, 30, &err));
  send_text(p, "expires");
  OK(herald_producer_set_time_to_live(p, 0, &err));
  sleep_ms(80);

  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  receive_text(k, "high");
  receive_text(k, "low");
  expect_nothing(k, 50);

  /* A delayed message waits. */
  OK(herald_producer_set_delivery_delay(p, 1000, &err));
  send_text(p, "later");
  OK(herald_producer_set_delivery_delay(p, 0, &err));
  expect_nothing(k, 50);
  herald_message *early = NULL;
  EXPECT(HERALD_STATUS_NO_MESSAGE, herald_consumer_receive_no_wait(k, &early, &err));
  OK(herald_consumer_receive_timeout(k, 3000, &m, &err));
  if (m) {
    OK(herald_message_get_delivery_time(m, &delivery_time, &err));
    OK(herald_message_get_timestamp(m, &timestamp, &err));
    CHECK(delivery_time - timestamp == 1000);
    char text[16] = "";
    OK(herald_message_get_text(m, text, sizeof text, NULL, &err));
    CHECK_STR(text, "later");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 >= delivery_time);
  }
  herald_message_free(m);

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

/* ---- selectors ---- */

static void test_selectors(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("selected");
  herald_message *m = NULL;

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));

  herald_error *e = NULL;
  CHECK(herald_session_create_consumer(s, q, "color = ", false, &k, &e) == HERALD_STATUS_INVALID_SELECTOR);
  CHECK(k == NULL && e != NULL && herald_error_status(e) == HERALD_STATUS_INVALID_SELECTOR);
  herald_error_free(e);
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_session_create_consumer(s, q, "color = '\xff'", false, &k, &err));

  OK(herald_session_create_consumer(s, q, "color = 'red' AND size > 2", false, &k, &err));
  m = text_message("blue");
  OK(herald_message_set_string_property(m, "color", "blue", &err));
  OK(herald_message_set_int_property(m, "size", 5, &err));
  OK(herald_producer_send(p, m, &err));
  herald_message_free(m);
  m = text_message("small red");
  OK(herald_message_set_string_property(m, "color", "red", &err));
  OK(herald_message_set_int_property(m, "size", 1, &err));
  OK(herald_producer_send(p, m, &err));
  herald_message_free(m);
  m = text_message("big red");
  OK(herald_message_set_string_property(m, "color", "red", &err));
  OK(herald_message_set_long_property(m, "size", 3, &err));
  OK(herald_producer_send(p, m, &err));
  herald_message_free(m);

  receive_text(k, "big red");
  expect_nothing(k, 20);
  herald_consumer_free(k);
  k = NULL;

  /* The others are still on the queue, in order. */
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  receive_text(k, "blue");
  receive_text(k, "small red");

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

/* ---- acknowledgement modes and transactions ---- */

static void test_transactions(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *tx = NULL, *plain = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL, *watch = NULL;
  herald_destination *q = queue("tx");
  herald_message *m = NULL;
  uint32_t u = 0;
  bool b = false;

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_TRANSACTED, &tx, &err));
  OK(herald_session_get_ack_mode(tx, &u, &err));
  CHECK(u == HERALD_ACK_MODE_TRANSACTED);
  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &plain, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_commit(plain, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_rollback(plain, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_recover(tx, &err));

  OK(herald_session_create_producer(tx, q, &p, &err));
  OK(herald_session_create_consumer(plain, q, NULL, false, &watch, &err));

  /* Sends take effect on commit only. */
  send_text(p, "rolled back");
  OK(herald_session_rollback(tx, &err));
  expect_nothing(watch, 30);
  send_text(p, "committed");
  expect_nothing(watch, 30);
  OK(herald_session_commit(tx, &err));
  receive_text(watch, "committed");
  herald_consumer_free(watch);

  /* A rolled-back receive comes back, redelivered. */
  send_text(p, "again");
  OK(herald_session_commit(tx, &err));
  OK(herald_session_create_consumer(tx, q, NULL, false, &k, &err));
  m = expect_text(k, "again");
  if (m) {
    OK(herald_message_get_redelivered(m, &b, &err));
    CHECK(!b);
  }
  herald_message_free(m);
  OK(herald_session_rollback(tx, &err));
  m = expect_text(k, "again");
  if (m) {
    OK(herald_message_get_redelivered(m, &b, &err));
    CHECK(b);
    OK(herald_message_get_delivery_count(m, &u, &err));
    CHECK(u == 2);
  }
  herald_message_free(m);
  OK(herald_session_commit(tx, &err));
  expect_nothing(k, 30);

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(tx);
  herald_session_free(plain);
  herald_destination_free(q);
  herald_connection_free(c);
}

static void test_client_acknowledge_and_recover(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL, *dups = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("client-ack");
  herald_message *m = NULL;
  uint32_t u = 0;

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_CLIENT, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));
  send_text(p, "one");
  send_text(p, "two");
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  receive_text(k, "one");
  receive_text(k, "two");

  /* Recover redelivers, from the oldest, what was not acknowledged. */
  OK(herald_session_recover(s, &err));
  m = expect_text(k, "one");
  if (m) {
    OK(herald_message_get_delivery_count(m, &u, &err));
    CHECK(u == 2);
  }
  herald_message_free(m);
  receive_text(k, "two");
  OK(herald_session_acknowledge(s, &err));

  /* Closing the session returns unacknowledged messages; acknowledged ones are gone. */
  send_text(p, "three");
  receive_text(k, "three");
  herald_consumer_free(k);
  k = NULL;
  OK(herald_session_close(s, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_acknowledge(s, &err));

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_DUPS_OK, &dups, &err));
  OK(herald_session_get_ack_mode(dups, &u, &err));
  CHECK(u == HERALD_ACK_MODE_DUPS_OK);
  OK(herald_session_create_consumer(dups, q, NULL, false, &k, &err));
  m = expect_text(k, "three");
  if (m) {
    OK(herald_message_get_delivery_count(m, &u, &err));
    CHECK(u == 2);
  }
  herald_message_free(m);
  expect_nothing(k, 30);

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(s);
  herald_session_free(dups);
  herald_destination_free(q);
  herald_connection_free(c);
}

/* ---- topics and subscriptions ---- */

static void test_topics(void) {
  herald_connection *c = connect_to(NULL), *other = connect_to(NULL);
  herald_session *s = NULL, *s2 = NULL;
  herald_producer *p = NULL;
  herald_consumer *a = NULL, *b = NULL, *local = NULL, *remote = NULL;
  herald_destination *t = topic("news");

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_connection_create_session(other, HERALD_ACK_MODE_AUTO, &s2, &err));
  OK(herald_session_create_producer(s, t, &p, &err));
  OK(herald_session_create_consumer(s, t, NULL, false, &a, &err));
  OK(herald_session_create_consumer(s, t, "important = TRUE", false, &b, &err));
  OK(herald_session_create_consumer(s, t, NULL, true, &local, &err));
  OK(herald_session_create_consumer(s2, t, NULL, true, &remote, &err));

  herald_message *m = text_message("flash");
  OK(herald_message_set_bool_property(m, "important", true, &err));
  OK(herald_producer_send(p, m, &err));
  herald_message_free(m);
  send_text(p, "gossip");

  /* Every subscription gets a copy; the selector and noLocal filter. */
  receive_text(a, "flash");
  receive_text(a, "gossip");
  receive_text(b, "flash");
  expect_nothing(b, 20);
  expect_nothing(local, 20);
  receive_text(remote, "flash");
  receive_text(remote, "gossip");

  /* Subscriptions are for topics. */
  herald_consumer *bad = NULL;
  herald_destination *q = queue("not-a-topic");
  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_session_create_shared_consumer(s, q, "sub", NULL, &bad, &err));
  CHECK(bad == NULL);
  herald_destination_free(q);

  herald_consumer_free(a);
  herald_consumer_free(b);
  herald_consumer_free(local);
  herald_consumer_free(remote);
  herald_producer_free(p);
  herald_session_free(s);
  herald_session_free(s2);
  herald_destination_free(t);
  herald_connection_free(c);
  herald_connection_free(other);
}

static void test_durable_and_shared_subscriptions(void) {
  herald_connection *anon = connect_to(NULL);
  herald_connection *c = connect_to(name("durable-client"));
  herald_session *s = NULL, *as = NULL;
  herald_producer *p = NULL;
  herald_consumer *d = NULL, *sh1 = NULL, *sh2 = NULL, *sd = NULL;
  herald_destination *t = topic("events");

  OK(herald_connection_create_session(anon, HERALD_ACK_MODE_AUTO, &as, &err));
  OK(herald_session_create_producer(as, t, &p, &err));
  /* An unshared durable subscription needs a client ID. */
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_create_durable_consumer(as, t, "sub", NULL, false, &d, &err));
  CHECK(d == NULL);

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_durable_consumer(s, t, "audit", NULL, false, &d, &err));
  send_text(p, "first");
  receive_text(d, "first");
  /* While no consumer is attached, the durable subscription keeps what is published. */
  herald_consumer_free(d);
  d = NULL;
  send_text(p, "while away");
  OK(herald_session_create_durable_consumer(s, t, "audit", NULL, false, &d, &err));
  receive_text(d, "while away");
  /* Unsubscribing an active subscription is refused; once detached it is deleted. */
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_unsubscribe(s, "audit", &err));
  OK(herald_consumer_close(d, &err));
  OK(herald_session_unsubscribe(s, "audit", &err));
  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_session_unsubscribe(s, "audit", &err));
  send_text(p, "after unsubscribe");
  herald_consumer_free(d);
  d = NULL;
  OK(herald_session_create_durable_consumer(s, t, "audit", NULL, false, &d, &err));
  expect_nothing(d, 30);
  herald_consumer_free(d);
  OK(herald_session_unsubscribe(s, "audit", &err));

  /* A shared subscription: its consumers compete for its messages. */
  OK(herald_session_create_shared_consumer(as, t, name("workers"), NULL, &sh1, &err));
  OK(herald_session_create_shared_consumer(as, t, name("workers"), NULL, &sh2, &err));
  send_text(p, "job");
  herald_message *m1 = NULL, *m2 = NULL;
  herald_status r1 = herald_consumer_receive_timeout(sh1, 200, &m1, NULL);
  herald_status r2 = herald_consumer_receive_timeout(sh2, 200, &m2, NULL);
  CHECK((r1 == HERALD_STATUS_OK) != (r2 == HERALD_STATUS_OK));
  herald_message_free(m1);
  herald_message_free(m2);

  /* A shared durable subscription outlives its consumers. */
  OK(herald_session_create_shared_durable_consumer(as, t, name("ledger"), "n > 1", &sd, &err));
  herald_consumer_free(sd);
  sd = NULL;
  herald_message *m = text_message("two");
  OK(herald_message_set_int_property(m, "n", 2, &err));
  OK(herald_producer_send(p, m, &err));
  herald_message_free(m);
  send_text(p, "none");
  OK(herald_session_create_shared_durable_consumer(as, t, name("ledger"), "n > 1", &sd, &err));
  receive_text(sd, "two");
  expect_nothing(sd, 20);
  herald_consumer_free(sd);
  OK(herald_session_unsubscribe(as, name("ledger"), &err));

  herald_consumer_free(sh1);
  herald_consumer_free(sh2);
  herald_producer_free(p);
  herald_session_free(s);
  herald_session_free(as);
  herald_destination_free(t);
  herald_connection_free(c);
  herald_connection_free(anon);
}

/* ---- browsers ---- */

static void test_browsers(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_browser *br = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("browsed"), *t = topic("unbrowsable");
  herald_message *m = NULL;
  char buf[32];

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));
  for (int i = 0; i < 3; i++) {
    m = text_message(i == 0 ? "a" : i == 1 ? "b" : "c");
    OK(herald_message_set_int_property(m, "i", i, &err));
    OK(herald_producer_send(p, m, &err));
    herald_message_free(m);
  }

  OK(herald_session_create_browser(s, q, NULL, &br, &err));
  const char *want[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    m = NULL;
    OK(herald_browser_next(br, &m, &err));
    if (m) {
      OK(herald_message_get_text(m, buf, sizeof buf, NULL, &err));
      CHECK_STR(buf, want[i]);
    }
    herald_message_free(m);
  }
  m = NULL;
  EXPECT(HERALD_STATUS_NO_MESSAGE, herald_browser_next(br, &m, &err));
  CHECK(m == NULL);
  herald_browser_free(br);
  br = NULL;

  OK(herald_session_create_browser(s, q, "i >= 1", &br, &err));
  OK(herald_browser_next(br, &m, &err));
  if (m) {
    OK(herald_message_get_text(m, buf, sizeof buf, NULL, &err));
    CHECK_STR(buf, "b");
  }
  herald_message_free(m);
  m = NULL;
  OK(herald_browser_close(br, &err));
  OK(herald_browser_close(br, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_browser_next(br, &m, &err));
  herald_browser_free(br);
  br = NULL;

  EXPECT(HERALD_STATUS_INVALID_SELECTOR, herald_session_create_browser(s, q, "i >>= 1", &br, &err));
  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_session_create_browser(s, t, NULL, &br, &err));
  CHECK(br == NULL);

  /* Browsing consumed nothing. */
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  receive_text(k, "a");
  receive_text(k, "b");
  receive_text(k, "c");

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(s);
  herald_destination_free(q);
  herald_destination_free(t);
  herald_connection_free(c);
}

/* ---- temporary destinations and request/reply ---- */

static void test_temporary_destinations(void) {
  herald_connection *c = connect_to(NULL), *other = connect_to(NULL);
  herald_session *s = NULL, *s2 = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL, *thief = NULL;
  herald_destination *tq = NULL, *tt = NULL;
  uint32_t kind = 0;

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_connection_create_session(other, HERALD_ACK_MODE_AUTO, &s2, &err));
  OK(herald_connection_create_temporary_queue(c, &tq, &err));
  OK(herald_connection_create_temporary_topic(c, &tt, &err));
  OK(herald_destination_get_kind(tq, &kind, &err));
  CHECK(kind == HERALD_DESTINATION_KIND_TEMPORARY_QUEUE);
  OK(herald_destination_get_kind(tt, &kind, &err));
  CHECK(kind == HERALD_DESTINATION_KIND_TEMPORARY_TOPIC);

  /* Anyone may send to it; only its connection may consume. */
  OK(herald_session_create_producer(s2, tq, &p, &err));
  send_text(p, "reply");
  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_session_create_consumer(s2, tq, NULL, false, &thief, &err));
  CHECK(thief == NULL);
  OK(herald_session_create_consumer(s, tq, NULL, false, &k, &err));
  receive_text(k, "reply");

  /* Deleting it is refused while it has a consumer, and only its connection may. */
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_connection_delete_temporary(c, tq, &err));
  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_connection_delete_temporary(other, tq, &err));
  OK(herald_consumer_close(k, &err));
  OK(herald_connection_delete_temporary(c, tq, &err));
  OK(herald_connection_delete_temporary(c, tt, &err));
  herald_message *m = text_message("too late");
  EXPECT(HERALD_STATUS_INVALID_DESTINATION, herald_producer_send(p, m, &err));
  herald_message_free(m);

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(s);
  herald_session_free(s2);
  herald_destination_free(tq);
  herald_destination_free(tt);
  herald_connection_free(c);
  herald_connection_free(other);
}

/* ---- message bodies ---- */

static void test_text_and_bytes_bodies(void) {
  herald_message *m = NULL, *bad = NULL;
  uint32_t kind = 99;
  char buf[16];
  size_t len = 0;
  const uint8_t *data = NULL;

  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_new(6, &bad, &err));
  CHECK(bad == NULL);

  OK(herald_message_new(HERALD_BODY_KIND_TEXT, &m, &err));
  OK(herald_message_get_body_kind(m, &kind, &err));
  CHECK(kind == HERALD_BODY_KIND_TEXT);
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_text(m, buf, sizeof buf, &len, &err));
  OK(herald_message_set_text(m, "a longer text", &err));
  EXPECT(HERALD_STATUS_INSUFFICIENT_SIZE, herald_message_get_text(m, buf, 4, &len, &err));
  CHECK(len == 13);
  OK(herald_message_get_text(m, buf, sizeof buf, &len, &err));
  CHECK_STR(buf, "a longer text");
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_set_text(m, "\xc3\x28", &err));
  OK(herald_message_set_text(m, NULL, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_text(m, buf, sizeof buf, &len, &err));
  OK(herald_message_set_text(m, "x", &err));
  OK(herald_message_clear_body(m, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_text(m, buf, sizeof buf, &len, &err));
  /* Body calls of another kind are MESSAGE_FORMAT. */
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_set_bytes(m, (const uint8_t *)"x", 1, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_bytes(m, &data, &len, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_map_set_int(m, "k", 1, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_stream_write_int(m, 1, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_set_object(m, (const uint8_t *)"x", 1, &err));
  herald_message_free(m);
  m = NULL;

  const uint8_t raw[] = {0, 1, 2, 0, 255};
  OK(herald_message_new(HERALD_BODY_KIND_BYTES, &m, &err));
  OK(herald_message_get_bytes(m, &data, &len, &err));
  CHECK(len == 0);
  OK(herald_message_set_bytes(m, raw, sizeof raw, &err));
  OK(herald_message_get_bytes(m, &data, &len, &err));
  CHECK(len == 5 && memcmp(data, raw, 5) == 0);
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_set_text(m, "no", &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_text(m, buf, sizeof buf, &len, &err));
  OK(herald_message_clear_body(m, &err));
  OK(herald_message_get_bytes(m, &data, &len, &err));
  CHECK(len == 0);
  herald_message_free(m);
  m = NULL;

  OK(herald_message_new(HERALD_BODY_KIND_OBJECT, &m, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_object(m, &data, &len, &err));
  OK(herald_message_set_object(m, raw, sizeof raw, &err));
  OK(herald_message_get_object(m, &data, &len, &err));
  CHECK(len == 5 && memcmp(data, raw, 5) == 0);
  OK(herald_message_set_object(m, NULL, 0, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_object(m, &data, &len, &err));
  herald_message_free(m);
  m = NULL;

  OK(herald_message_new(HERALD_BODY_KIND_EMPTY, &m, &err));
  OK(herald_message_get_body_kind(m, &kind, &err));
  CHECK(kind == HERALD_BODY_KIND_EMPTY);
  OK(herald_message_clear_body(m, &err));
  herald_message_free(m);
}

static void test_map_bodies(void) {
  herald_message *m = NULL;
  bool b = false;
  int8_t i8 = 0;
  int16_t i16 = 0;
  uint32_t ch = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f = 0;
  double d = 0;
  size_t n = 0, len = 0;
  char buf[64];
  const uint8_t *data = NULL;

  OK(herald_message_new(HERALD_BODY_KIND_MAP, &m, &err));
  OK(herald_message_map_set_bool(m, "bool", true, &err));
  OK(herald_message_map_set_byte(m, "byte", -8, &err));
  OK(herald_message_map_set_short(m, "short", -16, &err));
  OK(herald_message_map_set_char(m, "char", 0x00e9, &err));
  OK(herald_message_map_set_int(m, "int", 32, &err));
  OK(herald_message_map_set_long(m, "long", 1LL << 40, &err));
  OK(herald_message_map_set_float(m, "float", 1.5f, &err));
  OK(herald_message_map_set_double(m, "double", 2.25, &err));
  OK(herald_message_map_set_string(m, "string", "text", &err));
  OK(herald_message_map_set_string(m, "number", "123", &err));
  OK(herald_message_map_set_bytes(m, "bytes", (const uint8_t *)"\x01\x02", 2, &err));
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_map_set_int(m, "", 1, &err));
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_map_set_char(m, "bad", 0xD800, &err));

  OK(herald_message_map_get_bool(m, "bool", &b, &err));
  CHECK(b);
  OK(herald_message_map_get_byte(m, "byte", &i8, &err));
  CHECK(i8 == -8);
  OK(herald_message_map_get_short(m, "short", &i16, &err));
  CHECK(i16 == -16);
  OK(herald_message_map_get_char(m, "char", &ch, &err));
  CHECK(ch == 0x00e9);
  OK(herald_message_map_get_int(m, "int", &i32, &err));
  CHECK(i32 == 32);
  OK(herald_message_map_get_long(m, "long", &i64, &err));
  CHECK(i64 == 1LL << 40);
  OK(herald_message_map_get_float(m, "float", &f, &err));
  CHECK(f == 1.5f);
  OK(herald_message_map_get_double(m, "double", &d, &err));
  CHECK(d == 2.25);
  OK(herald_message_map_get_string(m, "string", buf, sizeof buf, &len, &err));
  CHECK_STR(buf, "text");
  OK(herald_message_map_get_bytes(m, "bytes", &data, &len, &err));
  CHECK(len == 2 && data[0] == 1 && data[1] == 2);

  /* The JMS conversion table: widening and strings convert, the rest is MESSAGE_FORMAT. */
  OK(herald_message_map_get_long(m, "byte", &i64, &err));
  CHECK(i64 == -8);
  OK(herald_message_map_get_double(m, "float", &d, &err));
  CHECK(d == 1.5);
  OK(herald_message_map_get_int(m, "number", &i32, &err));
  CHECK(i32 == 123);
  OK(herald_message_map_get_string(m, "int", buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "32");
  OK(herald_message_map_get_string(m, "char", buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "\xc3\xa9");
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_map_get_int(m, "long", &i32, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_map_get_bool(m, "int", &b, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_map_get_char(m, "string", &ch, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_map_get_bytes(m, "string", &data, &len, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_map_get_string(m, "bytes", buf, sizeof buf, NULL, &err));
  EXPECT(HERALD_STATUS_NUMBER_FORMAT, herald_message_map_get_int(m, "string", &i32, &err));
  EXPECT(HERALD_STATUS_NUMBER_FORMAT, herald_message_map_get_float(m, "missing", &f, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_map_get_string(m, "missing", buf, sizeof buf, NULL, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_map_get_bytes(m, "missing", &data, &len, &err));
  OK(herald_message_map_get_bool(m, "missing", &b, &err));
  CHECK(!b);

  OK(herald_message_map_item_exists(m, "int", &b, &err));
  CHECK(b);
  OK(herald_message_map_item_exists(m, "missing", &b, &err));
  CHECK(!b);
  OK(herald_message_map_get_count(m, &n, &err));
  CHECK(n == 11);
  OK(herald_message_map_get_name(m, 0, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "bool");
  OK(herald_message_map_get_name(m, 10, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "bytes");
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_map_get_name(m, 11, buf, sizeof buf, NULL, &err));
  /* Setting an existing name replaces its value. */
  OK(herald_message_map_set_int(m, "int", 64, &err));
  OK(herald_message_map_get_int(m, "int", &i32, &err));
  CHECK(i32 == 64);
  OK(herald_message_map_get_count(m, &n, &err));
  CHECK(n == 11);
  OK(herald_message_clear_body(m, &err));
  OK(herald_message_map_get_count(m, &n, &err));
  CHECK(n == 0);
  herald_message_free(m);
}

static void test_stream_bodies(void) {
  herald_message *m = NULL;
  bool b = false;
  int8_t i8 = 0;
  int16_t i16 = 0;
  uint32_t ch = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f = 0;
  double d = 0;
  size_t len = 0;
  char buf[64];
  const uint8_t *data = NULL;

  OK(herald_message_new(HERALD_BODY_KIND_STREAM, &m, &err));
  OK(herald_message_stream_write_bool(m, true, &err));
  OK(herald_message_stream_write_byte(m, 8, &err));
  OK(herald_message_stream_write_short(m, 16, &err));
  OK(herald_message_stream_write_char(m, 'Z', &err));
  OK(herald_message_stream_write_int(m, 32, &err));
  OK(herald_message_stream_write_long(m, 64, &err));
  OK(herald_message_stream_write_float(m, 0.5f, &err));
  OK(herald_message_stream_write_double(m, 0.25, &err));
  OK(herald_message_stream_write_string(m, "a fairly long string", &err));
  OK(herald_message_stream_write_bytes(m, (const uint8_t *)"\x07", 1, &err));
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_stream_write_char(m, 0x110000, &err));

  OK(herald_message_stream_read_bool(m, &b, &err));
  CHECK(b);
  OK(herald_message_stream_read_byte(m, &i8, &err));
  CHECK(i8 == 8);
  /* A failed conversion does not move the read position. */
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_stream_read_byte(m, &i8, &err));
  OK(herald_message_stream_read_short(m, &i16, &err));
  CHECK(i16 == 16);
  OK(herald_message_stream_read_char(m, &ch, &err));
  CHECK(ch == 'Z');
  OK(herald_message_stream_read_int(m, &i32, &err));
  CHECK(i32 == 32);
  OK(herald_message_stream_read_long(m, &i64, &err));
  CHECK(i64 == 64);
  OK(herald_message_stream_read_float(m, &f, &err));
  CHECK(f == 0.5f);
  OK(herald_message_stream_read_double(m, &d, &err));
  CHECK(d == 0.25);
  /* A too-small buffer does not move it either. */
  EXPECT(HERALD_STATUS_INSUFFICIENT_SIZE, herald_message_stream_read_string(m, buf, 4, &len, &err));
  CHECK(len == 20);
  OK(herald_message_stream_read_string(m, buf, sizeof buf, &len, &err));
  CHECK_STR(buf, "a fairly long string");
  OK(herald_message_stream_read_bytes(m, &data, &len, &err));
  CHECK(len == 1 && data[0] == 7);
  EXPECT(HERALD_STATUS_END_OF_STREAM, herald_message_stream_read_int(m, &i32, &err));
  EXPECT(HERALD_STATUS_END_OF_STREAM, herald_message_stream_read_string(m, buf, sizeof buf, &len, &err));
  EXPECT(HERALD_STATUS_END_OF_STREAM, herald_message_stream_read_bytes(m, &data, &len, &err));

  /* After a reset, the same elements read with conversions. */
  OK(herald_message_stream_reset(m, &err));
  OK(herald_message_stream_read_string(m, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "true");
  OK(herald_message_stream_read_long(m, &i64, &err));
  CHECK(i64 == 8);
  OK(herald_message_stream_read_int(m, &i32, &err));
  CHECK(i32 == 16);
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_stream_read_int(m, &i32, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_stream_read_bytes(m, &data, &len, &err));
  OK(herald_message_stream_read_string(m, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "Z");

  OK(herald_message_clear_body(m, &err));
  EXPECT(HERALD_STATUS_END_OF_STREAM, herald_message_stream_read_bool(m, &b, &err));
  herald_message_free(m);
  m = NULL;

  OK(herald_message_new(HERALD_BODY_KIND_TEXT, &m, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_stream_reset(m, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_stream_read_bool(m, &b, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_map_get_count(m, &len, &err));
  herald_message_free(m);
}

/* ---- properties ---- */

static void test_properties(void) {
  herald_message *m = NULL;
  bool b = false;
  int8_t i8 = 0;
  int16_t i16 = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f = 0;
  double d = 0;
  size_t n = 0, len = 0;
  char buf[64];

  OK(herald_message_new(HERALD_BODY_KIND_EMPTY, &m, &err));
  OK(herald_message_set_bool_property(m, "pBool", true, &err));
  OK(herald_message_set_byte_property(m, "pByte", 7, &err));
  OK(herald_message_set_short_property(m, "pShort", 300, &err));
  OK(herald_message_set_int_property(m, "pInt", 70000, &err));
  OK(herald_message_set_long_property(m, "pLong", 5000000000LL, &err));
  OK(herald_message_set_float_property(m, "pFloat", 3.5f, &err));
  OK(herald_message_set_double_property(m, "pDouble", 6.75, &err));
  OK(herald_message_set_string_property(m, "pString", "42", &err));
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_set_int_property(m, "1bad", 1, &err));
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_set_int_property(m, "AND", 1, &err));

  OK(herald_message_get_bool_property(m, "pBool", &b, &err));
  CHECK(b);
  OK(herald_message_get_byte_property(m, "pByte", &i8, &err));
  CHECK(i8 == 7);
  OK(herald_message_get_short_property(m, "pShort", &i16, &err));
  CHECK(i16 == 300);
  OK(herald_message_get_int_property(m, "pInt", &i32, &err));
  CHECK(i32 == 70000);
  OK(herald_message_get_long_property(m, "pLong", &i64, &err));
  CHECK(i64 == 5000000000LL);
  OK(herald_message_get_float_property(m, "pFloat", &f, &err));
  CHECK(f == 3.5f);
  OK(herald_message_get_double_property(m, "pDouble", &d, &err));
  CHECK(d == 6.75);
  OK(herald_message_get_string_property(m, "pString", buf, sizeof buf, &len, &err));
  CHECK_STR(buf, "42");

  /* Conversions. */
  OK(herald_message_get_int_property(m, "pString", &i32, &err));
  CHECK(i32 == 42);
  OK(herald_message_get_long_property(m, "pShort", &i64, &err));
  CHECK(i64 == 300);
  OK(herald_message_get_double_property(m, "pFloat", &d, &err));
  CHECK(d == 3.5);
  OK(herald_message_get_string_property(m, "pDouble", buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "6.75");
  OK(herald_message_get_string_property(m, "pBool", buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "true");

  /* Wrong types: MESSAGE_FORMAT; numbers that do not parse or are missing: NUMBER_FORMAT. */
  herald_error *e = NULL;
  CHECK(herald_message_get_int_property(m, "pDouble", &i32, &e) == HERALD_STATUS_MESSAGE_FORMAT);
  CHECK(e != NULL && herald_error_status(e) == HERALD_STATUS_MESSAGE_FORMAT);
  CHECK(e != NULL && strstr(herald_error_message(e), "double") != NULL);
  herald_error_free(e);
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_int_property(m, "pLong", &i32, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_short_property(m, "pInt", &i16, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_byte_property(m, "pBool", &i8, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_bool_property(m, "pInt", &b, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_float_property(m, "pDouble", &f, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_double_property(m, "pLong", &d, &err));
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_long_property(m, "pFloat", &i64, &err));
  OK(herald_message_set_string_property(m, "pWord", "forty-two", &err));
  EXPECT(HERALD_STATUS_NUMBER_FORMAT, herald_message_get_int_property(m, "pWord", &i32, &err));
  EXPECT(HERALD_STATUS_NUMBER_FORMAT, herald_message_get_long_property(m, "missing", &i64, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_message_get_string_property(m, "missing", buf, sizeof buf, NULL, &err));
  OK(herald_message_get_bool_property(m, "missing", &b, &err));
  CHECK(!b);
  /* Outputs are written only on success. */
  i32 = -1;
  EXPECT(HERALD_STATUS_MESSAGE_FORMAT, herald_message_get_int_property(m, "pDouble", &i32, &err));
  CHECK(i32 == -1);

  OK(herald_message_property_exists(m, "pInt", &b, &err));
  CHECK(b);
  OK(herald_message_property_exists(m, "missing", &b, &err));
  CHECK(!b);
  OK(herald_message_get_property_count(m, &n, &err));
  CHECK(n == 9);
  OK(herald_message_get_property_name(m, 0, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "pBool");
  EXPECT(HERALD_STATUS_INVALID_ARGUMENT, herald_message_get_property_name(m, 9, buf, sizeof buf, NULL, &err));
  OK(herald_message_clear_properties(m, &err));
  OK(herald_message_get_property_count(m, &n, &err));
  CHECK(n == 0);
  herald_message_free(m);
}

/* Every body kind, with properties, survives the trip through the broker. */
static void test_bodies_through_the_broker(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("bodies");
  herald_message *m = NULL;
  uint32_t kind = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  double dbl = 0;
  size_t len = 0;
  const uint8_t *data = NULL;
  char buf[64];

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  for (uint32_t body = HERALD_BODY_KIND_EMPTY; body <= HERALD_BODY_KIND_OBJECT; body++) {
    OK(herald_message_new(body, &m, &err));
    OK(herald_message_set_int_property(m, "kind", (int32_t)body, &err));
    OK(herald_message_set_double_property(m, "weight", 0.5 * body, &err));
    switch (body) {
      case HERALD_BODY_KIND_TEXT: OK(herald_message_set_text(m, "text body", &err)); break;
      case HERALD_BODY_KIND_BYTES: OK(herald_message_set_bytes(m, (const uint8_t *)"\0\1\2", 3, &err)); break;
      case HERALD_BODY_KIND_MAP: OK(herald_message_map_set_long(m, "big", 1LL << 50, &err)); break;
      case HERALD_BODY_KIND_STREAM:
        OK(herald_message_stream_write_string(m, "s", &err));
        OK(herald_message_stream_write_int(m, 9, &err));
        break;
      case HERALD_BODY_KIND_OBJECT: OK(herald_message_set_object(m, (const uint8_t *)"obj", 3, &err)); break;
    }
    OK(herald_producer_send(p, m, &err));
    herald_message_free(m);
    m = NULL;
  }
  for (uint32_t body = HERALD_BODY_KIND_EMPTY; body <= HERALD_BODY_KIND_OBJECT; body++) {
    OK(herald_consumer_receive_timeout(k, 1000, &m, &err));
    if (!m) continue;
    OK(herald_message_get_body_kind(m, &kind, &err));
    CHECK(kind == body);
    OK(herald_message_get_int_property(m, "kind", &i32, &err));
    CHECK(i32 == (int32_t)body);
    OK(herald_message_get_double_property(m, "weight", &dbl, &err));
    CHECK(dbl == 0.5 * body);
    switch (body) {
      case HERALD_BODY_KIND_TEXT:
        OK(herald_message_get_text(m, buf, sizeof buf, NULL, &err));
        CHECK_STR(buf, "text body");
        break;
      case HERALD_BODY_KIND_BYTES:
        OK(herald_message_get_bytes(m, &data, &len, &err));
        CHECK(len == 3 && memcmp(data, "\0\1\2", 3) == 0);
        break;
      case HERALD_BODY_KIND_MAP:
        OK(herald_message_map_get_long(m, "big", &i64, &err));
        CHECK(i64 == 1LL << 50);
        break;
      case HERALD_BODY_KIND_STREAM:
        OK(herald_message_stream_read_string(m, buf, sizeof buf, NULL, &err));
        CHECK_STR(buf, "s");
        OK(herald_message_stream_read_int(m, &i32, &err));
        CHECK(i32 == 9);
        break;
      case HERALD_BODY_KIND_OBJECT:
        OK(herald_message_get_object(m, &data, &len, &err));
        CHECK(len == 3 && memcmp(data, "obj", 3) == 0);
        break;
    }
    /* A received message may be changed locally and sent on. */
    OK(herald_message_set_string_property(m, "forwarded", "yes", &err));
    herald_message_free(m);
    m = NULL;
  }

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

/* ---- closed handles ---- */

static void test_closed_handles(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL, *s2 = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL, *k2 = NULL;
  herald_browser *br = NULL;
  herald_destination *q = queue("closed");
  herald_message *m = text_message("x"), *got = NULL;
  uint32_t u = 0;

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));

  /* A closed consumer. */
  OK(herald_consumer_close(k, &err));
  OK(herald_consumer_close(k, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_consumer_receive_no_wait(k, &got, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_consumer_receive_timeout(k, 10, &got, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_consumer_receive(k, &got, &err));
  CHECK(got == NULL);

  /* A closed session closes what it made. */
  OK(herald_session_create_consumer(s, q, NULL, false, &k2, &err));
  OK(herald_session_create_browser(s, q, NULL, &br, &err));
  OK(herald_session_close(s, &err));
  OK(herald_session_close(s, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_producer_send(p, m, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_consumer_receive_no_wait(k2, &got, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_create_consumer(s, q, NULL, false, &k, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_create_producer(s, q, &p, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_create_browser(s, q, NULL, &br, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_get_ack_mode(s, &u, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_unsubscribe(s, "x", &err));
  herald_browser_free(br);

  /* Freeing the connection leaves the session handle valid but closed. */
  OK(herald_connection_create_session(c, HERALD_ACK_MODE_TRANSACTED, &s2, &err));
  herald_connection_free(c);
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_commit(s2, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_rollback(s2, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_session_recover(s2, &err));

  herald_message_free(m);
  herald_consumer_free(k);
  herald_consumer_free(k2);
  herald_producer_free(p);
  herald_session_free(s);
  herald_session_free(s2);
  herald_destination_free(q);
}

/* Closing a consumer from another thread ends a receive that waits forever. */
struct closer {
  herald_consumer *consumer;
};

static void *close_later(void *arg) {
  struct closer *cl = arg;
  sleep_ms(100);
  herald_consumer_close(cl->consumer, NULL);
  return NULL;
}

static void test_close_ends_blocked_receive(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("blocked");
  herald_message *m = NULL;
  pthread_t thread;

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  struct closer cl = {k};
  CHECK(pthread_create(&thread, NULL, close_later, &cl) == 0);
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_consumer_receive(k, &m, &err));
  CHECK(m == NULL);
  pthread_join(thread, NULL);

  herald_consumer_free(k);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

/* A connection that does not fail: the wait times out, or ends when the owner closes it. */
struct connection_closer {
  herald_connection *conn;
};

static void *close_connection_later(void *arg) {
  struct connection_closer *cl = arg;
  sleep_ms(100);
  herald_connection_close(cl->conn, NULL);
  return NULL;
}

static void test_wait_for_failure(void) {
  herald_connection *c = connect_to(NULL);
  herald_error *failure = NULL;
  pthread_t thread;

  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_connection_wait_for_failure(NULL, 0, &failure, &err));
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_connection_wait_for_failure(c, 0, NULL, &err));
  EXPECT(HERALD_STATUS_NO_VALUE, herald_connection_wait_for_failure(c, 20, &failure, &err));
  CHECK(failure == NULL);
  /* Closing from another thread ends a wait without limit; closing is not a failure. */
  struct connection_closer cl = {c};
  CHECK(pthread_create(&thread, NULL, close_connection_later, &cl) == 0);
  EXPECT(HERALD_STATUS_NO_VALUE, herald_connection_wait_for_failure(c, UINT64_MAX, &failure, &err));
  CHECK(failure == NULL);
  pthread_join(thread, NULL);
  EXPECT(HERALD_STATUS_NO_VALUE, herald_connection_wait_for_failure(c, UINT64_MAX, &failure, &err));
  herald_connection_free(c);
}

/* Stopping a connection pauses delivery. */
static void test_stop_and_start(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("paused");

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  OK(herald_connection_stop(c, &err));
  send_text(p, "held");
  expect_nothing(k, 50);
  OK(herald_connection_start(c, &err));
  receive_text(k, "held");

  herald_consumer_free(k);
  herald_producer_free(p);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

/* A wakeup hook lets an event loop wait on a pipe instead of blocking in a receive. */
struct wake_state {
  atomic_int wakeups;
  atomic_int finalized;
  int pipe[2];
};

static void on_wakeup(void *user_data) {
  struct wake_state *w = user_data;
  atomic_fetch_add(&w->wakeups, 1);
  char byte = 1;
  if (write(w->pipe[1], &byte, 1) < 0) { /* the pipe is full: already signalled */
  }
}

static void on_finalize(void *user_data) {
  struct wake_state *w = user_data;
  atomic_fetch_add(&w->finalized, 1);
}

/* The finalizer runs once no callback is in progress; over tcp:// the connection's reader
 * thread may be inside one, so give it a moment before reading the count. */
static int finalized_count(struct wake_state *w) {
  for (int i = 0; i < 200 && atomic_load(&w->finalized) == 0; i++) sleep_ms(10);
  return atomic_load(&w->finalized);
}

static void test_wakeup_hooks(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_consumer *k = NULL, *closed = NULL;
  herald_destination *q = queue("woken");
  herald_message *m = NULL;
  struct wake_state w = {0}, again = {0}, refused = {0}, orphan = {0};
  CHECK(pipe(w.pipe) == 0);

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_producer(s, q, &p, &err));
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  OK(herald_consumer_set_wakeup(k, on_wakeup, &w, on_finalize, &err));

  send_text(p, "ping");
  struct pollfd pfd = {w.pipe[0], POLLIN, 0};
  CHECK(poll(&pfd, 1, 2000) == 1);
  CHECK(atomic_load(&w.wakeups) >= 1);
  OK(herald_consumer_receive_no_wait(k, &m, &err));
  herald_message_free(m);
  m = NULL;
  EXPECT(HERALD_STATUS_NO_MESSAGE, herald_consumer_receive_no_wait(k, &m, &err));

  /* Clearing the hook finalizes it, and it is not called any more. */
  CHECK(atomic_load(&w.finalized) == 0);
  OK(herald_consumer_set_wakeup(k, NULL, NULL, NULL, &err));
  CHECK(finalized_count(&w) == 1);
  int before = atomic_load(&w.wakeups);
  send_text(p, "quiet");
  receive_text(k, "quiet");
  CHECK(atomic_load(&w.wakeups) == before);

  /* Freeing the consumer finalizes its hook. */
  OK(herald_consumer_set_wakeup(k, on_wakeup, &again, on_finalize, &err));
  herald_consumer_free(k);
  CHECK(finalized_count(&again) == 1);

  /* A refused call finalizes too. */
  OK(herald_session_create_consumer(s, q, NULL, false, &closed, &err));
  OK(herald_consumer_close(closed, &err));
  EXPECT(HERALD_STATUS_ILLEGAL_STATE, herald_consumer_set_wakeup(closed, on_wakeup, &refused, on_finalize, &err));
  CHECK(finalized_count(&refused) == 1);
  EXPECT(HERALD_STATUS_NULL_ARGUMENT, herald_consumer_set_wakeup(NULL, on_wakeup, &orphan, on_finalize, &err));
  CHECK(finalized_count(&orphan) == 1);
  CHECK(atomic_load(&refused.wakeups) == 0 && atomic_load(&orphan.wakeups) == 0);

  close(w.pipe[0]);
  close(w.pipe[1]);
  herald_consumer_free(closed);
  herald_producer_free(p);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

/* One connection serves several threads, each with its own session. */
struct sender {
  herald_connection *connection;
  herald_destination *queue;
  int id;
  int sent;
};

static void *send_from_thread(void *arg) {
  struct sender *t = arg;
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_message *m = NULL;
  if (herald_connection_create_session(t->connection, HERALD_ACK_MODE_AUTO, &s, NULL) != HERALD_STATUS_OK) return NULL;
  if (herald_session_create_producer(s, t->queue, &p, NULL) == HERALD_STATUS_OK &&
      herald_message_new(HERALD_BODY_KIND_MAP, &m, NULL) == HERALD_STATUS_OK) {
    for (int i = 0; i < 500; i++) {
      if (herald_message_map_set_int(m, "sender", t->id, NULL) == HERALD_STATUS_OK &&
          herald_message_map_set_int(m, "seq", i, NULL) == HERALD_STATUS_OK &&
          herald_producer_send(p, m, NULL) == HERALD_STATUS_OK) {
        t->sent++;
      }
    }
  }
  herald_message_free(m);
  herald_producer_free(p);
  herald_session_free(s);
  return NULL;
}

static void test_threads_share_a_connection(void) {
  herald_connection *c = connect_to(NULL);
  herald_session *s = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = queue("threads");
  struct sender senders[3];
  pthread_t threads[3];

  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  for (int i = 0; i < 3; i++) {
    senders[i] = (struct sender){c, q, i, 0};
    CHECK(pthread_create(&threads[i], NULL, send_from_thread, &senders[i]) == 0);
  }
  /* Each sender's messages arrive complete and in its order. */
  int next[3] = {0, 0, 0}, in_order = 1, received = 0;
  for (; received < 1500; received++) {
    herald_message *m = NULL;
    if (herald_consumer_receive_timeout(k, 5000, &m, NULL) != HERALD_STATUS_OK) break;
    int32_t sender = -1, seq = -1;
    herald_message_map_get_int(m, "sender", &sender, NULL);
    herald_message_map_get_int(m, "seq", &seq, NULL);
    if (sender < 0 || sender > 2 || seq != next[sender]++) in_order = 0;
    herald_message_free(m);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(threads[i], NULL);
    CHECK(senders[i].sent == 500);
  }
  CHECK(received == 1500);
  CHECK(in_order);

  herald_consumer_free(k);
  herald_session_free(s);
  herald_destination_free(q);
  herald_connection_free(c);
}

int main(int argc, char **argv) {
  if (argc > 1) url = argv[1];
  snprintf(run_id, sizeof run_id, "%ld-%ld", (long)getpid(), (long)time(NULL));

  test_status_and_error_objects();
  test_null_arguments();
  test_destinations();
  test_connections();
  test_send_and_receive();
  test_producer_options();
  test_priority_expiry_and_delay();
  test_selectors();
  test_transactions();
  test_client_acknowledge_and_recover();
  test_topics();
  test_durable_and_shared_subscriptions();
  test_browsers();
  test_temporary_destinations();
  test_text_and_bytes_bodies();
  test_map_bodies();
  test_stream_bodies();
  test_properties();
  test_bodies_through_the_broker();
  test_closed_handles();
  test_close_ends_blocked_receive();
  test_wait_for_failure();
  test_stop_and_start();
  test_wakeup_hooks();
  test_threads_share_a_connection();

  return report("api");
}
