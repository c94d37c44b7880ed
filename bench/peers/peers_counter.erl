%% genserver_call's server (bench/peers/peers.erl): a gen_server whose state
%% is a counter; call `get` replies with the state.
-module(peers_counter).
-behaviour(gen_server).
-export([start_link/1]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link(N) -> gen_server:start_link(?MODULE, N, []).

init(N) -> {ok, N}.

handle_call(get, _From, N) -> {reply, N, N}.

handle_cast(_Msg, N) -> {noreply, N}.
