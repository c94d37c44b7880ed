%% supervisor_restart's supervisor (bench/peers/peers.erl): one_for_one with
%% one permanent peers_crasher child, and a restart intensity (1000000
%% restarts in 1 s) that the benchmark never reaches.
-module(peers_sup).
-behaviour(supervisor).
-export([start_link/0]).
-export([init/1]).

start_link() -> supervisor:start_link(?MODULE, []).

init([]) ->
    Flags = #{strategy => one_for_one, intensity => 1000000, period => 1},
    Child = #{id => crasher,
              start => {peers_crasher, start_link, []},
              restart => permanent,
              shutdown => brutal_kill,
              type => worker,
              modules => [peers_crasher]},
    {ok, {Flags, [Child]}}.
