"""HTML check speed: ``htmlcheck.run`` on generated mail, against the standard library's bare
HTML tokenizer on the same markup (the floor: every check parses once), in the same run.

    .venv/bin/python bench/html_check.py [--rounds 5]

Cases: a 90 KB newsletter (200 class rules, 400 styled rows), a 2 MB message of 120,000 tiny
elements (the size limit), and a hostile stylesheet (3,000 deep descendant rules over 200
nested divs). Prints the median time of each and its ratio to the bare parse.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from html.parser import HTMLParser

from mailsandbox.checks import htmlcheck


def newsletter() -> str:
    style = "".join(f".c{i} td {{ padding: {i % 9}px; color: #333 }}\n" for i in range(200))
    rows = "".join(
        f'<tr class="c{i % 200}"><td style="font-family:Arial;font-size:14px" width="300">'
        f'<a href="https://shop.example/p/{i}">Product {i}</a>'
        f'<img src="https://cdn.example/{i}.png" alt="p" width="100"></td></tr>'
        for i in range(400)
    )
    head = f'<html lang="en"><head><style>{style}</style></head>'
    return f"{head}<body><table>{rows}</table></body></html>"


def flat() -> str:
    return "<p>xxxxxxxxxx</p>" * 120_000


def hostile() -> str:
    rules = "".join(f"div div div div div div .c{i} {{ width: 1px }}\n" for i in range(3000))
    return f"<style>{rules}</style>" + "<div>" * 200 + '<span class="c1">x</span>' + "</div>" * 200


def median_ms(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bare_parse(markup: str) -> None:
    parser = HTMLParser()
    parser.feed(markup)
    parser.close()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--rounds", type=int, default=5)
    rounds = options.parse_args().rounds
    print(f"{'case':<12}{'KB':>7}{'bare parse ms':>15}{'html-check ms':>15}{'ratio':>8}")
    for name, make in (("newsletter", newsletter), ("flat 2 MB", flat), ("hostile", hostile)):
        markup = make()
        bare = median_ms(lambda m=markup: bare_parse(m), rounds)
        check = median_ms(lambda m=markup: htmlcheck.run(m), rounds)
        print(f"{name:<12}{len(markup) // 1024:>7}{bare:>15.0f}{check:>15.0f}{check / bare:>7.1f}x")


if __name__ == "__main__":
    main()
