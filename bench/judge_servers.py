"""Judge throughput on one vs two OpenAI-compatible servers (llama.cpp on a packaged model).

    PYTHONPATH=. python bench/judge_servers.py --model smollm2-135m --n 40 --threads 1

Starts two local servers (``red serve-judge``'s code), warms each with the worked-example
prefix, then sends the same N banking-style requests through OpenAIJudge with one server
and with both, and prints requests per second side by side. On one machine two servers
share its cores; the figure that matters for spare machines is one server's rate times
the number of machines.
"""

from __future__ import annotations

import argparse
import socket
import time

from red_app.judges.base import Example, JudgeRequest
from red_app.judges.openai_judge import OpenAIJudge
from red_app.judges.serve import start_server

TEXTS = ["my card has not arrived yet", "how do I top up by bank transfer", "why was I charged twice",
         "I lost my card yesterday", "can I change my PIN at an ATM", "the exchange rate looks wrong",
         "my transfer is still pending", "how long does a new card take", "cancel this payment please",
         "is there a fee for topping up"]
LABELS = [("card_arrival", "asks when a new card arrives", ("where is my card", "my card still hasn't come")),
          ("top_up_by_bank_transfer", "asks about topping up by bank transfer",
           ("top up from my bank", "bank transfer top up"))]


def requests(n: int) -> list[JudgeRequest]:
    out = []
    for i in range(n):
        label, desc, ex = LABELS[i % len(LABELS)]  # interleaved: the judge groups them by label
        out.append(JudgeRequest(f"s{i}", f"{TEXTS[i % len(TEXTS)]} ({i})", label, desc,
                                tuple(Example(f"e{k}", t) for k, t in enumerate(ex))))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rate(urls: list[str], model: str, reqs: list[JudgeRequest], per_server: int) -> tuple[float, dict]:
    judge = OpenAIJudge(urls=urls, model=model, concurrency=per_server * len(urls))
    t0 = time.perf_counter()
    verdicts = judge.judge_many(reqs)
    s = time.perf_counter() - t0
    assert all(v.error is None for v in verdicts), [v.error for v in verdicts if v.error][:3]
    return len(reqs) / s, judge.server_stats()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1, help="threads per server")
    ap.add_argument("--slots", type=int, default=1, help="slots per server")
    ap.add_argument("--urls", default=None, help="use these servers (comma-separated) instead of starting two here")
    a = ap.parse_args()
    if a.urls:
        urls = [u.strip() for u in a.urls.split(",")]
        model = a.model
    else:
        started = [start_server(a.model, free_port(), threads=a.threads, slots=a.slots) for _ in range(2)]
        urls, model = [u for _, u, _ in started], started[0][2]
    reqs = requests(a.n)
    rate(urls, model, requests(2 * len(urls)), a.slots)  # warm each server's prompt cache
    one, _ = rate(urls[:1], model, reqs, a.slots)
    two, stats = rate(urls[:2], model, reqs, a.slots)
    print(f"{a.n} requests, {model}, {a.threads} thread(s) and {a.slots} slot(s) per server")
    print(f"{'servers':>8} {'req/s':>8}")
    print(f"{1:>8} {one:>8.2f}")
    print(f"{len(urls[:2]):>8} {two:>8.2f}   (×{two / one:.2f})")
    for url, st in stats.items():
        print(f"  {url}: {st['requests']} requests, median {st['median_ms']} ms, {st['errors']} errors")


if __name__ == "__main__":
    main()
