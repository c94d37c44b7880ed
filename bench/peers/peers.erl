%% Peer benchmarks for troupe: the same workloads as the C++ runtime, in
%% plain Erlang/OTP. Compiled with erlc and run by run.sh as
%%   erl -noshell +P 5000000 [+S N:N] -pa DIR -run peers main WORKLOAD key=value...
%% Each run prints one line:
%%   PEER lang=erlang workload=NAME key=value ...
%% Timings use erlang:monotonic_time/1 and exclude VM start-up and set-up
%% that is not part of the measured operation (e.g. building the ring).
%% genserver_call and supervisor_restart use the OTP behaviour modules in
%% peers_counter.erl, peers_crasher.erl and peers_sup.erl (run.sh compiles
%% every .erl file here).
-module(peers).
-export([main/1]).

main([Workload | Args]) ->
    Opts = [parse_kv(A) || A <- Args],
    %% Run in a fresh process so the benchmark starts with a small, empty
    %% heap and mailbox, and settings like trap_exit stay local to it.
    {_, Ref} = spawn_monitor(fun() -> run(Workload, Opts) end),
    receive
        {'DOWN', Ref, process, _, normal} -> halt(0);
        {'DOWN', Ref, process, _, Reason} ->
            io:format(standard_error, "peers: ~s failed: ~p~n", [Workload, Reason]),
            halt(1)
    end;
main([]) ->
    io:format(standard_error, "usage: peers WORKLOAD [key=value...]~n", []),
    halt(2).

parse_kv(A) ->
    [K, V] = string:split(A, "="),
    {list_to_atom(K), list_to_integer(V)}.

opt(Key, Opts, Default) -> proplists:get_value(Key, lists:reverse(Opts), Default).

%% ---------------------------------------------------------------- workloads

run("spawn", O) ->
    N = opt(n, O, 1000000),
    Self = self(),
    PageSize = list_to_integer(string:trim(os:cmd("getconf PAGESIZE"))),
    Procs0 = erlang:system_info(process_count),
    Rss0 = rss(PageSize),
    T0 = now_ns(),
    %% Each child reports `ready` just before it blocks in receive; the parent
    %% collecting all n reports marks "all n spawned and blocked".
    Pids = spawn_n(N, fun() -> Self ! ready, receive stop -> ok end end, []),
    wait_n(N, ready),
    T1 = now_ns(),
    Rss1 = rss(PageSize),
    lists:foreach(fun(P) -> P ! stop end, Pids),
    wait_procs(Procs0),
    T2 = now_ns(),
    report("spawn", [{n, N}],
           [{spawn_seconds, secs(T1 - T0)},
            {bytes_per_process, (Rss1 - Rss0) div N},
            {teardown_seconds, secs(T2 - T1)}]);

run("spawn_exit", O) ->
    N = opt(n, O, 1000000),
    Self = self(),
    T0 = now_ns(),
    spawn_n(N, fun() -> Self ! done end, []),
    wait_n(N, done),
    T = now_ns() - T0,
    report("spawn_exit", [{n, N}], [{seconds, secs(T)}, {per_sec, rate(N, T)}]);

run("ring", O) ->
    N = opt(n, O, 10000), Rounds = opt(rounds, O, 100), Tokens = opt(tokens, O, 1),
    Self = self(),
    Pids = spawn_n(N, fun() -> receive {next, Next} -> ring_node(Next, Self) end end, []),
    lists:zipwith(fun(P, Next) -> P ! {next, Next} end, Pids, tl(Pids) ++ [hd(Pids)]),
    Ring = list_to_tuple(Pids),
    T0 = now_ns(),
    %% Tokens start evenly spaced; a token is an integer counting the hops
    %% it still has to make (n * rounds in total).
    [element(I * N div Tokens + 1, Ring) ! N * Rounds || I <- lists:seq(0, Tokens - 1)],
    wait_n(Tokens, token_done),
    T = now_ns() - T0,
    lists:foreach(fun(P) -> P ! stop end, Pids),
    report("ring", [{n, N}, {rounds, Rounds}, {tokens, Tokens}],
           [{msgs_per_sec, rate(N * Rounds * Tokens, T)}, {seconds, secs(T)}]);

run("pingpong", O) ->
    N = opt(n, O, 1000000),
    Self = self(),
    Pong = spawn(fun() -> pong(Self) end),
    T0 = now_ns(),
    ping(N, Pong),
    T = now_ns() - T0,
    Pong ! stop,
    report("pingpong", [{n, N}], [{ns_per_roundtrip, T / N}]);

