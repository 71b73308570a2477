/*
 * The C side of the cross-language exchange: a fixed set of messages (every body kind,
 * every property type, the settable headers) that a peer in another language sends or
 * checks the same way.
 *
 *   interop send URL QUEUE       sends the set
 *   interop receive URL QUEUE    receives the set and checks every field
 *   interop roundtrip URL QUEUE  both, in this process (vm:// works)
 *
 * The set, in order (all to QUEUE, priority 7, JMSCorrelationID "interop-N" for message
 * N = 1..6, JMSType "interop", JMSReplyTo queue "interop.replies"), each with the
 * properties pBool=true, pByte=-7, pShort=-300, pInt=123456, pLong=2^40, pFloat=1.5,
 * pDouble=-2.25, pString="sträng" and pIndex=N (int):
 *   1. TextMessage  "héllo, interop ✓"
 *   2. BytesMessage the 256 bytes 0..255
 *   3. MapMessage   bool=true, byte=-8, short=-16, char='é' (U+00E9), int=32, long=2^40,
 *                   float=0.5, double=0.25, string="map", bytes={1,2,3}
 *   4. StreamMessage the same ten values in that order
 *   5. ObjectMessage the Java serialization of the String "interop"
 *   6. Message      (no body)
 * Prints "interop: N passed, M failed".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char TEXT[] = "h\xc3\xa9llo, interop \xe2\x9c\x93";
static const char PSTRING[] = "str\xc3\xa4ng";
/* java.io.ObjectOutputStream of the String "interop": magic, version, TC_STRING, length. */
static const uint8_t OBJECT[] = {0xac, 0xed, 0x00, 0x05, 0x74, 0x00, 0x07, 'i', 'n', 't', 'e', 'r', 'o', 'p'};
static const uint8_t SMALL_BYTES[] = {1, 2, 3};
#define LONG_VALUE (1LL << 40)

static void fill(herald_message *m, int index, herald_destination *reply_to) {
  char id[32];
  snprintf(id, sizeof id, "interop-%d", index);
  OK(herald_message_set_correlation_id(m, id, &err));
  OK(herald_message_set_type(m, "interop", &err));
  OK(herald_message_set_reply_to(m, reply_to, &err));
  OK(herald_message_set_bool_property(m, "pBool", true, &err));
  OK(herald_message_set_byte_property(m, "pByte", -7, &err));
  OK(herald_message_set_short_property(m, "pShort", -300, &err));
  OK(herald_message_set_int_property(m, "pInt", 123456, &err));
  OK(herald_message_set_long_property(m, "pLong", LONG_VALUE, &err));
  OK(herald_message_set_float_property(m, "pFloat", 1.5f, &err));
  OK(herald_message_set_double_property(m, "pDouble", -2.25, &err));
  OK(herald_message_set_string_property(m, "pString", PSTRING, &err));
  OK(herald_message_set_int_property(m, "pIndex", index, &err));
}

