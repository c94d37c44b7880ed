// expect: the server class has no handle_cast for this message type
#include "troupe/gen_server.hpp"

struct add {};
struct store : troupe::gen_server<store> {
  void handle_cast(add) {}
};

void f(troupe::server<store> s) { troupe::cast(s, 42); }
