#!/usr/bin/env python3
"""test_agent.py: `nsr agent` against a scripted OpenAI-compatible server.

The server (a real HTTP server on 127.0.0.1, written for this test) plays a
model: the model name picks a script. In the main script it answers the
first turn with a tool call, checks the tool result it receives (the
matching tool_call_id, the WebPPL peer's posterior for 16 8 2 64), then
answers. Others send bad tool calls, loop forever, fail with HTTP errors
(also with an empty body), send malformed replies, stall, demand an API key,
or push the agent's bounds: 2,000 tool calls in one reply, programs that
never end, results and conversations that outgrow the size bounds. The
server is stateless: the turn is read off the conversation it is sent; it
records the size of every request it receives, per model.

Usage: test_agent.py NSR
"""
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NSR = sys.argv[1]
FAILURES = []
SLOW_RELEASE = threading.Event()  # set once the "slow" model's run is over
REQUEST_SIZES = {}  # model -> the byte size of each request received
MANY = 2000  # tool calls in the "many" model's first reply
FOREVER = "(define (f) (f)) (f)"  # a program only a time budget stops
BIG_RESULTS = []  # the "big-result" model's tool results, in order


def tool_call(call_id, name, arguments):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def completion(message):
    return {"id": "chatcmpl-test", "object": "chat.completion", "model": "scripted",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}]}


class Refusal(Exception):
    """The request broke the protocol: answered with HTTP 400 and the reason."""


def check_request(req):
    if not isinstance(req.get("messages"), list) or req["messages"][-1]["role"] not in ("user", "tool"):
        raise Refusal("messages must end with the user's question or a tool result")
    names = [t["function"]["name"] for t in req.get("tools", []) if t.get("type") == "function"]
    # propose_hypotheses too: the shipped model is --weights' default.
    if not {"number_game", "list_concepts", "propose_hypotheses"} <= set(names):
        raise Refusal(f"tools offered: {names}")
    params = next(t["function"]["parameters"] for t in req["tools"] if t["function"]["name"] == "number_game")
    if params["required"] != ["examples"] or "examples" not in params["properties"]:
        raise Refusal("number_game parameters lack examples")


def tool_results(req):
    return [m for m in req["messages"] if m["role"] == "tool"]


def script_basic(req):
    results = tool_results(req)
    if not results:
        if req["messages"][1] != {"role": "user", "content": "Which concept explains 16, 8, 2, 64?"}:
            raise Refusal(f"unexpected question: {req['messages'][1]}")
        return completion({"content": None, "tool_calls": [
            tool_call("call_ng1", "number_game", json.dumps({"examples": [16, 8, 2, 64], "top": 3}))]})
    # The assistant's tool call must precede its result, and the result must
    # answer that call with the exact posterior.
    assistant = req["messages"][-2]
    if assistant["role"] != "assistant" or assistant["tool_calls"][0]["id"] != "call_ng1":
        raise Refusal("the assistant message with the tool call was not sent back")
    msg = results[0]
    if msg["tool_call_id"] != "call_ng1":
        raise Refusal(f"tool_call_id {msg['tool_call_id']!r}")
    out = json.loads(msg["content"])
    top = out["hypotheses"][0]
    if top["name"] != "powers of 2" or abs(top["posterior"] - 0.999792) > 5e-7 or len(out["hypotheses"]) != 3:
        raise Refusal(f"wrong tool result: {top}")
    return completion({"content": f"The concept is {top['name']} (posterior {top['posterior']:.6f})."})


def script_repairs(req):
    """Two calls in one turn, then bad calls the agent must answer with errors."""
    results = tool_results(req)
    if not results:
        return completion({"content": "", "tool_calls": [
            tool_call("a", "number_game", '{"examples":[0]}'),
            tool_call("b", "list_concepts", "{}")]})
    if len(results) == 2:
        by_id = {m["tool_call_id"]: m["content"] for m in results}
        if "arguments.examples[0]: 0 is below the minimum 1" not in by_id.get("a", ""):
            raise Refusal(f"bad-argument error not reported: {by_id.get('a')}")
        if len(json.loads(by_id["b"])["rules"]) != 34:
            raise Refusal("list_concepts result wrong")
        return completion({"content": None, "tool_calls": [
            tool_call("c", "number_game", "{oops"), tool_call("d", "frobnicate", "{}"),
            tool_call("e", "number_game", {"examples": [3, 9]})]})
    by_id = {m["tool_call_id"]: m["content"] for m in results}
    if "not valid JSON" not in by_id.get("c", ""):
        raise Refusal(f"invalid JSON not reported: {by_id.get('c')}")
    if "unknown tool 'frobnicate'" not in by_id.get("d", ""):
        raise Refusal(f"unknown tool not reported: {by_id.get('d')}")
    if json.loads(by_id["e"])["examples"] != [3, 9]:
        raise Refusal("object arguments not accepted")
    return completion({"content": "repaired"})


