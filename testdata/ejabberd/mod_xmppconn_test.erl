%% mod_xmppconn_test: test-only control endpoints for the xmppconn ejabberd
%% harness (internal/servertest), the ejabberd twin of Prosody's
%% mod_xmppconn_test.lua. Never load it on a real server: it lets any local
%% HTTP client list and close sessions.
%%
%% It is an ejabberd_http request handler, mounted at /xmppconn-test on the
%% loopback HTTP listener:
%%
%%   GET  ready                    -> the value of $XMPPCONN_TEST_INSTANCE
%%                                    (proves which server answers)
%%   GET  sessions?jid=J           -> a JSON array of session objects
%%   POST kill (form: jid, condition) -> {"closed": N}
%%
%% J is a full JID (that session), a bare JID (every resource), a domain
%% (every session on that host) or empty (every session). A session that
%% waits for a XEP-0198 resumption (mod_stream_mgmt's "pending" state) is
%% listed with "hibernating": true.
%%
%% kill with a condition sends that stream error and ends the session for
%% good (a waiting session is stopped). kill with an empty condition closes
%% the connection without a stream error, like a network cut (the HTTP
%% connections of a BOSH session's held requests too, unanswered): a session
%% with stream management enabled then waits for resumption, over BOSH too.
%% kill answers once the sessions have handled it.
%%
%% Accounts are not handled here: the harness uses mod_http_api for them.
%% The fields read from process states (mod_stream_mgmt's mgmt_state, the
%% ejabberd_bosh state record) are those of ejabberd 23.01.
-module(mod_xmppconn_test).

-export([process/2]).

-include("ejabberd_http.hrl").

-define(CT_TEXT, {<<"Content-Type">>, <<"text/plain; charset=utf-8">>}).
-define(CT_JSON, {<<"Content-Type">>, <<"application/json">>}).
-define(STATE_TIMEOUT, 2000).
-define(CONDITIONS,
	[<<"bad-format">>, <<"bad-namespace-prefix">>, <<"conflict">>,
	 <<"connection-timeout">>, <<"host-gone">>, <<"host-unknown">>,
	 <<"improper-addressing">>, <<"internal-server-error">>,
	 <<"invalid-from">>, <<"invalid-namespace">>, <<"invalid-xml">>,
	 <<"not-authorized">>, <<"not-well-formed">>, <<"policy-violation">>,
	 <<"remote-connection-failed">>, <<"reset">>, <<"resource-constraint">>,
	 <<"restricted-xml">>, <<"system-shutdown">>, <<"undefined-condition">>,
	 <<"unsupported-encoding">>, <<"unsupported-feature">>,
	 <<"unsupported-stanza-type">>, <<"unsupported-version">>]).

process(Path, #request{ip = {IP, _}} = Request) ->
    case is_loopback(IP) of
	true -> handle(Path, Request);
	false -> {403, [?CT_TEXT], <<"loopback only\n">>}
    end.

handle([<<"ready">>], #request{method = 'GET'}) ->
    {200, [?CT_TEXT], list_to_binary(os:getenv("XMPPCONN_TEST_INSTANCE", ""))};
handle([<<"sessions">>], #request{method = 'GET'} = Request) ->
    case matching(param(<<"jid">>, Request)) of
	{ok, USRs} ->
	    Infos = [describe(USR) || USR <- USRs],
	    {200, [?CT_JSON], jiffy:encode([I || I <- Infos, I /= offline])};
	error ->
	    {400, [?CT_TEXT], <<"invalid jid\n">>}
    end;
handle([<<"kill">>], #request{method = 'POST'} = Request) ->
    Condition = param(<<"condition">>, Request),
    case valid_condition(Condition) of
	false ->
	    {400, [?CT_TEXT], <<"invalid condition\n">>};
	true ->
	    case matching(param(<<"jid">>, Request)) of
		{ok, USRs} ->
		    Closed = length([ok || USR <- USRs, kill(USR, Condition)]),
		    {200, [?CT_JSON], jiffy:encode({[{closed, Closed}]})};
		error ->
		    {400, [?CT_TEXT], <<"invalid jid\n">>}
	    end
    end;
handle(_, _) ->
    {404, [?CT_TEXT], <<"not found\n">>}.

is_loopback({127, _, _, _}) -> true;
is_loopback({0, 0, 0, 0, 0, 0, 0, 1}) -> true;
is_loopback({0, 0, 0, 0, 0, 16#ffff, A, _}) -> A bsr 8 == 127;
is_loopback(_) -> false.

%% param reads Name from the query string or a form body.
param(Name, #request{q = Q, data = Data}) ->
    Form = case Data of
	       <<>> -> [];
	       _ -> try uri_string:dissect_query(Data) of
			L when is_list(L) -> L;
			_ -> []
		    catch _:_ -> []
		    end
	   end,
    case lists:keyfind(Name, 1, Form ++ Q) of
	{_, V} when is_binary(V) -> V;
	{_, V} when is_list(V) -> unicode:characters_to_binary(V);
	_ -> <<>>
    end.

%% valid_condition accepts "" and the stream error conditions of RFC 6120
%% section 4.9.3 that carry no payload (xmpp's encoder knows no others).
valid_condition(<<>>) -> true;
valid_condition(C) -> lists:member(C, ?CONDITIONS).

%% matching returns the sessions target selects as sorted {U, S, R} tuples.
matching(<<>>) ->
    {ok, lists:usort(ejabberd_sm:dirty_get_sessions_list())};
matching(Target) ->
    try jid:tolower(jid:decode(Target)) of
	{<<>>, S, <<>>} -> {ok, lists:usort(ejabberd_sm:get_vh_session_list(S))};
	{U, S, <<>>} -> {ok, lists:usort([{U, S, R} || R <- ejabberd_sm:get_user_resources(U, S)])};
	{U, S, R} ->
	    case ejabberd_sm:get_session_pid(U, S, R) of
		none -> {ok, []};
		_ -> {ok, [{U, S, R}]}
	    end;
	_ -> error
    catch _:_ -> error
    end.

%% c2s_state returns the state map of a session's c2s process, or #{}.
c2s_state(Pid) ->
    try sys:get_state(Pid, ?STATE_TIMEOUT) of
	State when is_map(State) -> State;
	_ -> #{}
    catch _:_ -> #{}
    end.

describe({U, S, R} = USR) ->
    case ejabberd_sm:get_session_pid(U, S, R) of
	none -> offline;
	Pid ->
	    State = c2s_state(Pid),
	    MgmtState = maps:get(mgmt_state, State, undefined),
	    Timeout = maps:get(mgmt_timeout, State, 0),
	    {[{jid, jid:encode(jid:make(USR))},
	      {transport, transport(U, S, R)},
	      {sm, lists:member(MgmtState, [active, pending])},
	      {resumable, lists:member(MgmtState, [active, pending]) andalso Timeout > 0},
	      {hibernating, MgmtState == pending},
	      {held_requests, held_requests(State)}]}
    end.

%% transport names the connection of a session as the session manager
%% recorded it (a waiting session has no socket left to ask).
transport(U, S, R) ->
    case ejabberd_sm:get_user_info(U, S, R) of
	Info when is_list(Info) ->
	    case proplists:get_value(conn, Info) of
		http_bind -> <<"bosh">>;
		websocket -> <<"websocket">>;
		_ -> <<"c2s">>
	    end;
	_ -> <<"c2s">>
    end.

%% sockmod and socket read xmpp_socket's #socket_state{sockmod, socket, ...}.
sockmod(#{socket := Socket}) when element(1, Socket) == socket_state -> element(2, Socket);
sockmod(_) -> undefined.

socket(#{socket := Socket}) when element(1, Socket) == socket_state -> element(3, Socket);
socket(_) -> undefined.

%% bosh_state returns the #state{} record of the ejabberd_bosh process of a
%% BOSH session (p1_fsm's sys:get_state gives [Parent, StateName,
%% StateData, ...]), or undefined.
bosh_state(State) ->
    case {sockmod(State), socket(State)} of
	{ejabberd_bosh, {http_bind, Pid, _}} ->
	    try sys:get_state(Pid, ?STATE_TIMEOUT) of
		[_, _StateName, Data | _] when element(1, Data) == state, tuple_size(Data) >= 18 ->
		    Data;
		_ -> undefined
	    catch _:_ -> undefined
	    end;
	_ -> undefined
    end.

%% receivers returns the held requests of a BOSH session, {From, Request}
%% by rid: the 18th element of ejabberd_bosh's #state{} in 23.01.
receivers(State) ->
    case bosh_state(State) of
	undefined -> [];
	Data -> gb_trees:values(element(18, Data))
    end.

held_requests(State) -> length(receivers(State)).

%% cut_held_requests ends the HTTP connections of a BOSH session's held
%% requests without an answer, as a network cut would: their handler
%% processes own the sockets.
cut_held_requests(State) ->
    lists:foreach(
      fun({{HandlerPid, _Tag}, _Request}) when is_pid(HandlerPid) ->
	      exit(HandlerPid, kill);
	 (_) -> ok
      end, receivers(State)).

%% kill ends one session and reports whether it counted as closed. It
%% returns once the session's process has handled the request, and once it
%% has ended when the session cannot wait for a resumption, so that the
%% session list is up to date when the answer goes out.
kill({U, S, R}, Condition) ->
    case ejabberd_sm:get_session_pid(U, S, R) of
	none -> false;
	Pid ->
	    State = c2s_state(Pid),
	    MgmtState = maps:get(mgmt_state, State, undefined),
	    Pending = MgmtState == pending,
	    Resumable = lists:member(MgmtState, [active, pending])
		andalso maps:get(mgmt_timeout, State, 0) > 0,
	    Closed = case {Condition, Pending} of
			 {<<>>, true} ->
			     false; % nothing left to cut
			 {<<>>, false} ->
			     cut_held_requests(State),
			     ejabberd_c2s:close(Pid),
			     true;
			 {_, true} ->
			     ejabberd_c2s:stop_async(Pid),
			     true;
			 {_, false} ->
			     Reason = binary_to_atom(Condition, utf8),
			     ejabberd_c2s:send(Pid, {stream_error, Reason, []}),
			     true
		     end,
	    settle(Pid),
	    case Condition == <<>> andalso Resumable of
		true -> ok; % it waits for a resumption
		false -> await_exit(Pid)
	    end,
	    Closed
    end.

%% await_exit waits, at most ?STATE_TIMEOUT, until Pid has ended: a c2s
%% process that handled a close may still be on its way out, its session
%% registered.
await_exit(Pid) ->
    Ref = erlang:monitor(process, Pid),
    receive
	{'DOWN', Ref, process, Pid, _} -> ok
    after ?STATE_TIMEOUT ->
	    erlang:demonitor(Ref, [flush]),
	    ok
    end.

%% settle waits until Pid has handled what was cast to it, or has ended
%% (and with it unregistered its session): a system message is handled in
%% turn with the casts before it.
settle(Pid) ->
    _ = c2s_state(Pid),
    ok.