static void send_set(const char *url, const char *queue_name) {
  herald_connection *c = NULL;
  herald_session *s = NULL;
  herald_producer *p = NULL;
  herald_destination *q = NULL, *replies = NULL;
  OK(herald_connection_open(url, NULL, NULL, NULL, &c, &err));
  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_destination_queue(queue_name, &q, &err));
  OK(herald_destination_queue("interop.replies", &replies, &err));
  OK(herald_session_create_producer(s, q, &p, &err));
  OK(herald_producer_set_priority(p, 7, &err));

  uint32_t kinds[] = {HERALD_BODY_KIND_TEXT, HERALD_BODY_KIND_BYTES, HERALD_BODY_KIND_MAP,
                      HERALD_BODY_KIND_STREAM, HERALD_BODY_KIND_OBJECT, HERALD_BODY_KIND_EMPTY};
  for (int i = 0; i < 6; i++) {
    herald_message *m = NULL;
    OK(herald_message_new(kinds[i], &m, &err));
    if (!m) continue;
    fill(m, i + 1, replies);
    if (kinds[i] == HERALD_BODY_KIND_TEXT) OK(herald_message_set_text(m, TEXT, &err));
    if (kinds[i] == HERALD_BODY_KIND_BYTES) {
      uint8_t all[256];
      for (int b = 0; b < 256; b++) all[b] = (uint8_t)b;
      OK(herald_message_set_bytes(m, all, sizeof all, &err));
    }
    if (kinds[i] == HERALD_BODY_KIND_MAP) {
      OK(herald_message_map_set_bool(m, "bool", true, &err));
      OK(herald_message_map_set_byte(m, "byte", -8, &err));
      OK(herald_message_map_set_short(m, "short", -16, &err));
      OK(herald_message_map_set_char(m, "char", 0xe9, &err));
      OK(herald_message_map_set_int(m, "int", 32, &err));
      OK(herald_message_map_set_long(m, "long", LONG_VALUE, &err));
      OK(herald_message_map_set_float(m, "float", 0.5f, &err));
      OK(herald_message_map_set_double(m, "double", 0.25, &err));
      OK(herald_message_map_set_string(m, "string", "map", &err));
      OK(herald_message_map_set_bytes(m, "bytes", SMALL_BYTES, sizeof SMALL_BYTES, &err));
    }
    if (kinds[i] == HERALD_BODY_KIND_STREAM) {
      OK(herald_message_stream_write_bool(m, true, &err));
      OK(herald_message_stream_write_byte(m, -8, &err));
      OK(herald_message_stream_write_short(m, -16, &err));
      OK(herald_message_stream_write_char(m, 0xe9, &err));
      OK(herald_message_stream_write_int(m, 32, &err));
      OK(herald_message_stream_write_long(m, LONG_VALUE, &err));
      OK(herald_message_stream_write_float(m, 0.5f, &err));
      OK(herald_message_stream_write_double(m, 0.25, &err));
      OK(herald_message_stream_write_string(m, "map", &err));
      OK(herald_message_stream_write_bytes(m, SMALL_BYTES, sizeof SMALL_BYTES, &err));
    }
    if (kinds[i] == HERALD_BODY_KIND_OBJECT) OK(herald_message_set_object(m, OBJECT, sizeof OBJECT, &err));
    OK(herald_producer_send(p, m, &err));
    herald_message_free(m);
  }

  herald_producer_free(p);
  herald_destination_free(q);
  herald_destination_free(replies);
  herald_session_free(s);
  herald_connection_free(c);
}