run("skynet", O) ->
    N = opt(n, O, 1000000),
    Self = self(),
    T0 = now_ns(),
    spawn(fun() -> skynet(Self, 0, N, 10) end),
    Sum = receive S -> S end,
    T = now_ns() - T0,
    report("skynet", [{n, N}], [{sum, Sum}, {seconds, secs(T)}]);

run("fanin", O) ->
    Senders = opt(senders, O, 1000), Msgs = opt(msgs, O, 1000),
    Self = self(),
    T0 = now_ns(),
    spawn_n(Senders, fun() -> send_n(Msgs, Self) end, []),
    wait_n(Senders * Msgs, msg),
    T = now_ns() - T0,
    report("fanin", [{senders, Senders}, {msgs, Msgs}],
           [{msgs_per_sec, rate(Senders * Msgs, T)}, {seconds, secs(T)}]);

run("link_exit", O) ->
    N = opt(n, O, 100000),
    process_flag(trap_exit, true),
    T0 = now_ns(),
    link_loop(N),
    T = now_ns() - T0,
    report("link_exit", [{n, N}], [{per_sec, rate(N, T)}, {seconds, secs(T)}]);

run("monitor_down", O) ->
    N = opt(n, O, 100000),
    T0 = now_ns(),
    monitor_loop(N),
    T = now_ns() - T0,
    report("monitor_down", [{n, N}], [{per_sec, rate(N, T)}, {seconds, secs(T)}]);

run("throw_catch", O) ->
    %% traces=0: throw/catch of a throw (no stack term is built);
    %% traces=1: error/1 caught as Class:Reason:Stack, the stack term built
    %% (backtrace_depth set to trace_depth, as troupe records that many frames).
    N = opt(n, O, 100000), Depth = opt(depth, O, 10),
    Traces = opt(traces, O, 1), TraceDepth = opt(trace_depth, O, 32),
    Traces =:= 1 andalso erlang:system_flag(backtrace_depth, TraceDepth),
    Loop = case Traces of
               1 -> fun error_loop/2;
               _ -> fun throw_loop/2
           end,
    Loop(N div 100 + 1, Depth),  % warm-up
    T0 = now_ns(),
    Loop(N, Depth),
    T = now_ns() - T0,
    report("throw_catch", [{n, N}, {depth, Depth}, {traces, Traces},
                           {trace_depth, case Traces of 1 -> TraceDepth; _ -> 0 end}],
           [{seconds, secs(T)}, {ns_per_throw, T / N}]);

run("genserver_idle", O) ->
    %% n idle peers_counter gen_servers under a simple_one_for_one supervisor:
    %% the time to start them and the RSS delta per server.
    N = opt(n, O, 1000000),
    PageSize = list_to_integer(string:trim(os:cmd("getconf PAGESIZE"))),
    {ok, Sup} = peers_idle_sup:start_link(),
    Rss0 = rss(PageSize),
    T0 = now_ns(),
    start_idle(N, Sup),
    T = now_ns() - T0,
    Rss1 = rss(PageSize),
    unlink(Sup),
    exit(Sup, shutdown),
    report("genserver_idle", [{n, N}],
           [{start_seconds, secs(T)}, {bytes_per_server, (Rss1 - Rss0) div N}]);

run("genserver_call", O) ->
    %% clients processes each make n gen_server:call(Server, get) calls to one
    %% peers_counter server. With backlog=B each client first sends itself B
    %% unrelated messages, which stay queued in its mailbox during all its
    %% calls. (gen_server:call's receive of the reply skips them, as it
    %% matches a reference made just before; what they do cost on OTP 25 is
    %% garbage collection, as the default message_queue_data is on_heap.)
    %% The time covers the calls only: from `go` to the last client's
    %% `calls_done`.
    N = opt(n, O, 1000000), Clients = opt(clients, O, 1), Backlog = opt(backlog, O, 0),
    {ok, Server} = peers_counter:start_link(0),
    Self = self(),
    spawn_n(Clients, fun() -> call_client(Self, Server, N, Backlog) end, [], link),
    Ready = [receive {ready, P, R} -> {P, R} end || _ <- lists:seq(1, Clients)],
    T0 = now_ns(),
    [P ! {go, R} || {P, R} <- Ready],
    wait_n(Clients, calls_done),
    T = now_ns() - T0,
    ok = gen_server:stop(Server),
    report("genserver_call", [{n, N}, {clients, Clients}, {backlog, Backlog}],
           [{calls_per_sec, rate(N * Clients, T)}, {seconds, secs(T)}]);

