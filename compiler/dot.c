// dot.c: writes the graph reachable from a root in Graphviz dot form: one box per node
// with its kind, shape and source line, edges from inputs to consumers.
#include <stdio.h>
#include <stdlib.h>

#include "graph.h"

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
        fprintf(f, "  n%d [label=\"%s\\n%d ch, %d Hz\\n", id, n->kind->name,
                n->pn.out.channels, n->pn.out.frame_rate);
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
