// expect: conversion from .*int.* to non-scalar type .*std::string
#include <string>

#include "troupe/gen_server.hpp"

struct get {};
struct store : troupe::gen_server<store> {
  int handle_call(get) { return 1; }
};

void f(troupe::server<store> s) { std::string v = troupe::call(s, get{}); }
