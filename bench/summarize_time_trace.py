#!/usr/bin/env python3
"""Summarize a clang -ftime-trace JSON (bench/compile_times.sh, issue 15). Standard library only.

    clang++ -ftime-trace -ftime-trace-granularity=100 ... -c tu.cpp -o tu.o
    python3 bench/summarize_time_trace.py tu.json [--top 25]

Prints: the phase totals clang records ("Total Frontend", "Total Backend", ...); the exclusive
parse time of headers grouped by library (a header's own time, without the headers it includes;
template instantiations done while parsing it count to it); the exclusive time of template
instantiations grouped by namespace/template family; the top instantiations and the top
code-generated/optimized functions.
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict


def demangle_all(names):
    """Demangles with c++filt when it is installed (binutils); else returns the names as they are."""
    names = list(names)
    tool = shutil.which("c++filt")
    if not tool or not names:
        return {n: n for n in names}
    out = subprocess.run([tool], input="\n".join(names), capture_output=True, text=True).stdout.split("\n")
    return {n: (out[i] if i < len(out) and out[i] else n) for i, n in enumerate(names)}


def group_of_file(path):
    p = path.replace("\\", "/")
    if "/mcp_recovery/beast/" in p:
        return "ours: mcp_recovery/beast/" + p.split("/mcp_recovery/beast/")[1]
    if "/mcp_recovery/" in p:
        return "ours: mcp_recovery (core)"
    m = re.search(r"/boost/(asio|beast)/(ssl|http|websocket|core|ip|detail|impl|execution|experimental)?", p)
    if m:
        sub = m.group(2) or ""
        if m.group(1) == "asio" and sub in ("detail", "impl", "execution", "ip", "ssl", "experimental"):
            return "boost/asio/" + sub
        if m.group(1) == "beast" and sub:
            return "boost/beast/" + sub
        return "boost/" + m.group(1) + " (top level)"
    if "/boost/" in p:
        m = re.search(r"/boost/([a-z_0-9]+)", p)
        return "boost/" + (m.group(1) if m else "?") + " (other Boost libraries)"
    if "/c++/" in p or "/include/c++" in p:
        return "C++ standard library"
    if p.endswith(".cpp") or p.endswith(".cc"):
        return "the .cpp itself"
    return "C / system headers"


FAMILIES = [
    ("mcp_recovery::beast::detail::transport_base", "ours: transport_base (exchange_machine, helpers)"),
    ("mcp_recovery::beast::basic_async_streamable_http_transport", "ours: async transport"),
    ("mcp_recovery::beast::basic_streamable_http_transport", "ours: sync transport"),
    ("mcp_recovery::beast::async_recovering_client", "ours: async_recovering_client"),
    ("mcp_recovery::beast::detail::json_reader", "ours: json reader"),
    ("mcp_recovery::beast::detail", "ours: beast::detail (other)"),
    ("mcp_recovery::beast", "ours: beast (other)"),
    ("mcp_recovery::basic_recovering_client", "ours: recovering_client"),
    ("mcp_recovery::recovering_client", "ours: recovering_client"),
    ("mcp_recovery", "ours: core (other)"),
    ("boost::beast::http::basic_parser", "beast: http parser"),
    ("boost::beast::http::parser", "beast: http parser"),
    ("boost::beast::http::serializer", "beast: http serializer"),
    ("boost::beast::http::detail", "beast: http composed ops / detail"),
    ("boost::beast::http", "beast: http (other)"),
    ("boost::beast::basic_stream", "beast: basic_stream (tcp_stream)"),
    ("boost::beast", "beast: other"),
    ("boost::asio::execution", "asio: execution (any_executor, properties)"),
    ("boost::asio::detail::awaitable", "asio: awaitable / co_spawn"),
    ("boost::asio::awaitable", "asio: awaitable / co_spawn"),
    ("boost::asio::detail::co_spawn", "asio: awaitable / co_spawn"),
    ("boost::asio::co_spawn", "asio: awaitable / co_spawn"),
    ("boost::asio::detail", "asio: detail (composed ops, reactor, handlers)"),
    ("boost::asio", "asio: other"),
    ("boost::", "boost: other"),
    ("std::", "std"),
]


def qualified_name(name):
    """The function's qualified name in a demangled signature: without return type and parameters."""
    depth, cut = 0, len(name)
    for i, ch in enumerate(name):
        if ch in "<[":
            depth += 1
        elif ch in ">]":
            depth -= 1
        elif ch == "(" and depth == 0 and not name[:i].endswith("operator"):
            cut = i
            break
    head, depth, start = name[:cut], 0, 0
    for i, ch in enumerate(head):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == " " and depth == 0 and not head[:i].endswith(("operator", "const", "unsigned", "long")):
            start = i + 1
    return head[start:] or name


