// exec.h: the block executor's internals shared with the audio writer (aio.c). The public
// render API (pg_render_*) is in pygmu.h; pe_pull / pe_scratch / pe_error are in pe.h.
#ifndef PG_RUNTIME_EXEC_H
#define PG_RUNTIME_EXEC_H

#include "pe.h"
#include "pygmu.h"

// Monotonic seconds, for timing.
double exec_now_sec(void);
// The first frame the next pg_render_next call renders.
pg_frame exec_render_cursor(const pg_render *r);

#endif // PG_RUNTIME_EXEC_H