def script_loop(req):
    n = len(tool_results(req))
    return completion({"content": None, "tool_calls": [tool_call(f"l{n}", "list_concepts", "{}")]})


def script_foreign(req):
    """A foreign tool from a --tools manifest, offered and called like the rest."""
    results = tool_results(req)
    if not results:
        cbrt = [t["function"] for t in req["tools"] if t["function"]["name"] == "cbrt"]
        if not cbrt or cbrt[0]["parameters"]["properties"] != {"x": {"type": "number"}}:
            raise Refusal(f"cbrt not offered as expected: {cbrt}")
        return completion({"content": None, "tool_calls": [tool_call("k", "cbrt", '{"x": -64}')]})
    value = json.loads(results[0]["content"])["result"]
    if abs(value + 4) > 1e-12:
        raise Refusal(f"cbrt(-64) = {value}")
    return completion({"content": f"{value:g}"})


def script_program(req):
    """run_program through the loop: a runaway program's budget error first,
    then p(both heads | at least one) = (1/4) / (3/4) = 1/3."""
    results = tool_results(req)
    if not results:
        return completion({"content": None, "tool_calls": [
            tool_call("p1", "run_program", json.dumps({"source": "(define (f) (f)) (f)"}))]})
    if len(results) == 1:
        if "step budget of 1000000 steps exhausted" not in results[0]["content"]:
            raise Refusal(f"runaway program: {results[0]['content']}")
        source = "(enumeration-query (define a (flip)) (define b (flip)) (and a b) (or a b))"
        return completion({"content": None, "tool_calls": [
            tool_call("p2", "run_program", json.dumps({"source": source}))]})
    value = json.loads(results[1]["content"])["value"]
    # The loop sends the model 8 significant digits.
    if value[0] != [True, False] or abs(value[1][0] - 1 / 3) > 1e-8:
        raise Refusal(f"two coins: {value}")
    return completion({"content": f"{value[1][0]:.4f}"})


def script_many(req):
    """2,000 calls in one reply; the agent runs the first --max-tool-calls
    (4 here) and answers every other one "not run", naming the bound."""
    results = tool_results(req)
    if not results:
        return completion({"content": None, "tool_calls": [
            tool_call(f"m{i}", "number_game", '{"examples":[16]}') for i in range(MANY)]})
    if [m["tool_call_id"] for m in results] != [f"m{i}" for i in range(MANY)]:
        raise Refusal("not every call was answered, in order")
    ran = [m for m in results if m["content"].startswith("{")]
    if [m["tool_call_id"] for m in ran] != ["m0", "m1", "m2", "m3"]:
        raise Refusal(f"calls run: {[m['tool_call_id'] for m in ran][:10]}")
    for m in results[4:]:
        if ("not run" not in m["content"] or "--max-tool-calls" not in m["content"]
                or len(m["content"]) > 300):
            raise Refusal(f"call not run answered with {m['content']!r}")
    return completion({"content": f"ran {len(ran)}"})


def script_forever(req):
    """Four programs that never end in one reply: the run's tool time
    (--max-tool-seconds) cuts the first short and keeps the others from
    running, so the loop stops before a second request."""
    if tool_results(req):
        raise Refusal("a second request after the tools' time ran out")
    return completion({"content": None, "tool_calls": [
        tool_call(f"f{i}", "run_program", json.dumps({"source": FOREVER})) for i in range(4)]})


def script_big_result(req):
    """list_concepts' result (about 3 KB), kept in BIG_RESULTS for the test
    to compare a cut copy with a whole one."""
    results = tool_results(req)
    if not results:
        return completion({"content": None, "tool_calls": [tool_call("b", "list_concepts", "{}")]})
    BIG_RESULTS.append(results[0]["content"])
    return completion({"content": "seen"})


