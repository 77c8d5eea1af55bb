/* SIGTERM, SIGUSR1 and SIGINT during a run: the handler records the signal (and on rank 0 says
 * at once that it arrived); the step controller polls the record at step boundaries, where all
 * ranks agree to write a checkpoint and stop (exit 75).
 * Who sends what: Slurm sends SIGTERM at a time limit, scancel or preemption, and USR1 when asked
 * to (--signal).  Open MPI 4.1's mpirun forwards SIGUSR1 to every rank at once, but answers
 * SIGTERM and SIGINT (Ctrl-C) by sending the ranks SIGCONT, then SIGTERM after
 * odls_base_sigkill_timeout seconds (default 1), then SIGKILL after as long again, and exits 1
 * whatever the ranks did; the ranks never see SIGINT from it.  SIGINT reaches a rank directly
 * only without mpirun (a singleton run in a terminal). */
#ifndef SYMBATCH_SIGNALS_H
#define SYMBATCH_SIGNALS_H

/* The handlers that were in place before sb_signals_install, restored by sb_signals_restore,
 * and the notice the handler prints. */
typedef struct sb_signals sb_signals;

/* Installs handlers for SIGTERM, SIGUSR1 and SIGINT (sigaction, SA_RESTART) and clears the
 * record.  SIGINT's handler is one-shot (SA_RESETHAND): a second Ctrl-C stops the process at
 * once, without a checkpoint.  When notify_fd >= 0 (rank 0's stderr), the first signal caught
 * writes (write(2), async-signal-safe) a line prepared here:
 *   "symbatch: SIGTERM received: writing a checkpoint at the end of the current <unit>, then
 *   exiting with 75"
 * Returns 0, SB_ENOMEM, or SB_EINTERNAL when sigaction fails or another sb_signals is still
 * installed. */
int sb_signals_install_notify(sb_signals **out, int notify_fd, const char *unit);
/* sb_signals_install_notify without a notice. */
int sb_signals_install(sb_signals **out);
/* Puts the previous handlers back and frees the handle (NULL is fine). */
void sb_signals_restore(sb_signals *s);
/* The last signal caught since install or sb_signals_clear (0: none). */
int sb_signals_caught(void);
void sb_signals_clear(void);
/* "SIGTERM", "SIGUSR1", "SIGINT", or "a signal" for others. */
const char *sb_signal_name(int sig);

#endif
