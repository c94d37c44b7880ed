// expect: the server class has no handle_call for this request type
#include "troupe/gen_server.hpp"

struct get {};
struct put {};
struct store : troupe::gen_server<store> {
  int handle_call(get) { return 1; }
};

void f(troupe::server<store> s) { troupe::call(s, put{}); }