def script_accents(req):
    """A run_program value of 600 'é' (two bytes each in UTF-8), cut at
    --max-tool-result 257: the cut falls inside a character."""
    results = tool_results(req)
    if not results:
        source = json.dumps({"source": '"' + "é" * 600 + '"'})
        return completion({"content": None, "tool_calls": [tool_call("u", "run_program", source)]})
    BIG_RESULTS.append(results[0]["content"])
    return completion({"content": "seen"})


SCRIPTS = {"basic": script_basic, "repairs": script_repairs, "loop": script_loop, "foreign": script_foreign,
           "program": script_program, "many": script_many, "forever": script_forever,
           "big-result": script_big_result, "accents": script_accents}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/v1/chat/completions":
            return self.reply(404, {"error": {"message": f"no route {self.path}"}})
        req = json.loads(body)
        model = req.get("model")
        REQUEST_SIZES.setdefault(model, []).append(len(body))
        if model == "http-500":
            return self.reply(500, {"error": {"message": "the model fell over"}})
        if model == "http-500-empty":
            return self.reply(500, b"", "text/plain")
        if model == "http-502-html":
            return self.reply(502, b"<html>\n<b>bad\x00gateway</b>\r\n</html>\n", "text/html")
        if model == "http-503-blank-message":
            return self.reply(503, {"error": {"message": ""}})
        if model == "garbage":
            return self.reply(200, b"<html>surprise</html>", "text/html")
        if model == "no-choices":
            return self.reply(200, {"object": "chat.completion", "choices": []})
        if model == "bad-call":
            return self.reply(200, completion({"content": None, "tool_calls": [{"type": "function"}]}))
        if model == "empty":
            return self.reply(200, completion({"content": None}))
        if model == "slow":
            # Never answers: only nsr's own --timeout can end that run. The
            # handler returns once the test is past it (the bound is a hang
            # guard).
            SLOW_RELEASE.wait(120)
            return None
        if model == "auth":
            if self.headers.get("Authorization") != "Bearer sekrit":
                return self.reply(401, {"error": {"message": "invalid api key"}})
            return self.reply(200, completion({"content": "authorised"}))
        try:
            check_request(req)
            return self.reply(200, SCRIPTS[model](req))
        except Refusal as e:
            FAILURES.append(f"{model}: {e}")
            return self.reply(400, {"error": {"message": f"test server refused: {e}"}})


