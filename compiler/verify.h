// verify.h: `pygmuc verify`, the reference-audio checker (see verify.c).
#ifndef PG_COMPILER_VERIFY_H
#define PG_COMPILER_VERIFY_H

// Runs `pygmuc verify ARGS...` (argv[1] is "verify"); returns the exit status.
int verify_main(int argc, char **argv);

#endif // PG_COMPILER_VERIFY_H
