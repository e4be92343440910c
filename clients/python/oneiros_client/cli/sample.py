"""``oneiros sample``: stream text at one or more temperatures (the chapter's experiment)."""

from __future__ import annotations

import argparse
import sys

from ._common import Command, make_client


def cmd_sample(args: argparse.Namespace) -> int:
    temperatures: list[float | None] = list(args.temperature or [None])
    runs: list[tuple[float | None, str, float, int, str]] = []
    out = sys.stdout
    with make_client(args) as client:
        for t in temperatures:
            label = "model default" if t is None else f"{t:g}"
            out.write(f"=== temperature {label} ===\n{args.prompt}")
            out.flush()
            texts: dict[int, list[str]] = {}
            stats = (0.0, 0, "")
            stream = client.sample_stream(
                args.prompt,
                model=args.model,
                max_tokens=args.max_tokens,
                temperature=t,
                top_k=args.top_k,
                top_p=args.top_p,
                seed=args.seed,
                stop=args.stop or (),
                n=1,
            )
            try:
                for chunk in stream:
                    texts.setdefault(chunk.index, []).append(chunk.text)
                    out.write(chunk.text)
                    out.flush()
                    if chunk.finish_reason:
                        stats = (chunk.mean_entropy_bits, chunk.token_count, chunk.finish_reason)
            finally:
                stream.close()
            entropy, tokens, reason = stats
            out.write(f"\n[mean entropy {entropy:.3f} bits/char, {tokens} chars, {reason or 'unfinished'}]\n\n")
            runs.append((t, "".join(texts.get(0, [])), entropy, tokens, reason))
    if len(runs) > 1:
        if args.markdown:
            print("| temperature | mean entropy (bits) | text |\n|---|---|---|")
            for t, text, entropy, _, _ in runs:
                cell = (args.prompt + text).replace("|", "\\|").replace("\n", " ")
                print(f"| {'default' if t is None else f'{t:g}'} | {entropy:.3f} | {cell} |")
        else:
            print(f"{'temperature':>11}  {'entropy (bits)':>14}  {'chars':>5}  finish")
            for t, _, entropy, tokens, reason in runs:
                print(f"{'default' if t is None else f'{t:g}':>11}  {entropy:>14.3f}  {tokens:>5}  {reason}")
    return 0


def add_commands(command: Command) -> None:
    p = command("sample", "generate text; several -t run the chapter's temperature experiment")
    p.add_argument("prompt")
    p.add_argument("-t", "--temperature", type=float, action="append", help="softmax temperature (repeatable)")
    p.add_argument("--model", default="")
    p.add_argument("--max-tokens", type=int, default=0, help="characters to generate (0 = model default)")
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--stop", action="append", help="stop sequence (repeatable)")
    p.add_argument("--markdown", action="store_true", help="end with a Markdown table of the runs")
    p.set_defaults(run=cmd_sample)
