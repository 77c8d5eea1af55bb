#!/usr/bin/python3
"""grpo-study-summary: the table of the GRPO vs A-GRAE study (slurm/grpo-study.sbatch).

usage: grpo-study-summary.py FOLDER_OR_RESULTS.h5 ... [--hi 10] [--csv FILE]

Reads grpo result files (every *.h5 of a folder, or the files named), groups them by variant
(the file name before "-s<seed>", else the /grpo attributes advantage, agrae, alpha) and prints,
per variant, the mean and standard deviation over its runs of:
  @100, @300, @600  greedy solve rate on the evaluation distances <= hi (default: the run's
                    training distance_hi) after 100, 300 and 600 updates
  AUC               area under that curve over the run's evaluations, divided by the updates
                    (the mean solve rate over training; 1 = solved from the start)
  first>=0.9        the first evaluated update with a solve rate >= 0.9 (runs that never reach it
                    are counted apart: "(k never)")
  d=12, d=14        the final evaluation's greedy solve rate at distance 12 and 14
Runs of one variant are paired with the other variants' by seed (same initial weights, start
states and evaluation set).  Exit 2 when no result can be read.
"""

import math
import os
import re
import sys


def load(path, hi_override):
    import h5py
    with h5py.File(path, "r") as f:
        g = f["grpo"]
        ev = g["eval"][()]
        hi = hi_override or int(g.attrs.get("distance_hi", 10))
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
    curve = {}
    per_d = {}
    for row in ev:
        u, d = int(row["update"]), int(row["distance"])
        s, n = curve.get(u, (0, 0))
        if d <= hi:
            curve[u] = (s + int(row["solved"]), n + int(row["states"]))
        per_d[(u, d)] = int(row["solved"]) / int(row["states"])
    updates = sorted(curve)
    rate = {u: curve[u][0] / curve[u][1] for u in updates if curve[u][1]}
    name = os.path.basename(path)[:-3]
    m = re.match(r"(.*)-s(\d+)$", name)
    if m:
        variant, seed = m.group(1), int(m.group(2))
    else:
        variant = f"{attrs.get('advantage')}/{attrs.get('agrae')}/{attrs.get('alpha')}"
        seed = int(attrs.get("seed", 0))
    auc = 0.0
    for a, b in zip(updates, updates[1:]):
        auc += (b - a) * (rate[a] + rate[b]) / 2
    last = updates[-1] if updates else 0
    first = next((u for u in updates if rate[u] >= 0.9), None)
    return {
        "variant": variant, "seed": seed, "hi": hi,
        "at": {k: rate.get(k) for k in (100, 300, 600)},
        "auc": auc / last if last else float("nan"),
        "first": first,
        "d12": per_d.get((last, 12)), "d14": per_d.get((last, 14)),
    }


def stats(values):
    v = [x for x in values if x is not None and not math.isnan(x)]
    if not v:
        return "n/a"
    mean = sum(v) / len(v)
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return f"{mean:.3f} ± {sd:.3f}"


def main(argv):
    args, hi, csv = [], None, None
    while argv:
        a = argv.pop(0)
        if a == "--hi":
            hi = int(argv.pop(0))
        elif a == "--csv":
            csv = argv.pop(0)
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    files = []
    for a in args or ["results/grpo-study"]:
        if os.path.isdir(a):
            files += sorted(os.path.join(a, x) for x in os.listdir(a) if x.endswith(".h5"))
        else:
            files.append(a)
    runs = []
    for p in files:
        try:
            runs.append(load(p, hi))
        except Exception as e:  # a run still going, or not a grpo result: say so, go on
            print(f"grpo-study-summary: skipped {p}: {e}", file=sys.stderr)
    if not runs:
        print("grpo-study-summary: no grpo result could be read", file=sys.stderr)
        return 2
    order = ["grpo", "dr_grpo", "agrae", "agrae_sample"]
    variants = sorted({r["variant"] for r in runs},
                      key=lambda v: (order.index(v) if v in order else len(order), v))
    head = ["variant", "runs", "seeds", "@100", "@300", "@600", "AUC", "first>=0.9", "d=12",
            "d=14"]
    rows = []
    for v in variants:
        rs = [r for r in runs if r["variant"] == v]
        reached = [r["first"] for r in rs if r["first"] is not None]
        never = len(rs) - len(reached)
        first = stats([float(x) for x in reached]) if reached else "never"
        if reached and never:
            first += f" ({never} never)"
        rows.append([v, str(len(rs)), ",".join(str(r["seed"]) for r in sorted(rs, key=lambda r: r["seed"])),
                     stats([r["at"][100] for r in rs]), stats([r["at"][300] for r in rs]),
                     stats([r["at"][600] for r in rs]), stats([r["auc"] for r in rs]), first,
                     stats([r["d12"] for r in rs]), stats([r["d14"] for r in rs])])
    print(f"greedy solve rate on d <= {runs[0]['hi']} (mean ± sd over seeds)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if csv:
        with open(csv, "w") as out:
            out.write("variant,seed,at100,at300,at600,auc,first090,d12,d14\n")
            for r in runs:
                out.write(",".join(str(x) for x in (r["variant"], r["seed"], r["at"][100],
                                                    r["at"][300], r["at"][600], r["auc"],
                                                    r["first"], r["d12"], r["d14"])) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
