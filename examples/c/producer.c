/*
 * producer: sends --count bytes messages of --size bytes to a queue and prints the rate.
 *
 *   producer --url tcp://127.0.0.1:61616 --count 100000 --size 100
 *   producer --url vm://bench --count 100000        (a broker inside this process)
 *
 * Build: cc producer.c $(pkg-config --cflags --libs herald) -o producer
 */
#include "common.h"

int main(int argc, char **argv) {
  struct options o = parse_options(argc, argv, "");
  herald_error *err = NULL;
  herald_connection *connection = NULL;
  herald_session *session = NULL;

  check(herald_connection_open(o.url, NULL, NULL, NULL, &connection, &err), err, "herald_connection_open");
  check(herald_connection_create_session(connection, HERALD_ACK_MODE_AUTO, &session, &err), err,
        "herald_connection_create_session");

  double seconds = send_messages(session, &o);
  print_rate("sent", o.count, o.size, seconds);

  herald_session_free(session);
  herald_connection_free(connection);
  return 0;
}
