"""The benchmark's figures as Markdown tables and PNG plots."""

from __future__ import annotations

from typing import Any

from zkml.bench.split import markdown as split_markdown
from zkml.layout import BenchLayout

ROWS = [("whole_prove_s", "whole-process prove (s)"), ("prove_s", "prove (s)"),
        ("prove_mb", "prove peak memory (MB)"), ("setup_s", "setup (s)"),
        ("setup_mb", "setup peak memory (MB)"), ("compile_s", "compile (s)"),
        ("verify_s", "verify (s)"), ("logrows", "logrows"), ("num_rows", "rows"),
        ("pk_bytes", "proving key (bytes)"), ("vk_bytes", "verifying key (bytes)"),
        ("proof_bytes", "proof (bytes)"), ("verifier_bytes", "verifier runtime (bytes)"),
        ("verify_gas", "gas of verifying once on-chain"), ("agreement", "agreement, held-out"),
        ("max_abs_error", "max |error|, held-out"),
        ("error_pct", "max |error|, % of the output's held-out spread"),
        ("commitment_overhead", "commitment overhead: prove with / without (goal <= 1.10)")]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(name: str, table: dict[str, Any]) -> list[str]:
    sides = [label for label in table if label != "zkml"]
    header = ["figure", "zkml", *[f"{s} (ratio {s} / zkml)" for s in sides]]
    lines = [f"\n### {name}\n", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    for key, label in ROWS:
        cells = [label, _fmt(table["zkml"].get(key))]
        for side in sides:
            ratio = table[side].get("ratio", {}).get(key)
            cells.append(f"{_fmt(table[side].get(key))} ({_fmt(ratio)}×)" if ratio
                         else _fmt(table[side].get(key)))
        lines.append("| " + " | ".join(cells) + " |")
    if "logrows_bound" in table["zkml"]:
        lines.append(f"\nlogrows bound ceil(log2(rows)) + 2 = {table['zkml']['logrows_bound']}"
                     f"; zkml: {table['zkml']['logrows']}.")
    return lines


def _errors(results: dict[str, Any]) -> list[str]:
    """zkml's error beside plain and hand-tuned ezkl's, every model, one table."""
    groups = {**results["models"], **results["lookups"], **results["large"]}
    if not groups:
        return []
    lines = ["\n## Error against the float model\n",
             "Max |circuit - float| on 50 held-out samples, and as % of the output's spread "
             "(p99 - p1 of the float outputs). zkml compiles inside its default error budget, "
             "0.5 % of the spread, with the least proving work.\n",
             "| model | zkml | plain ezkl | hand-tuned ezkl | zkml / plain ezkl (goal <= 3) |",
             "|---|---|---|---|---|"]

    def cell(side: dict[str, Any] | None) -> str:
        if not side or side.get("max_abs_error") is None:
            return "-"
        pct = side.get("error_pct")
        return f"{side['max_abs_error']:.3g}" + ("" if pct is None else f" ({pct:.3g} %)")

    for name, table in groups.items():
        ours, plain = table["zkml"], table.get("plain ezkl") or {}
        ratio = (ours["max_abs_error"] / plain["max_abs_error"]
                 if plain.get("max_abs_error") else None)
        lines.append(f"| {name} | {cell(ours)} | {cell(plain)} | "
                     f"{cell(table.get('hand-tuned ezkl'))} | {_fmt(ratio)} |")
    return lines


def _search(results: dict[str, Any]) -> list[str]:
    """Compile's search beside plain ezkl, per model, with the targets and the larger models'
    rows per layer."""
    rows = results.get("search") or {}
    if not rows:
        return []

    def circuit(side: dict[str, Any]) -> str:
        return (f"L{side['logrows']}, {side['num_inner_cols']} col + {side['tables']} tables, "
                f"{side['num_rows']:,} rows: {side['area']:,}")

    def seconds(side: dict[str, Any], step: str) -> str:
        cpu = side.get(f"{step}_cpu_s")
        return f"{side[f'{step}_s']:.2f} s" + (f" ({cpu:.1f} CPU)" if cpu else "")

    lines = ["\n## Compile's search beside plain ezkl\n",
             "zkml's `compile` (its search; the least area inside the default error budget) "
             "and plain ezkl's gen_settings + calibrate + compile with its defaults, on the "
             "same ONNX and calibration samples, each in its own process (time alone, and the "
             "CPU time of the process and its workers: other jobs stretch the first). Area: "
             "(inner columns + lookup and range-check tables) x 2^logrows. Whole-process prove: "
             "a fresh process proves one input (larger models: once).\n",
             "| model | zkml compile | plain ezkl compile | ratio (goal <= 2) | zkml circuit: area "
             "| plain ezkl circuit: area | plain / zkml area (goal >= 1) | zkml prove | plain "
             "ezkl prove | ratio | prove peak MB, zkml / plain | max \\|error\\| % of spread, "
             "zkml / plain |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        ours, plain = row["zkml"], row["plain ezkl"]
        lines.append(
            f"| {name} | {seconds(ours, 'compile')} | {seconds(plain, 'compile')} | "
            f"{ours['compile_s'] / plain['compile_s']:.2f} | {circuit(ours)} | "
            f"{circuit(plain)} | {plain['area'] / ours['area']:.2f} | "
            f"{ours['whole_prove_s']:.2f} s | {plain['whole_prove_s']:.2f} s | "
            f"{plain['whole_prove_s'] / ours['whole_prove_s']:.2f}x | "
            f"{ours['whole_prove_mb']:,.0f} / {plain['whole_prove_mb']:,.0f} | "
            f"{_fmt(ours['error_pct'])} / {_fmt(plain['error_pct'])} |")
    lines.append("\nWhat each search chose and built:\n")
    for name, row in rows.items():
        lines.append(f"- {name}: {row['search']['summary']}")
    for name, row in rows.items():
        if "profile" not in row:
            continue
        plain_cells = {layer["node"]: layer["cells"] for layer in row["profile"]["plain ezkl"]}
        lines += [f"\n**Where {name}'s rows come from** (cells at one inner column, per ONNX "
                  "node, at each circuit's own scale and decomposition):\n",
                  "| node | op | values out | zkml cells | plain ezkl cells |",
                  "|---|---|---|---|---|"]
        for layer in row["profile"]["zkml"]:
            lines.append(f"| {layer['node']} | {layer['op']} | {layer['elements'] or '-'} | "
                         f"{layer['cells']:,} | {_fmt(plain_cells.get(layer['node']))} |")
    return lines


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    parts = ", ".join(results.get("parts", []))
    lines = [f"# zkml benchmark\n\nOne `zkml bench` run ({parts}): "
             f"{results['seconds'] / 60:.1f} minutes on {machine['cpus']} CPUs, ezkl "
             f"{machine['ezkl']}. Each step ran in its own "
             f"process (time: median of {results['repeats']}; peak memory: the process and its "
             "workers). Plain ezkl: its Python API with its defaults on the same ONNX and the "
             "same private input; hand-tuned ezkl: settings chosen by hand for the model. A "
             "ratio above 1 means zkml is better (for agreement and error, equal is best). zkml "
             "publishes a salted commitment to the input (the registry keys results by it), and "
             "so does hand-tuned ezkl (ezkl's KZG commitment on zkml's salted graph); plain "
             "ezkl publishes nothing about the input, which is less work. zkml's gas is its one "
             "transaction that verifies and records; the others' is verifyProof alone."]
    if results["models"]:
        lines.append("\n## Bundled models")
        for name, table in results["models"].items():
            lines += _table(name, table)
    if results.get("optimize"):
        o = results["optimize"]
        cpu = "" if o.get("cpu_seconds") is None else f", {o['cpu_seconds']:.1f} s of CPU"
        lines.append(f"\n`compile --optimize time` on breast_cancer: {o['seconds']:.1f} s "
                     f"(whole process{cpu}; logrows {o['logrows']}); {o['choice']}.")
    if results.get("commitments"):
        lines += ["\n## Commitment schemes side by side\n",
                  "zkml with each commitment to the input (`--commitment kzg|poseidon`) and with "
                  "none (`--input-visibility private`), one subject per proof. Poseidon chip "
                  "rows: what ezkl's hashing needs, beside the model's rows (packing several "
                  "inputs per field element would shrink only these).\n",
                  "| model | scheme | logrows | rows | Poseidon chip rows | proving key (MB) | "
                  "prove (s) | prove peak (MB) | whole-process prove (s) | transaction gas |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, sides in results["commitments"].items():
            for label, c in sides.items():
                lines.append(f"| {name} | {label} | {c['logrows']} | {c['num_rows']:,} | "
                             f"{_fmt(c.get('hash_rows'))} | {c['pk_bytes'] / 1e6:,.1f} | "
                             f"{c['prove_s']:.2f} | {c['prove_mb']:,.0f} | "
                             f"{c['whole_prove_s']:.2f} | {_fmt(c.get('verify_gas'))} |")
    if results.get("long"):
        lines += ["\n## A subject longer than one commitment column\n",
                  "long_record: a 3,000-field record (its last 16 fields read), one subject "
                  "per proof, beside the default model. zkml's KZG layout keeps the logrows "
                  "compile chose and keys the subject by all of its points; one column per "
                  "subject raises logrows until the subject fits one; Poseidon hashes it.\n",
                  "| model | layout | logrows | subject's points | proving key (MB) | prove (s) "
                  "| prove peak (MB) | whole-process prove (s) | transaction gas |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, sides in results["long"].items():
            for label, c in sides.items():
                lines.append(f"| {name} | {label} | {c['logrows']} | {c['points'] or '-'} | "
                             f"{c['pk_bytes'] / 1e6:,.1f} | {c['prove_s']:.2f} | "
                             f"{c['prove_mb']:,.0f} | {c['whole_prove_s']:.2f} | "
                             f"{_fmt(c.get('verify_gas'))} |")
    if results["gas"]:
        lines += ["\n## N private inputs in one proof (breast_cancer)\n",
                  "zkml: `--batch N` with its defaults (the commitment scheme by N; the other "
                  "scheme at N = 4 and 10 for comparison); its one transaction verifies and "
                  "records N results, each under its own commitment; of which the verifier "
                  "alone, and the rest is the registry (about 25k per subject: 22,100 for the "
                  "subject's fresh storage slot, 2,524 for its event). Plain ezkl: its defaults "
                  "with N rows in one private input; its verifier only verifies.\n",
                  "| N | commitment | zkml logrows | zkml transaction gas | of which verifyProof "
                  "| zkml gas per inference | zkml prove (s) | zkml prove per inference (s) | "
                  "plain ezkl logrows | plain ezkl verify gas per inference | plain ezkl prove "
                  "(s) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for g in results["gas"]:
            scheme = g["commitment"] + ("" if g["default"] else " (not the default)")
            lines.append(f"| {g['subjects']} | {scheme} | {g['logrows']} | "
                         f"{g['transaction_gas']:,} | {g['verify_gas']:,} | "
                         f"{g['gas_per_inference']:,.0f} | {g['prove_s']:.2f} | "
                         f"{g['prove_s_per_inference']:.3f} | {g.get('plain_ezkl_logrows', '-')} "
                         f"| {_fmt(g.get('plain_ezkl_verify_gas_per_inference'))} | "
                         f"{_fmt(g.get('plain_ezkl_prove_s'))} |")
    if results["lookups"]:
        lines.append("\n## Lookup-heavy models")
        for name, table in results["lookups"].items():
            lines += _table(name, table)
    if results["large"]:
        lines.append("\n## Larger models")
        for name, table in results["large"].items():
            lines += _table(name, table)
        b = results.get("large_breakdown")
        if b:
            lines.append(f"\nWhere {b['model']}'s proof time goes (zkml's settings, raw ezkl "
                         f"calls): witness {b['witness_s']:.2f} s, proving (which reads the "
                         f"{b['pk_bytes'] / 1e6:.0f} MB proving key; reading it alone takes "
                         f"{b['pk_read_s']:.2f} s from the page cache) {b['prove_s']:.2f} s.")
    if results.get("versions"):
        lines += ["\n## A new model version: its own verifier or the shared one\n",
                  "Real transactions on Anvil. Own: the model's verifier deployed, then "
                  "addVersion; shared: addVersion with the model's VKA (stored as a data "
                  "contract's code and registered on ezkl's reusable verifier, which is "
                  "deployed once per chain: "
                  f"{_fmt(results['versions'][0]['shared_verifier_gas'])} gas). Submit: the one "
                  "transaction that verifies and records one result. verifyProof alone: a "
                  "transaction to the verifier (to the shared one the caller sends the VKA as "
                  "calldata; the registry reads it from its data contract instead).\n",
                  "| model | new version, own (verifier + addVersion) | new version, shared "
                  "(addVersion) | submit, own | submit, shared | verifyProof alone, own | "
                  "verifyProof alone, shared | own verifier pays for itself after |",
                  "|---|---|---|---|---|---|---|---|"]
        for v in results["versions"]:
            own, shared = v["own"], v["shared"]
            lines.append(
                f"| {v['model']} | {v['own_new_version_gas']:,} ({own['verifier_gas']:,} + "
                f"{own['version_gas']:,}) | {v['shared_new_version_gas']:,} | "
                f"{own['submit_gas']:,} | {shared['submit_gas']:,} "
                f"(+{v['extra_gas_per_submit']:,}) | {own['verify_gas']:,} | "
                f"{shared['verify_gas']:,} | {v['break_even_results']} results |")
    lines += _search(results)
    lines += split_markdown(results)
    lines += _errors(results)
    if results["sweep"]:
        lines += ["\n## Sweep over model size (zkml)\n",
                  "| model | logrows | rows | proving key (MB) | setup (s) | setup peak (MB) | "
                  "prove (s) | prove peak (MB) |", "|---|---|---|---|---|---|---|---|"]
        for s in results["sweep"]:
            lines.append(f"| {s['model']} | {s['logrows']} | {s['num_rows']:,} | "
                         f"{s['pk_bytes'] / 1e6:.1f} | {s['setup_s']:.2f} | "
                         f"{s['setup_peak_mb']:.0f} | {s['prove_s']:.2f} | "
                         f"{s['prove_peak_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def plots(results: dict[str, Any], out: BenchLayout) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {**results["models"], **results["lookups"], **results["large"]}
    if groups:
        names = list(groups)
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
        for ax, (key, label, scale) in zip(axes, [
                ("whole_prove_s", "whole-process prove (s)", 1),
                ("prove_mb", "prove peak memory (MB)", 1),
                ("pk_bytes", "proving key (MB)", 1e6)], strict=True):
            sides = ["zkml", "plain ezkl", "hand-tuned ezkl"]
            width = 0.8 / len(sides)
            for k, side in enumerate(sides):
                values = [(groups[n].get(side) or {}).get(key) for n in names]
                ax.bar([i + (k - 1) * width for i in range(len(names))],
                       [0 if v is None else v / scale for v in values], width, label=side)
            ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
            ax.set_title(label)
            ax.set_yscale("log")
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(out.versus_plot, dpi=110)
        plt.close(fig)
    gas = [g for g in results["gas"] if g["default"]]
    if gas:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        n = [g["subjects"] for g in gas]
        axes[0].plot(n, [g["gas_per_inference"] for g in gas], "o-",
                     label="zkml: verify and record")
        axes[0].plot(n, [g["verify_gas"] / g["subjects"] for g in gas], "^:",
                     label="of which zkml's verifier")
        axes[0].plot(n, [g.get("plain_ezkl_verify_gas_per_inference") for g in gas],
                     "s--", label="plain ezkl: verify only")
        axes[0].plot([10, 32], [60_000, 25_000], "x", color="grey", label="goals")
        axes[0].set_title("gas per verified inference")
        axes[0].set_yscale("log")
        axes[0].legend()
        axes[1].plot(n, [g["prove_s_per_inference"] for g in gas], "o-", label="zkml")
        axes[1].plot(n, [(g.get("plain_ezkl_prove_s") or 0) / g["subjects"] for g in gas],
                     "s--", label="plain ezkl")
        axes[1].set_title("proving time per inference (s)")
        for ax in axes:
            ax.set_xlabel("inputs per proof (N)")
            ax.set_xscale("log", base=2)
        fig.tight_layout()
        fig.savefig(out.gas_plot, dpi=110)
        plt.close(fig)
    if results["sweep"]:
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        for prefix, label in (("breast_cancer", "MLP 30-w-2 (w = 16, 64, 256)"),
                              ("digits", "CNN conv(c)-dense (c = 2, 4, 8)")):
            rows = sorted((s for s in results["sweep"] if s["model"].startswith(prefix)),
                          key=lambda s: s["num_rows"])
            for ax, key, scale in zip(axes, ("prove_s", "prove_peak_mb", "pk_bytes"),
                                      (1, 1, 1e6), strict=True):
                ax.plot([s["logrows"] for s in rows], [s[key] / scale for s in rows], "o-",
                        label=label)
        for ax, label in zip(axes, ("prove time (s)", "prove peak memory (MB)",
                                    "proving key (MB)"), strict=True):
            ax.set_xlabel("logrows")
            ax.set_title(label)
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(out.sweep_plot, dpi=110)
        plt.close(fig)
