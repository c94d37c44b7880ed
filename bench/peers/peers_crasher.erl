%% supervisor_restart's child (bench/peers/peers.erl): a gen_server that
%% exits with a non-normal reason on every call or cast it gets.
-module(peers_crasher).
-behaviour(gen_server).
-export([start_link/0]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link() -> gen_server:start_link(?MODULE, [], []).

init([]) -> {ok, []}.

handle_call(_Request, _From, _State) -> exit(crash).

handle_cast(_Msg, _State) -> exit(crash).
