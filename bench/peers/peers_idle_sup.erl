%% genserver_idle's supervisor (bench/peers/peers.erl): simple_one_for_one
%% over peers_counter, children started with their id.
-module(peers_idle_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).

start_link() -> supervisor:start_link(?MODULE, []).

init([]) ->
    {ok, {#{strategy => simple_one_for_one, intensity => 1, period => 5},
          [#{id => counter, start => {peers_counter, start_link, []}}]}}.
