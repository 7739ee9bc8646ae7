// submix.h: the planner's sub-mix pass (submix.c).
#ifndef PG_COMPILER_SUBMIX_H
#define PG_COMPILER_SUBMIX_H

#include "plan.h"

// Splits every large fused MixPE of plan p into materialised, cached sub-mixes. Returns the
// number of nodes added, or -1 when out of memory.
int plan_group_mixes(pg_plan *p);

#endif // PG_COMPILER_SUBMIX_H
