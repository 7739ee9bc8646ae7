// status.c: the names of pg_status values, read from one table.
#include "pygmu.h"

static const char *const names[] = {
    [PG_OK] = "ok",
    [PG_ERR_SYNTAX] = "syntax error",
    [PG_ERR_NAME] = "name error",
    [PG_ERR_ARG] = "argument error",
    [PG_ERR_CHANNELS] = "channel count mismatch",
    [PG_ERR_RATE] = "frame rate mismatch",
    [PG_ERR_EXTENT] = "indefinite extent",
    [PG_ERR_FILE] = "sound file error",
    [PG_ERR_LIMIT] = "resource limit",
    [PG_ERR_NOMEM] = "out of memory",
    [PG_ERR_IO] = "i/o error",
    [PG_ERR_INTERNAL] = "internal error",
    [PG_ERR_INTERRUPTED] = "interrupted",
};

const char *pg_status_str(pg_status s) {
    if ((unsigned)s < sizeof names / sizeof names[0] && names[s])
        return names[s];
    return "unknown status";
}