run("supervisor_restart", O) ->
    %% A one_for_one peers_sup with one peers_crasher child. n times: monitor
    %% the current child (from supervisor:which_children/1), send it a cast on
    %% which it exits with reason `crash`, wait for its DOWN, then ask the
    %% supervisor until it lists a new child pid (as troupe-bench does). Crash and supervisor reports are off (logger level none).
    %% OTP's supervisor keeps the time of every restart within the period
    %% (here the current and the previous second) in a list that it walks
    %% on each restart, so the rate falls as n grows until the list's length
    %% levels off at one to two seconds' worth of restarts.
    N = opt(n, O, 20000),
    ok = logger:set_primary_config(level, none),
    {ok, Sup} = peers_sup:start_link(),
    Child0 = new_child(Sup, undefined),
    T0 = now_ns(),
    restart_loop(N, Sup, Child0),
    T = now_ns() - T0,
    ok = gen_server:stop(Sup),
    report("supervisor_restart", [{n, N}],
           [{restarts_per_sec, rate(N, T)}, {seconds, secs(T)}]);

run("fairness", O) ->
    %% hogs processes spin in hog/1 (never blocking, never receiving), and
    %% after 20 ms for them to start, a ping-pong pair (this process and one
    %% other) makes n round trips, each one timed on its own. The hogs are
    %% killed afterwards. Reports the median, 99th percentile (nearest rank)
    %% and maximum round-trip time in ns.
    N = opt(n, O, 20000), Hogs = opt(hogs, O, 4),
    Self = self(),
    HogPids = spawn_n(Hogs, fun() -> hog(1) end, []),
    Pong = spawn(fun() -> pong(Self) end),
    receive after 20 -> ok end,
    Rtts = list_to_tuple(lists:sort(timed_pings(N, Pong, []))),
    Pong ! stop,
    Refs = [erlang:monitor(process, P) || P <- HogPids],
    [exit(P, kill) || P <- HogPids],
    [receive {'DOWN', R, process, _, killed} -> ok end || R <- Refs],
    report("fairness", [{n, N}, {hogs, Hogs}],
           [{p50_ns, element(nearest_rank(50, N), Rtts)},
            {p99_ns, element(nearest_rank(99, N), Rtts)},
            {max_ns, element(N, Rtts)}]);

run(W, _) ->
    exit({unknown_workload, W}).

%% ---------------------------------------------------------------- helpers

spawn_n(0, _, Acc) -> Acc;
spawn_n(K, F, Acc) -> spawn_n(K - 1, F, [spawn(F) | Acc]).

%% Linked: a client that fails takes the benchmark down with it.
spawn_n(0, _, Acc, link) -> Acc;
spawn_n(K, F, Acc, link) -> spawn_n(K - 1, F, [spawn_link(F) | Acc], link).

wait_n(0, _) -> ok;
wait_n(K, Msg) -> receive Msg -> wait_n(K - 1, Msg) end.

%% Teardown is complete when the VM's process count is back to its baseline.
wait_procs(Baseline) ->
    case erlang:system_info(process_count) > Baseline of
        true -> receive after 1 -> wait_procs(Baseline) end;
        false -> ok
    end.

ring_node(Next, Parent) ->
    receive
        1 -> Parent ! token_done, ring_node(Next, Parent);
        H when is_integer(H) -> Next ! H - 1, ring_node(Next, Parent);
        stop -> ok
    end.

ping(0, _) -> ok;
ping(K, Pong) -> Pong ! ping, receive pong -> ping(K - 1, Pong) end.

pong(Peer) ->
    receive
        ping -> Peer ! pong, pong(Peer);
        stop -> ok
    end.

%% fairness: a hog loops forever on a separate (non-inlined) function doing
%% integer arithmetic, kept below 2^28 so that X * 1103515245 stays a small
%% integer (under 2^59), never a bignum.
hog(X) -> hog(step(X)).

step(X) -> (X * 1103515245 + 12345) band 16#FFFFFFF.

timed_pings(0, _, Acc) -> Acc;
timed_pings(K, Pong, Acc) ->
    T0 = now_ns(),
    Pong ! ping,
    receive pong -> ok end,
    T = now_ns() - T0,
    timed_pings(K - 1, Pong, [T | Acc]).

%% 1-based index of the P-th percentile of N sorted samples.
nearest_rank(P, N) -> max(1, (P * N + 99) div 100).

