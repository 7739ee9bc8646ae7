// dot.c: writes the graph reachable from a root in Graphviz dot form: one box per node
// with its kind, shape and source line, edges from inputs to consumers.
#include <stdio.h>
#include <stdlib.h>

#include "graph.h"
#include "plan.h"

static void write_extent(FILE *f, pg_extent e) {
    if (e.start == PG_FRAME_MIN)
        fputs("[-inf", f);
    else
        fprintf(f, "[%lld", (long long)e.start);
    if (e.end == PG_FRAME_MAX)
        fputs(", inf)", f);
    else
        fprintf(f, ", %lld)", (long long)e.end);
}

pg_status pg_graph_write_dot(const pg_graph *g, int root, FILE *f) {
    int total = pg_graph_node_count(g);
    if (!graph_node(g, root))
        return PG_ERR_ARG;
    char *seen = calloc((size_t)total, 1);
    int *stack = malloc(sizeof(int) * (size_t)total);
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return PG_ERR_NOMEM;
    }
    fputs("digraph pygmuc {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n", f);
    int sp = 0;
    stack[sp++] = root;
    seen[root] = 1;
    while (sp > 0) {
        int id = stack[--sp];
        const gnode *n = graph_node(g, id);
        fprintf(f, "  n%d [label=\"%s\\n%d ch, %d Hz\\n", id, n->kind->name, n->pn.out.channels,
                n->pn.out.frame_rate);
        write_extent(f, n->pn.out.extent);
        if (n->loc.line)
            fprintf(f, "\\nline %d", n->loc.line);
        fprintf(f, "\"%s];\n", n->pn.flags & PE_F_STATEFUL ? ", style=rounded" : "");
        for (int s = 0; s < n->pn.n_inputs; s++) {
            fprintf(f, "  n%d -> n%d;\n", n->inputs[s], id);
            if (!seen[n->inputs[s]]) {
                seen[n->inputs[s]] = 1;
                stack[sp++] = n->inputs[s];
            }
        }
    }
    fputs("}\n", f);
    free(seen);
    free(stack);
    return ferror(f) ? PG_ERR_IO : PG_OK;
}

// ---- the plan, after the passes ---------------------------------------------------------

static void plan_label(FILE *f, const pg_plan *p, int i, const double *node_sec, double total) {
    const plan_node *n = &p->nodes[i];
    fprintf(f, "%s\\n%d ch, %d Hz\\n", n->pn.kind->name, n->pn.out.channels, n->pn.out.frame_rate);
    write_extent(f, n->pn.out.extent);
    if (n->loc.line)
        fprintf(f, "  line %d", n->loc.line);
    if (n->merged)
        fprintf(f, "\\nmerged with %d equal node%s", n->merged, n->merged > 1 ? "s" : "");
    if (n->materialise)
        fprintf(f, "\\nmaterialised [%lld, %lld)%s", (long long)n->mat.start, (long long)n->mat.end,
                n->cacheable ? ", cached" : "");
    if (n->fused)
        fputs("\\nfused", f);
    if (n->leaf)
        fputs(i == p->chunk_root ? "\\nchunk root" : "\\nsummed on its own", f);
    if (n->chain && p->n_chain)
        fputs("\\nmaster chain", f);
    if (n->seeks)
        fputs("\\nstreamed, primed wherever asked", f);
    if (node_sec)
        fprintf(f, "\\n%.2f ms (%.1f%%)", node_sec[0] * 1e3,
                total > 0 ? 100.0 * node_sec[0] / total : 0.0);
}

// Node colour by share of the measured time: white (none) to red (all).
static void cost_colour(FILE *f, double share) {
    int g = (int)(255.0 * (1.0 - (share > 1.0 ? 1.0 : share)));
    fprintf(f, ", style=filled, fillcolor=\"#ff%02x%02x\"", g, g);
}

pg_status pg_plan_write_dot(const pg_plan *p, const double *node_sec, FILE *f) {
    double total = 0.0;
    for (int i = 0; node_sec && i < p->n_nodes; i++)
        total += node_sec[i];
    fputs("digraph pygmuc {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n", f);
    for (int i = 0; i < p->n_nodes; i++) {
        const plan_node *n = &p->nodes[i];
        fprintf(f, "  n%d [label=\"", i);
        plan_label(f, p, i, node_sec ? &node_sec[i] : NULL, total);
        fputc('"', f);
        if (n->fused)
            fputs(", shape=ellipse", f);
        if (n->materialise)
            fputs(", peripheries=2", f);
        if (node_sec && total > 0)
            cost_colour(f, node_sec[i] / total);
        fputs("];\n", f);
        for (int s = 0; s < n->pn.n_inputs; s++)
            fprintf(f, "  n%d -> n%d;\n", n->inputs[s], i);
    }
    fputs("}\n", f);
    return ferror(f) ? PG_ERR_IO : PG_OK;
}