def mangled_prefix(name):
    """'boost::asio::detail::x' from a (possibly truncated) Itanium name such as _ZN5boost4asio6detail1x..."""
    m = re.match(r"_Z(?:N[KVRO]*)?(St)?", name)
    i, parts = m.end(), ["std"] if m.group(1) else []
    while len(parts) < 4:
        d = re.match(r"\d+", name[i:])
        if not d:
            break
        n = int(d.group(0))
        parts.append(name[i + len(d.group(0)): i + len(d.group(0)) + n])
        i += len(d.group(0)) + n
    return "::".join(parts) + "::"


def family_of(name):
    if name.startswith("_Z"):
        name = mangled_prefix(name)
    n = qualified_name(name).lstrip("&*( ")
    for prefix, fam in FAMILIES:
        if n.startswith(prefix):
            return fam
    # operator/lambda names: look for the first known namespace anywhere
    for prefix, fam in FAMILIES:
        if prefix in n:
            return fam
    return "other"


def short(name, width=150):
    # collapse template arguments beyond depth 1
    out, depth = [], 0
    for ch in name:
        if ch == "<":
            depth += 1
            if depth == 1:
                out.append("<")
            elif depth == 2:
                out.append("…")
            continue
        if ch == ">":
            depth -= 1
            if depth == 0:
                out.append(">")
            continue
        if depth <= 1:
            out.append(ch)
    s = "".join(out)
    return s if len(s) <= width else s[: width - 1] + "…"


def self_times(events):
    """Exclusive time of every complete event, nesting by [ts, ts+dur) on one thread."""
    evs = sorted((e for e in events if e.get("ph") == "X" and "dur" in e), key=lambda e: (e.get("tid", 0), e["ts"], -e["dur"]))
    self_t = {}
    stack = []
    for e in evs:
        end = e["ts"] + e["dur"]
        while stack and (stack[-1].get("tid", 0) != e.get("tid", 0) or stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]):
            stack.pop()
        self_t[id(e)] = e["dur"]
        if stack:
            parent = stack[-1]
            self_t[id(parent)] -= min(e["dur"], parent["ts"] + parent["dur"] - e["ts"])
        stack.append(e)
    return evs, self_t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=20)
    a = ap.parse_args()
    with open(a.trace) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    totals = {e["name"][6:]: e["dur"] / 1e6 for e in events if e.get("name", "").startswith("Total ") and "dur" in e}
    evs, st = self_times([e for e in events if not e.get("name", "").startswith("Total ")])

    print("## Phase totals (s, inclusive; clang's own 'Total' events)")
    for k in ("ExecuteCompiler", "Frontend", "Source", "ParseClass", "InstantiateClass", "InstantiateFunction",
              "PerformPendingInstantiations", "CodeGen Function", "Backend", "OptModule", "CodeGenPasses",
              "OptFunction", "RunPass"):
        if k in totals:
            print("  %-30s %7.2f" % (k, totals[k]))

    by_header = defaultdict(float)
    by_family = defaultdict(float)
    by_inst = defaultdict(float)
    by_backend = defaultdict(float)
    kind_self = defaultdict(float)
    backend_events = []
    for e in evs:
        name, detail = e["name"], e.get("args", {}).get("detail", "")
        s = st[id(e)] / 1e6
        kind_self[name] += s
        if name == "Source":
            by_header[group_of_file(detail)] += s
        elif name in ("InstantiateFunction", "InstantiateClass"):
            by_family[family_of(detail)] += s
            by_inst[short(detail)] += s
        elif name in ("CodeGen Function", "OptFunction"):
            backend_events.append((name, detail, e["dur"] / 1e6))

    names = demangle_all({d for k, d, _ in backend_events if k == "OptFunction"})
    by_backend_family = defaultdict(float)
    for k, d, t in backend_events:
        full = names.get(d, d) if k == "OptFunction" else d
        by_backend[(k, short(full, 120))] += t
        by_backend_family[(k, family_of(full))] += t

    def table(title, d, n):
        print("\n## " + title)
        tot = sum(d.values())
        for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:n]:
            print("  %7.2f  %5.1f%%  %s" % (v, 100 * v / tot if tot else 0, k if isinstance(k, str) else " | ".join(k)))
        print("  %7.2f  total" % tot)

    table("Self time by event kind (s, exclusive)", kind_self, 15)
    table("Header parsing, exclusive, by library (s)", by_header, 25)
    table("Template instantiation, exclusive, by family (s)", by_family, 25)
    table("Top instantiations, exclusive (s)", by_inst, a.top)
    table("Backend by family (clang CodeGen Function = IR emission, OptFunction = per-function optimization; s)",
          by_backend_family, 40)
    table("Top backend functions (CodeGen / OptFunction, inclusive s)", by_backend, a.top)


if __name__ == "__main__":
    sys.exit(main())