skynet(Parent, Num, 1, _) -> Parent ! Num;
skynet(Parent, Num, Size, Div) ->
    Self = self(),
    Sub = Size div Div,
    [spawn(fun() -> skynet(Self, Num + I * Sub, Sub, Div) end) || I <- lists:seq(0, Div - 1)],
    Parent ! sum_n(Div, 0).

sum_n(0, Acc) -> Acc;
sum_n(K, Acc) -> receive X -> sum_n(K - 1, Acc + X) end.

send_n(0, _) -> ok;
send_n(K, To) -> To ! msg, send_n(K - 1, To).

link_loop(0) -> ok;
link_loop(K) ->
    Pid = spawn_link(fun() -> exit(boom) end),
    receive {'EXIT', Pid, boom} -> link_loop(K - 1) end.

monitor_loop(0) -> ok;
monitor_loop(K) ->
    {Pid, Ref} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', Ref, process, Pid, normal} -> monitor_loop(K - 1) end.

call_client(Parent, Server, N, Backlog) ->
    fill_backlog(Backlog),
    %% make_ref/0 just before the receive: the receive skips every message
    %% queued before the ref (the backlog) instead of scanning it.
    Ref = make_ref(),
    Parent ! {ready, self(), Ref},
    receive {go, Ref} -> ok end,
    call_loop(N, Server),
    {message_queue_len, Backlog} = process_info(self(), message_queue_len),
    Parent ! calls_done.

fill_backlog(0) -> ok;
fill_backlog(K) -> self() ! {backlog, K}, fill_backlog(K - 1).

call_loop(0, _) -> ok;
call_loop(K, Server) -> 0 = gen_server:call(Server, get), call_loop(K - 1, Server).

start_idle(0, _) -> ok;
start_idle(K, Sup) ->
    {ok, _} = supervisor:start_child(Sup, [K]),
    start_idle(K - 1, Sup).

restart_loop(0, _, _) -> ok;
restart_loop(K, Sup, Child) ->
    %% As troupe's driver: wait for the crash, then ask for the new child.
    Ref = erlang:monitor(process, Child),
    gen_server:cast(Child, crash),
    receive {'DOWN', Ref, process, _, _} -> ok end,
    restart_loop(K - 1, Sup, new_child(Sup, Child)).

%% The supervisor's child pid once it is no longer Old.
new_child(Sup, Old) ->
    case supervisor:which_children(Sup) of
        [{crasher, Pid, worker, _}] when is_pid(Pid), Pid =/= Old -> Pid;
        [{crasher, _, worker, _}] -> new_child(Sup, Old)
    end.

%% Depth calls down (none a tail call), then an exception.
dive_throw(0) -> throw(boom);
dive_throw(K) -> dive_throw(K - 1) + 1.

dive_error(0) -> error(boom);
dive_error(K) -> dive_error(K - 1) + 1.

throw_loop(0, _) -> ok;
throw_loop(K, Depth) ->
    try dive_throw(Depth) catch throw:boom -> ok end,
    throw_loop(K - 1, Depth).

error_loop(0, _) -> ok;
error_loop(K, Depth) ->
    Len = try dive_error(Depth) catch error:boom:Stack -> length(Stack) end,
    Len > 0 orelse exit(no_stacktrace),
    error_loop(K - 1, Depth).

%% Resident set size in bytes, from /proc/self/statm (same source as Go and C++).
rss(PageSize) ->
    {ok, F} = file:open("/proc/self/statm", [read, raw, binary]),
    {ok, Data} = file:read(F, 256),
    ok = file:close(F),
    [_, Resident | _] = binary:split(Data, <<" ">>, [global]),
    binary_to_integer(Resident) * PageSize.

now_ns() -> erlang:monotonic_time(nanosecond).
secs(Ns) -> Ns / 1.0e9.
rate(Count, Ns) -> round(Count * 1.0e9 / Ns).

report(Workload, Params, Results) ->
    Sched = erlang:system_info(schedulers_online),
    KVs = Params ++ [{schedulers, Sched}] ++ Results,
    io:format("PEER lang=erlang workload=~s~s~n",
              [Workload, [io_lib:format(" ~s=~s", [K, fmt(V)]) || {K, V} <- KVs]]).

fmt(V) when is_integer(V) -> integer_to_list(V);
fmt(V) when is_float(V), V >= 100 -> float_to_list(V, [{decimals, 1}]);
fmt(V) when is_float(V) -> float_to_list(V, [{decimals, 6}]).
