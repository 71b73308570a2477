// herald.h compiles as C++ (extern "C", typed enums), and may be included twice.
#include "herald.h"
#include "herald.h"

#include <cstdio>
#include <cstring>

int main() {
  herald_message *msg = nullptr;
  herald_status s = herald_message_new(HERALD_BODY_KIND_TEXT, &msg, nullptr);
  if (s != HERALD_STATUS_OK) return 1;
  s = herald_message_set_text(msg, "from C++", nullptr);
  char buf[32];
  size_t len = 0;
  s = herald_message_get_text(msg, buf, sizeof buf, &len, nullptr);
  herald_message_free(msg);
  bool ok = s == HERALD_STATUS_OK && std::strcmp(buf, "from C++") == 0;
  std::printf("cpp_include: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