def bound_tests(base):
    """The bounds of item 6: each stops or trims the loop and says which."""
    REQUEST_SIZES.clear()
    r = run("--endpoint", base, "--model", "many", "--max-tool-calls", "4", "--json", "x")
    doc = json.loads(r[1]) if r[0] == 0 else {}
    sizes = REQUEST_SIZES.get("many", [])
    expect(r[0] == 0 and doc.get("answer") == "ran 4" and doc.get("stopped", 1) is None
           and doc["tool_calls"]["run"] == 4 and doc["tool_calls"]["not_run"] == MANY - 4
           and r[2] == f"nsr agent: note: {MANY - 4} tool calls not run (at most 4 per reply, --max-tool-calls)\n",
           "2,000 calls in one reply: 4 run, the rest answered not run", (r[0], r[1][:300], r[2]))
    # The next request holds the reply's calls echoed back and one short
    # answer each: under 300 bytes per call, where running them all would
    # send 2,000 results of 3 KB each (6 MB).
    expect(len(sizes) == 2 and sizes[1] - sizes[0] < MANY * 300, "the next request stays small", sizes)

    r = run("--endpoint", base, "--model", "forever", "--max-time", "30", "--max-steps", "1000000000000000",
            "--max-tool-seconds", "0.5", "--json", "x")
    doc = json.loads(r[1]) if r[1] else {}
    message = ("the tools' time for this question ran out: 0.5 s in all (--max-tool-seconds); "
               "tool calls run: 1, not run: 3")
    tools = [m for m in doc.get("messages", []) if m["role"] == "tool"]
    expect(r[0] == 1 and r[2] == f"nsr agent: {message}\n" and doc.get("answer", 1) is None
           and doc.get("stopped") == {"bound": "--max-tool-seconds", "limit": 0.5, "message": message}
           and doc["tool_calls"]["run"] == 1 and doc["tool_calls"]["not_run"] == 3
           and REQUEST_SIZES.get("forever") and len(REQUEST_SIZES["forever"]) == 1,
           "the tools' time bound stops programs that never end", (r[0], r[2], doc.get("stopped"), doc.get("tool_calls")))
    expect(len(tools) == 4 and "ran out during this call" in tools[0]["content"]
           and all("not run" in m["content"] and "--max-tool-seconds" in m["content"] for m in tools[1:]),
           "the cut call and the calls not run say why", tools)

    # The same result cut at 1K and whole under the default 32K: the cut one
    # is the whole one's first 1,024 bytes (ASCII) and a note with its size.
    r = run("--endpoint", base, "--model", "big-result", "--max-tool-result", "1K", "x")
    expect(r == (0, "seen\n", "nsr agent: note: 1 tool results cut at 1024 bytes (--max-tool-result)\n"),
           "a tool result over --max-tool-result is cut, with a note on stderr", r)
    r = run("--endpoint", base, "--model", "big-result", "x")
    expect(r == (0, "seen\n", "") and len(BIG_RESULTS) == 2, "the same result whole under the default bound", r)
    cut, whole = (BIG_RESULTS + ["", ""])[:2]
    note = (f" ... [cut by nsr agent: this result has {len(whole.encode())} bytes, over the limit of 1024 bytes "
            "(--max-tool-result); ask for less]")
    expect(whole.isascii() and len(whole) > 1024 and cut == whole[:1024] + note, "the cut result and its note",
           (cut[-200:], len(whole)))
    # {"value":" is 10 bytes, then 'é' fills bytes 10+2k and 11+2k: byte 256
    # starts the 124th, so a cut at 257 bytes keeps 123 whole ones.
    r = run("--endpoint", base, "--model", "accents", "--max-tool-result", "257", "x")
    size = len('{"value":"') + 2 * 600 + len('","output":"","output_truncated":false}')
    note = (f" ... [cut by nsr agent: this result has {size} bytes, over the limit of 257 bytes "
            "(--max-tool-result); ask for less]")
    expect(r[0] == 0 and len(BIG_RESULTS) == 3 and BIG_RESULTS[2] == '{"value":"' + "é" * 123 + note,
           "a cut never splits a UTF-8 character", (r, BIG_RESULTS[2:]))

    # loop calls list_concepts forever, so each request is about 3 KB longer.
    r = run("--endpoint", base, "--model", "loop", "--max-turns", "100", "--max-request", "16K", "--json", "x")
    doc = json.loads(r[1]) if r[1] else {}
    sizes = REQUEST_SIZES.get("loop", [])[-5:]
    expect(r[0] == 1 and "over the limit of 16384 bytes (--max-request)" in r[2]
           and doc.get("stopped", {}).get("bound") == "--max-request" and doc["stopped"]["limit"] == 16384
           and max(REQUEST_SIZES.get("loop", [0])) <= 16384 and doc["requests"] < 100,
           "a request over --max-request is not sent", (r[0], r[2], sizes))


def run(*args, env=None):
    p = subprocess.run([NSR, "agent", *args], capture_output=True, text=True, timeout=60,
                       env={**os.environ, **(env or {})})
    return p.returncode, p.stdout, p.stderr


