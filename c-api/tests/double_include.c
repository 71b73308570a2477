/* herald.h may be included twice, and compiles cleanly as strict C11 (see CMakeLists.txt). */
#include "herald.h"
#include "herald.h"

#include <stdio.h>

int main(void) {
  herald_status s = HERALD_STATUS_OK;
  uint32_t mode = HERALD_ACK_MODE_CLIENT;
  printf("double_include: %s, ack mode %u\n", herald_status_string(s), (unsigned)mode);
  return s == 0 ? 0 : 1;
}
