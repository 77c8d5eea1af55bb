/* Errors are values: every library function returns 0 or a negative sb_err. */
#ifndef SYMBATCH_ERROR_H
#define SYMBATCH_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* name, value, exit code of the CLI, message.  Exit codes follow DESIGN.md:
 * 0 done, 1 runtime failure, 2 bad input (nothing written), 75 checkpointed after a signal. */
#define SB_ERR_MAP(X)                                                                              \
    X(SB_OK, 0, 0, "success")                                                                      \
    X(SB_EINPUT, -1, 2, "bad input")                                                               \
    X(SB_EEXIST, -2, 2, "output file exists (use --force to overwrite)")                           \
    X(SB_EBUDGET, -3, 2, "job needs more memory per rank than the budget")                         \
    X(SB_ECKPT, -4, 2, "checkpoint missing, damaged or from another job")                          \
    X(SB_ENOMEM, -5, 1, "out of memory")                                                           \
    X(SB_EIO, -6, 1, "I/O error")                                                                  \
    X(SB_EMPI, -7, 1, "MPI error")                                                                 \
    X(SB_EHDF5, -8, 1, "HDF5 error")                                                               \
    X(SB_ELIMIT, -9, 1, "internal limit exceeded")                                                 \
    X(SB_EPEER, -10, 1, "another rank failed")                                                     \
    X(SB_ESIGNAL, -11, 75, "stopped by a signal after writing a checkpoint")                       \
    X(SB_EINTERNAL, -12, 1, "internal error")                                                      \
    X(SB_EBUSY, -13, 2, "output in use by another run")

typedef enum {
#define SB_ERR_ENUM(name, value, exitcode, msg) name = value,
    SB_ERR_MAP(SB_ERR_ENUM)
#undef SB_ERR_ENUM
} sb_err;

const char *sb_strerror(int err);
const char *sb_err_name(int err);
/* The process exit code that the CLI uses for this error. */
int sb_exit_code(int err);

/* A diagnostics list: input problems are collected, not printed, so that rank 0 can report all
 * of them at once (and nothing at all is printed by the other ranks). */
typedef struct sb_diag {
    char *text; /* lines, each ending in '\n'; NUL-terminated; NULL while empty */
    size_t len, cap;
    int count;
} sb_diag;

void sb_diag_init(sb_diag *d);
void sb_diag_free(sb_diag *d);
/* Appends one line.  Formatting failures and out-of-memory are swallowed: a diagnostic must
 * never turn into a second error. */
void sb_diag_add(sb_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_diag_vadd(sb_diag *d, const char *fmt, va_list ap);
const char *sb_diag_text(const sb_diag *d);
/* Appends one line when d is not NULL and returns SB_EINPUT: `return sb_diag_fail(d, ...)`. */
int sb_diag_fail(sb_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
