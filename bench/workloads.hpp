#pragma once
// The workloads of troupe-bench. Each starts its own runtime, runs, and prints
// its RESULT lines.

#include "harness.hpp"

namespace bench {

void spawn_blocked(const args& a);
void spawn_exit(const args& a);
void ring(const args& a);
void pingpong(const args& a);
void skynet(const args& a);
void fanin(const args& a);
void link_exit(const args& a);
void monitor_down(const args& a);
void throw_catch(const args& a);
void genserver_call(const args& a);
void genserver_idle(const args& a);
void supervisor_restart(const args& a);
void fairness(const args& a);
void instrument_cost(const args& a);
// TCP (net_workloads.cpp): troupe's servers in a process of their own against troupe-loadgen.
void tcp_echo(const args& a);
void tcp_hold(const args& a);
void chat(const args& a);

}  // namespace bench
