"""A drawing of a nats-tss cell as a Graphviz DOT graph (rendered by st.graphviz_chart).

Nodes are the cell's feature maps (0 is the input, 3 the output); each edge carries one
op. ``none`` edges are drawn dotted and grey: they exist in the string but pass nothing.
"""

from __future__ import annotations

from tfnas_db.scoring.spaces.nats_tss import EDGES, parse_arch

OP_COLOURS = {
    "nor_conv_3x3": "#d62728",
    "nor_conv_1x1": "#ff7f0e",
    "avg_pool_3x3": "#1f77b4",
    "skip_connect": "#2ca02c",
    "none": "#bbbbbb",
}
NODE_LABELS = {0: "0 (input)", 1: "1", 2: "2", 3: "3 (output)"}


def cell_dot(arch_str: str) -> str:
    ops = parse_arch(arch_str)
    lines = [
        "digraph cell {",
        "  rankdir=LR;",
        '  node [shape=circle, style=filled, fillcolor="#f4f4f4", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=11];',
    ]
    for node, label in NODE_LABELS.items():
        lines.append(f'  n{node} [label="{label}"];')
    for (target, source), op in zip(EDGES, ops, strict=True):
        style = "dotted" if op == "none" else "solid"
        colour = OP_COLOURS[op]
        lines.append(
            f'  n{source} -> n{target} [label="{op}", color="{colour}", '
            f'fontcolor="{colour}", style={style}, penwidth=2];'
        )
    lines.append("}")
    return "\n".join(lines)
