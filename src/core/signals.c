/* Signal handling for runs (signals.h). */
#include "symbatch/signals.h"
#include "symbatch/error.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The one mutable static variable of the library: a signal handler can reach nothing else, and
 * a volatile sig_atomic_t is the only object it may portably write. */
static volatile sig_atomic_t caught_signal;

static const int handled[] = {SIGTERM, SIGUSR1};
#define NHANDLED ((int)(sizeof handled / sizeof handled[0]))

struct sb_signals {
    struct sigaction previous[NHANDLED];
    int installed;
};

static void on_signal(int sig)
{
    caught_signal = sig;
}

int sb_signals_install(sb_signals **out)
{
    *out = NULL;
    sb_signals *s = calloc(1, sizeof *s);
    if (!s)
        return SB_ENOMEM;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* MPI and file calls in progress continue where they were */
    sigemptyset(&sa.sa_mask);
    caught_signal = 0;
    for (int i = 0; i < NHANDLED; i++) {
        if (sigaction(handled[i], &sa, &s->previous[i]) != 0) {
            sb_signals_restore(s);
            return SB_EINTERNAL;
        }
        s->installed = i + 1;
    }
    *out = s;
    return 0;
}

void sb_signals_restore(sb_signals *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->installed; i++)
        sigaction(handled[i], &s->previous[i], NULL);
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