static void check_common(herald_message *m, int index) {
  char buf[64], want[32];
  bool b = false;
  int8_t i8 = 0;
  int16_t i16 = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f = 0;
  double d = 0;
  uint32_t u = 0;
  herald_destination *reply_to = NULL;

  snprintf(want, sizeof want, "interop-%d", index);
  OK(herald_message_get_correlation_id(m, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, want);
  OK(herald_message_get_type(m, buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, "interop");
  OK(herald_message_get_reply_to(m, &reply_to, &err));
  if (reply_to) {
    OK(herald_destination_to_string(reply_to, buf, sizeof buf, NULL, &err));
    CHECK_STR(buf, "queue://interop.replies");
  }
  herald_destination_free(reply_to);
  OK(herald_message_get_priority(m, &u, &err));
  CHECK(u == 7);
  OK(herald_message_get_message_id(m, buf, sizeof buf, NULL, &err));
  CHECK(strncmp(buf, "ID:", 3) == 0);
  OK(herald_message_get_bool_property(m, "pBool", &b, &err));
  CHECK(b);
  OK(herald_message_get_byte_property(m, "pByte", &i8, &err));
  CHECK(i8 == -7);
  OK(herald_message_get_short_property(m, "pShort", &i16, &err));
  CHECK(i16 == -300);
  OK(herald_message_get_int_property(m, "pInt", &i32, &err));
  CHECK(i32 == 123456);
  OK(herald_message_get_long_property(m, "pLong", &i64, &err));
  CHECK(i64 == LONG_VALUE);
  OK(herald_message_get_float_property(m, "pFloat", &f, &err));
  CHECK(f == 1.5f);
  OK(herald_message_get_double_property(m, "pDouble", &d, &err));
  CHECK(d == -2.25);
  OK(herald_message_get_string_property(m, "pString", buf, sizeof buf, NULL, &err));
  CHECK_STR(buf, PSTRING);
  OK(herald_message_get_int_property(m, "pIndex", &i32, &err));
  CHECK(i32 == index);
}

static void receive_set(const char *url, const char *queue_name) {
  herald_connection *c = NULL;
  herald_session *s = NULL;
  herald_consumer *k = NULL;
  herald_destination *q = NULL;
  OK(herald_connection_open(url, NULL, NULL, NULL, &c, &err));
  OK(herald_connection_create_session(c, HERALD_ACK_MODE_AUTO, &s, &err));
  OK(herald_destination_queue(queue_name, &q, &err));
  OK(herald_session_create_consumer(s, q, NULL, false, &k, &err));
  OK(herald_connection_start(c, &err));

  uint32_t kinds[] = {HERALD_BODY_KIND_TEXT, HERALD_BODY_KIND_BYTES, HERALD_BODY_KIND_MAP,
                      HERALD_BODY_KIND_STREAM, HERALD_BODY_KIND_OBJECT, HERALD_BODY_KIND_EMPTY};
  for (int i = 0; i < 6; i++) {
    herald_message *m = NULL;
    OK(herald_consumer_receive_timeout(k, 10000, &m, &err));
    if (!m) break;
    uint32_t kind = 99;
    OK(herald_message_get_body_kind(m, &kind, &err));
    CHECK(kind == kinds[i]);
    check_common(m, i + 1);
    char buf[64];
    const uint8_t *data = NULL;
    size_t len = 0;
    bool b = false;
    int8_t i8 = 0;
    int16_t i16 = 0;
    uint32_t ch = 0;
    int32_t i32 = 0;
    int64_t i64 = 0;
    float f = 0;
    double d = 0;
    switch (kind) {
      case HERALD_BODY_KIND_TEXT:
        OK(herald_message_get_text(m, buf, sizeof buf, NULL, &err));
        CHECK_STR(buf, TEXT);
        break;
      case HERALD_BODY_KIND_BYTES:
        OK(herald_message_get_bytes(m, &data, &len, &err));
        CHECK(len == 256);
        for (size_t n = 0; n < len && n < 256; n++) CHECK(data[n] == n);
        break;
      case HERALD_BODY_KIND_MAP:
        OK(herald_message_map_get_bool(m, "bool", &b, &err));
        CHECK(b);
        OK(herald_message_map_get_byte(m, "byte", &i8, &err));
        CHECK(i8 == -8);
        OK(herald_message_map_get_short(m, "short", &i16, &err));
        CHECK(i16 == -16);
        OK(herald_message_map_get_char(m, "char", &ch, &err));
        CHECK(ch == 0xe9);
        OK(herald_message_map_get_int(m, "int", &i32, &err));
        CHECK(i32 == 32);
        OK(herald_message_map_get_long(m, "long", &i64, &err));
        CHECK(i64 == LONG_VALUE);
        OK(herald_message_map_get_float(m, "float", &f, &err));
        CHECK(f == 0.5f);
        OK(herald_message_map_get_double(m, "double", &d, &err));
        CHECK(d == 0.25);
        OK(herald_message_map_get_string(m, "string", buf, sizeof buf, NULL, &err));
        CHECK_STR(buf, "map");
        OK(herald_message_map_get_bytes(m, "bytes", &data, &len, &err));
        CHECK(len == 3 && memcmp(data, SMALL_BYTES, 3) == 0);
        break;
      case HERALD_BODY_KIND_STREAM:
        OK(herald_message_stream_read_bool(m, &b, &err));
        CHECK(b);
        OK(herald_message_stream_read_byte(m, &i8, &err));
        CHECK(i8 == -8);
        OK(herald_message_stream_read_short(m, &i16, &err));
        CHECK(i16 == -16);
        OK(herald_message_stream_read_char(m, &ch, &err));
        CHECK(ch == 0xe9);
        OK(herald_message_stream_read_int(m, &i32, &err));
        CHECK(i32 == 32);
        OK(herald_message_stream_read_long(m, &i64, &err));
        CHECK(i64 == LONG_VALUE);
        OK(herald_message_stream_read_float(m, &f, &err));
        CHECK(f == 0.5f);
        OK(herald_message_stream_read_double(m, &d, &err));
        CHECK(d == 0.25);
        OK(herald_message_stream_read_string(m, buf, sizeof buf, NULL, &err));
        CHECK_STR(buf, "map");
        OK(herald_message_stream_read_bytes(m, &data, &len, &err));
        CHECK(len == 3 && memcmp(data, SMALL_BYTES, 3) == 0);
        EXPECT(HERALD_STATUS_END_OF_STREAM, herald_message_stream_read_bool(m, &b, &err));
        break;
      case HERALD_BODY_KIND_OBJECT:
        OK(herald_message_get_object(m, &data, &len, &err));
        CHECK(len == sizeof OBJECT && memcmp(data, OBJECT, len) == 0);
        break;
      default:
        break;
    }
    herald_message_free(m);
  }

  herald_consumer_free(k);
  herald_destination_free(q);
  herald_session_free(s);
  herald_connection_free(c);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s send|receive|roundtrip URL QUEUE\n", argv[0]);
    return 2;
  }
  const char *mode = argv[1], *url = argv[2], *queue = argv[3];
  if (strcmp(mode, "send") == 0 || strcmp(mode, "roundtrip") == 0) send_set(url, queue);
  if (strcmp(mode, "receive") == 0 || strcmp(mode, "roundtrip") == 0) receive_set(url, queue);
  return report("interop");
}