def expect(cond, what, result=None):
    if not cond:
        FAILURES.append(f"{what}: {result}")
        print(f"FAIL {what}: {result}")
    else:
        print(f"ok   {what}")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    question = "Which concept explains 16, 8, 2, 64?"

    r = run("--endpoint", base, "--model", "basic", question)
    expect(r[0] == 0 and r[1] == "The concept is powers of 2 (posterior 0.999792).\n", "tool call, result checked, answer", r)
    r = run("--endpoint", base + "/chat/completions", "--model", "basic", "--json", question)
    doc = json.loads(r[1]) if r[0] == 0 else {}
    roles = [m["role"] for m in doc.get("messages", [])]
    expect(roles == ["system", "user", "assistant", "tool", "assistant"], "--json transcript", (r, roles))
    r = run("--endpoint", base + "/", "--model", "basic", "--verbose", question)
    expect(r[0] == 0 and "assistant calls: number_game" in r[2] and "[turn 2]" in r[2], "--verbose transcript on stderr", r)
    r = run("--endpoint", base, "--model", "repairs", "x")
    expect(r[0] == 0 and r[1] == "repaired\n", "bad calls answered with errors the model can act on", r)
    manifest = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nsr_agent_libm_{os.getpid()}.json")
    with open(manifest, "w") as f:
        json.dump({"library": "libm.so.6", "functions": [{"name": "cbrt", "description": "cube root",
                   "returns": "double", "params": [{"name": "x", "type": "double"}]}]}, f)
    r = run("--endpoint", base, "--model", "foreign", "--tools", manifest, "x")
    os.unlink(manifest)
    expect(r[0] == 0 and r[1] == "-4\n", "foreign tool from a manifest called through the loop", r)
    r = run("--endpoint", base, "--model", "program", "--max-steps", "1000000", "x")
    expect(r[0] == 0 and r[1] == "0.3333\n", "run_program through the loop, budget error then a value", r)
    r = run("--endpoint", base, "--model", "loop", "--max-turns", "3", "x")
    expect(r[0] == 1 and "no answer after 3 turns" in r[2], "turn limit", r)
    r = run("--endpoint", base, "--model", "loop", "--max-turns", "3", "--json", "x")
    doc = json.loads(r[1]) if r[1] else {}
    expect(r[0] == 1 and doc.get("answer", 1) is None and r[2].count("\n") == 1
           and doc.get("stopped") == {"bound": "--max-turns", "limit": 3, "message": r[2][len("nsr agent: "):-1]}
           and doc.get("requests") == 3 and doc["tool_calls"]["run"] == 3,
           "turn limit in --json", r)
    bound_tests(base)
    r = run("--endpoint", base, "--model", "http-500", "x")
    expect(r[0] == 1 and "answered HTTP 500: the model fell over" in r[2], "HTTP error", r)
    url = base + "/chat/completions"
    # Item 10: an empty body once printed whatever the heap held.
    r = run("--endpoint", base, "--model", "http-500-empty", "x")
    expect(r == (1, "", f"nsr agent: the server at {url} answered HTTP 500: (empty body)\n"),
           "HTTP error with an empty body", r)
    r = run("--endpoint", base, "--model", "http-502-html", "x")
    expect(r == (1, "", f"nsr agent: the server at {url} answered HTTP 502: <html> <b>bad gateway</b>  </html>\n"),
           "HTTP error body shown on one line", r)
    r = run("--endpoint", base, "--model", "http-503-blank-message", "x")
    expect(r == (1, "", f'nsr agent: the server at {url} answered HTTP 503: {{"error": {{"message": ""}}}}\n'),
           "HTTP error with an empty error.message shows the body", r)
    r = run("--endpoint", base.replace("/v1", "/v2"), "--model", "basic", "x")
    expect(r[0] == 1 and "HTTP 404" in r[2], "wrong path", r)
    r = run("--endpoint", base, "--model", "garbage", "x")
    expect(r[0] == 1 and "malformed reply" in r[2] and "not JSON" in r[2], "reply not JSON", r)
    r = run("--endpoint", base, "--model", "no-choices", "x")
    expect(r[0] == 1 and "no choices[0].message" in r[2], "reply without choices", r)
    r = run("--endpoint", base, "--model", "bad-call", "x")
    expect(r[0] == 1 and "malformed tool call" in r[2], "malformed tool call", r)
    r = run("--endpoint", base, "--model", "empty", "x")
    expect(r[0] == 1 and "neither content nor tool calls" in r[2], "empty message", r)
    r = run("--endpoint", base, "--model", "slow", "--timeout", "1", "x")
    SLOW_RELEASE.set()
    expect(r[0] == 1 and "within 1 s" in r[2], "timeout", r)
    r = run("--endpoint", base, "--model", "auth", "--api-key-env", "NSR_TEST_KEY", "x", env={"NSR_TEST_KEY": "sekrit"})
    expect(r[0] == 0 and r[1] == "authorised\n", "API key sent as bearer token", r)
    r = run("--endpoint", base, "--model", "auth", "--api-key-env", "NSR_TEST_KEY", "x", env={"NSR_TEST_KEY": "k" * 2000})
    expect(r[0] == 1 and "the API key is longer than 1001 bytes" in r[2], "over-long API key refused", r)
    r = run("--endpoint", base, "--model", "auth", "x")
    expect(r[0] == 1 and "HTTP 401: invalid api key" in r[2], "missing API key", r)
    # Port 1 on 127.0.0.1: nothing listens there.
    r = run("--endpoint", "http://127.0.0.1:1/v1", "--model", "basic", "x")
    expect(r[0] == 1 and "cannot reach the server at http://127.0.0.1:1/v1/chat/completions" in r[2], "unreachable server", r)
    r = run("--endpoint", "file:///etc/passwd", "--model", "basic", "x")
    expect(r[0] == 1 and "file:///etc/passwd" in r[2], "non-HTTP URL refused", r)

    for args, needle in [
        (("--model", "m", "q"), "--endpoint URL is required"),
        (("--endpoint", base, "q"), "--model NAME is required"),
        (("--endpoint", base, "--model", "m"), "no question given"),
        (("--endpoint", base, "--model", "m", "a", "b"), "one question only"),
        (("--endpoint", base, "--model", "m", "--max-turns", "0", "q"), "--max-turns: 0 is outside the range 1..100"),
        (("--endpoint", base, "--model", "m", "--timeout", "x", "q"), "--timeout: 'x' is not a whole number"),
        (("--endpoint", base, "--model", "m", "--api-key-env", "NSR_NO_SUCH_VAR", "q"), "'NSR_NO_SUCH_VAR' is not set"),
        (("--endpoint", base, "--model", "m", "--frob", "q"), "unknown option '--frob'"),
        (("--model", "m", "q", "--endpoint"), "--endpoint needs a value (URL)"),
        (("--endpoint", base, "--model", "m", "--max-memory", "1X", "q"), "--max-memory: '1X' is not a byte count"),
        (("--endpoint", base, "--model", "m", "--weights", "m.safetensors", "q"), "--weights: checkpoint 'm.safetensors'"),
        (("--endpoint", base, "--model", "m", "--max-time", "0", "q"), "--max-time: 0 is outside"),
        (("--endpoint", base, "--model", "m", "--foreign", "libm.so.6:cbrt", "q"), "must be LIBRARY:FUNCTION:SIGNATURE"),
        (("--endpoint", base, "--model", "m", "--tools", "/nonexistent.json", "q"), "tool manifest '/nonexistent.json'"),
        (("--endpoint", base, "--model", "m", "--max-tool-calls", "0", "q"), "--max-tool-calls: 0 is outside the range 1..1000"),
        (("--endpoint", base, "--model", "m", "--max-tool-seconds", "0", "q"), "--max-tool-seconds: 0 is outside the range"),
        (("--endpoint", base, "--model", "m", "--max-tool-result", "100", "q"), "--max-tool-result: 100 is outside the range 256..16M"),
        (("--endpoint", base, "--model", "m", "--max-request", "1K", "q"), "--max-request: 1K is outside the range 16K..1G"),
    ]:
        r = run(*args)
        expect(r[0] == 2 and r[1] == "" and r[2].startswith("nsr agent: ") and needle in r[2]
               and r[2].count("\n") == 1, f"usage error: {needle}", r)
    r = run("--help")
    expect(r[0] == 0 and "Usage: nsr agent" in r[1], "--help", r)
    for option in ["--endpoint URL", "--model NAME", "--api-key-env VAR", "--max-turns N", "--timeout S",
                   "--verbose", "--json", "--tools MANIFEST", "--db PATH", "--weights FILE", "--max-steps N",
                   "--max-memory BYTES", "--max-time SECONDS", "--foreign LIB:FUNC:SIG", "env NSR_DB",
                   "env NSR_WEIGHTS", "--max-tool-calls N", "(1..1000, default: 16)", "--max-tool-seconds S",
                   "(0.001..86400, default: 60)", "--max-tool-result BYTES", "(default: 32K)",
                   "--max-request BYTES", "(default: 4M)"]:
        expect(option in r[1], f"--help lists {option}", r[1])
    r = run("--endpoint", base, "--model", "m", "q", env={"NSR_WEIGHTS": "/nonexistent/env.safetensors"})
    expect(r[0] == 2 and "--weights: checkpoint '/nonexistent/env.safetensors'" in r[2], "NSR_WEIGHTS honoured", r)
    server.shutdown()
    if FAILURES:
        print("\n".join(["FAILURES:"] + FAILURES))
        sys.exit(1)


if __name__ == "__main__":
    main()
