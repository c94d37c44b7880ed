%% TCP peer servers for troupe's TCP benchmarks, driven by troupe-loadgen
%% (bench/loadgen/README.md). Run by run.sh as
%%   erl -noshell +P 5000000 +Q 65536 [+S N:N] -pa DIR -run peers_tcp main MODE PORT
%% with MODE echo, chat or chat_unbatched. Listens on 127.0.0.1:PORT until
%% the VM is stopped (SIGTERM). One process per connection, gen_tcp with
%% {active, once}. Frames are {packet,4}: a 4-byte big-endian length, then
%% the payload.
%%  - echo: {packet, 4}; each frame is sent back as it came.
%%  - chat: a client's first frame is "J<room>"; the server joins the
%%    connection's process to the pg group Room and answers "J". Every later
%%    frame goes, unchanged, as {deliver, Frame} to every other member of the
%%    group, which writes it to its own socket. A member drains every
%%    {deliver, _} in its mailbox and writes them with one gen_tcp:send of an
%%    iolist (batched by hand). {packet, 4} would put one header on the whole
%%    iolist, so chat's sockets are {packet, raw} and the frames are split
%%    here, each keeping its header.
%%  - chat_unbatched: the same with {packet, 4} and one gen_tcp:send per
%%    delivery.
-module(peers_tcp).
-export([main/1]).

main([Mode, PortText]) ->
    Port = list_to_integer(PortText),
    {Packet, Handler} =
        case Mode of
            "echo" -> {4, fun echo/1};
            "chat" -> {raw, fun chat/1};
            "chat_unbatched" -> {4, fun chat_unbatched/1};
            _ -> usage()
        end,
    Mode =:= "echo" orelse ({ok, _} = pg:start_link()),
    case gen_tcp:listen(Port, [binary, {packet, Packet}, {active, false}, {reuseaddr, true},
                               {ip, {127, 0, 0, 1}}, {backlog, 4096}, {nodelay, true}]) of
        {ok, Listen} -> accept(Listen, Handler);
        {error, Reason} ->
            io:format(standard_error, "peers_tcp: listen on ~b: ~p~n", [Port, Reason]),
            halt(1)
    end;
main(_) -> usage().

usage() ->
    io:format(standard_error, "usage: peers_tcp echo|chat|chat_unbatched PORT~n", []),
    halt(2).

accept(Listen, Handler) ->
    case gen_tcp:accept(Listen) of
        {ok, Socket} ->
            %% The handler waits until it owns the socket before it asks
            %% for data.
            Pid = spawn(fun() -> receive {go, S} -> Handler(S) end end),
            ok = gen_tcp:controlling_process(Socket, Pid),
            Pid ! {go, Socket};
        {error, Reason} ->
            %% Out of descriptors and the like: the load generator fails on
            %% its side.
            io:format(standard_error, "peers_tcp: accept: ~p~n", [Reason]),
            timer:sleep(5)
    end,
    accept(Listen, Handler).

%% A connection the client has closed can fail setopts before its
%% tcp_closed arrives: that ends the handler, quietly.
active_once(S) ->
    case inet:setopts(S, [{active, once}]) of
        ok -> ok;
        {error, _} -> gen_tcp:close(S), exit(normal)
    end.

%% ---------------------------------------------------------------- echo

echo(S) ->
    active_once(S),
    receive
        {tcp, S, Frame} ->
            case gen_tcp:send(S, Frame) of
                ok -> echo(S);
                {error, _} -> gen_tcp:close(S)
            end;
        {tcp_closed, S} -> ok;
        {tcp_error, S, _} -> gen_tcp:close(S)
    end.

%% ---------------------------------------------------------------- chat

others(Room) ->
    Self = self(),
    [P || P <- pg:get_members(Room), P =/= Self].

%% Batched, {packet, raw}: Buf holds the start of a frame not complete yet.
chat(S) -> chat_join(S, <<>>).

chat_join(S, Buf0) ->
    active_once(S),
    receive
        {tcp, S, Data} ->
            case <<Buf0/binary, Data/binary>> of
                <<Len:32, Frame:Len/binary, Rest/binary>> ->
                    <<"J", Room/binary>> = Frame,
                    ok = pg:join(Room, self()),
                    %% Sent before this process reads any delivery from its
                    %% mailbox, so none can overtake it.
                    ok = gen_tcp:send(S, <<1:32, "J">>),
                    chat_frames(S, Room, Rest);
                Buf -> chat_join(S, Buf)
            end;
        {tcp_closed, S} -> ok;
        {tcp_error, S, _} -> gen_tcp:close(S)
    end.

chat_loop(S, Room, Buf) ->
    receive
        {tcp, S, Data} -> chat_frames(S, Room, <<Buf/binary, Data/binary>>);
        {deliver, Frame} -> chat_drain(S, Room, Buf, [Frame]);
        {tcp_closed, S} -> ok;
        {tcp_error, S, _} -> gen_tcp:close(S)
    end.

%% Forwards every complete frame in Data, header included (a sub-binary:
%% no copy), then asks for more.
chat_frames(S, Room, Data) ->
    Rest = forward(Data, others(Room)),
    active_once(S),
    chat_loop(S, Room, Rest).

forward(<<Len:32, _:Len/binary, _/binary>> = Data, Others) ->
    <<Frame:(4 + Len)/binary, Rest/binary>> = Data,
    Msg = {deliver, Frame},
    [P ! Msg || P <- Others],
    forward(Rest, Others);
forward(Partial, _) -> Partial.

chat_drain(S, Room, Buf, Acc) ->
    receive
        {deliver, Frame} -> chat_drain(S, Room, Buf, [Frame | Acc])
    after 0 ->
        case gen_tcp:send(S, lists:reverse(Acc)) of
            ok -> chat_loop(S, Room, Buf);
            {error, _} -> gen_tcp:close(S)
        end
    end.

%% Unbatched, {packet, 4}.
chat_unbatched(S) ->
    active_once(S),
    receive
        {tcp, S, <<"J", Room/binary>>} ->
            ok = pg:join(Room, self()),
            ok = gen_tcp:send(S, <<"J">>),
            active_once(S),
            chat_unbatched_loop(S, Room);
        {tcp_closed, S} -> ok;
        {tcp_error, S, _} -> gen_tcp:close(S)
    end.

chat_unbatched_loop(S, Room) ->
    receive
        {tcp, S, Payload} ->
            Msg = {deliver, Payload},
            [P ! Msg || P <- others(Room)],
            active_once(S),
            chat_unbatched_loop(S, Room);
        {deliver, Payload} ->
            case gen_tcp:send(S, Payload) of
                ok -> chat_unbatched_loop(S, Room);
                {error, _} -> gen_tcp:close(S)
            end;
        {tcp_closed, S} -> ok;
        {tcp_error, S, _} -> gen_tcp:close(S)
    end.
