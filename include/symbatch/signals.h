/* SIGTERM and SIGUSR1 during a run: the handler only records the signal; the BFS driver polls
 * the record at layer boundaries, where all ranks agree to write a checkpoint and stop (exit 75).
 * Slurm sends SIGTERM at a time limit or preemption, and USR1 when asked to (--signal). */
#ifndef SYMBATCH_SIGNALS_H
#define SYMBATCH_SIGNALS_H

/* The handlers that were in place before sb_signals_install, restored by sb_signals_restore. */
typedef struct sb_signals sb_signals;

/* Installs handlers for SIGTERM and SIGUSR1 (sigaction, SA_RESTART) and clears the record.
 * Returns 0, SB_ENOMEM, or SB_EINTERNAL when sigaction fails. */
int sb_signals_install(sb_signals **out);
/* Puts the previous handlers back and frees the handle (NULL is fine). */
void sb_signals_restore(sb_signals *s);
/* The last signal caught since install or sb_signals_clear (0: none). */
int sb_signals_caught(void);
void sb_signals_clear(void);
/* "SIGTERM", "SIGUSR1", or "a signal" for others. */
const char *sb_signal_name(int sig);

#endif
