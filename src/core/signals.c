/* Signal handling for runs (signals.h). */
#include "symbatch/signals.h"
#include "symbatch/error.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int handled[] = {SIGTERM, SIGUSR1, SIGINT};
#define NHANDLED   ((int)(sizeof handled / sizeof handled[0]))
#define NOTICE_MAX 160

struct sb_signals {
    struct sigaction previous[NHANDLED];
    int installed;
    int fd; /* where the handler writes its notice; -1: nowhere (every rank but 0) */
    char notice[NHANDLED][NOTICE_MAX];
    size_t notice_len[NHANDLED];
};

/* The only mutable static variables of the library: a signal handler can reach nothing else.
 * caught_signal: a volatile sig_atomic_t is the only object a handler may portably write.
 * active: the installed handle, whose prepared notice the handler prints; it is set before the
 * handlers go in and cleared after the previous ones are back, so no handler sees it change. */
static volatile sig_atomic_t caught_signal;
static const sb_signals *volatile active;

static int handled_index(int sig)
{
    for (int i = 0; i < NHANDLED; i++)
        if (handled[i] == sig)
            return i;
    return -1;
}

/* Async-signal-safe: reads the prepared notice, write(2), and errno put back as it was. */
static void on_signal(int sig)
{
    const sb_signals *s = active;
    const int i = handled_index(sig);
    if (!caught_signal && s && s->fd >= 0 && i >= 0) {
        const int saved = errno;
        ssize_t n = write(s->fd, s->notice[i], s->notice_len[i]);
        (void)n; /* nothing to do about a notice that could not be written */
        errno = saved;
    }
    caught_signal = sig;
}

static void prepare_notices(sb_signals *s, int fd, const char *unit)
{
    s->fd = fd;
    for (int i = 0; i < NHANDLED; i++) {
        int n =
            snprintf(s->notice[i], NOTICE_MAX,
                     "symbatch: %s received: writing a checkpoint at the end of the current "
                     "%s, then exiting with 75%s\n",
                     sb_signal_name(handled[i]), unit && unit[0] ? unit : "step",
                     handled[i] == SIGINT ? " (SIGINT again: stop at once, no checkpoint)" : "");
        s->notice_len[i] = n < 0 ? 0 : n < NOTICE_MAX ? (size_t)n : NOTICE_MAX - 1;
    }
}

int sb_signals_install_notify(sb_signals **out, int notify_fd, const char *unit)
{
    *out = NULL;
    if (active)
        return SB_EINTERNAL; /* one set of handlers at a time: the record is shared */
    sb_signals *s = calloc(1, sizeof *s);
    if (!s)
        return SB_ENOMEM;
    prepare_notices(s, notify_fd, unit);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* Blocked while a handler runs, so that two notices never interleave. */
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < NHANDLED; i++)
        sigaddset(&sa.sa_mask, handled[i]);
    caught_signal = 0;
    active = s;
    for (int i = 0; i < NHANDLED; i++) {
        /* SA_RESTART: MPI and file calls in progress continue where they were.  SIGINT is
         * one-shot: a user pressing Ctrl-C twice means "now". */
        sa.sa_flags = SA_RESTART | (handled[i] == SIGINT ? SA_RESETHAND : 0);
        if (sigaction(handled[i], &sa, &s->previous[i]) != 0) {
            sb_signals_restore(s);
            return SB_EINTERNAL;
        }
        s->installed = i + 1;
    }
    *out = s;
    return 0;
}

int sb_signals_install(sb_signals **out)
{
    return sb_signals_install_notify(out, -1, NULL);
}

void sb_signals_restore(sb_signals *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->installed; i++)
        sigaction(handled[i], &s->previous[i], NULL);
    active = NULL;
    free(s);
}

int sb_signals_caught(void)
{
    return caught_signal;
}

void sb_signals_clear(void)
{
    caught_signal = 0;
}

const char *sb_signal_name(int sig)
{
    switch (sig) {
    case SIGTERM:
        return "SIGTERM";
    case SIGUSR1:
        return "SIGUSR1";
    case SIGINT:
        return "SIGINT";
    default:
        return "a signal";
    }
}
