/* The command-line verbs.  main.c only initialises MPI and calls sb_cli_main. */
#include "symbatch/cli.h"

#include "symbatch/ckpt.h"
#include "symbatch/comm.h"
#include "symbatch/bsgs.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/gap.h"
#include "symbatch/io.h"
#include "symbatch/job.h"
#include "symbatch/perm.h"
#include "symbatch/run.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct cli_args {
    const char *verb;
    const char *file;
    const char *extra[2]; /* generators FAMILY N [K] */
    int nextra;
    sb_run_opts opts;
} cli_args;

static const char usage_text[] =
    "usage: symbatch <command> [options]\n"
    "\n"
    "commands:\n"
    "  run JOB.yaml [--output PATH] [--force] [--resume] [--quiet]\n"
    "                     run a job (collective: start it with mpirun or srun);\n"
    "                     --resume continues from OUTPUT.ckpt.h5 (any number of ranks)\n"
    "                     stopping with a checkpoint: on SIGUSR1, SIGTERM or SIGINT the ranks\n"
    "                     finish the current step (a layer), write OUTPUT.ckpt.h5 and exit 75\n"
    "                     - mpirun: kill -USR1 MPIRUN_PID (forwarded at once; mpirun exits 75);\n"
    "                       SIGTERM or Ctrl-C to Open MPI 4.1's mpirun reaches the ranks only\n"
    "                       after odls_base_sigkill_timeout s (default 1), SIGKILL follows as\n"
    "                       long after and mpirun exits 1: start it with\n"
    "                       `mpirun --mca odls_base_sigkill_timeout N` (N longer than a step)\n"
    "                     - Slurm: slurm/growth.sbatch asks for USR1 120 s before the limit\n"
    "                       (--signal=B:USR1@120) and forwards it; by hand:\n"
    "                       scancel --signal=USR1 --batch JOBID; Slurm's own SIGTERM (time\n"
    "                       limit, scancel) leaves KillWait seconds before SIGKILL\n"
    "  validate JOB.yaml [--output PATH] [--force]\n"
    "                     check a job without running it; print the effective job with\n"
    "                     defaults filled in and the memory estimate per rank\n"
    "  inspect RESULT.h5  print a human summary of a result or checkpoint file\n"
    "  generators [FAMILY N [K] | FILE.gap]\n"
    "                     list the generator families, or print one family's generators,\n"
    "                     or the generators of a file of GAP statements\n"
    "  --help, --version\n"
    "\n"
    "exit codes: 0 done, 1 runtime failure, 2 bad input (nothing written),\n"
    "            75 checkpointed after a signal (resubmit with --resume)\n";

/* Prints one message to err (nothing when err is NULL), with the bytes of user-given text that
 * are not valid UTF-8 written as \\xNN (sb_diag's escaping). */
static void say(FILE *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *err, const char *fmt, ...)
{
    if (!err)
        return;
    sb_diag d;
    sb_diag_init(&d);
    va_list ap;
    va_start(ap, fmt);
    sb_diag_vadd(&d, fmt, ap);
    va_end(ap);
    fputs(sb_diag_text(&d), err);
    sb_diag_free(&d);
}

/* Problems are printed by rank 0 only (err is NULL elsewhere). */
static int parse_args(int argc, char **argv, cli_args *a, FILE *err)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--output") == 0 || strcmp(s, "-o") == 0) {
            if (++i >= argc) {
                if (err)
                    say(err, "symbatch: %s needs a path", s);
                return SB_EINPUT;
            }
            a->opts.output_override = argv[i];
        } else if (strcmp(s, "--force") == 0) {
            a->opts.force = true;
        } else if (strcmp(s, "--resume") == 0) {
            a->opts.resume = true;
        } else if (strcmp(s, "--quiet") == 0 || strcmp(s, "-q") == 0) {
            a->opts.quiet = true;
        } else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            a->verb = "help";
        } else if (strcmp(s, "--version") == 0) {
            a->verb = "version";
        } else if (s[0] == '-' && s[1] != '\0' && !(s[1] >= '0' && s[1] <= '9')) {
            /* (no option starts with a digit: "-5" is a bad number for `generators`, refused
             * there with the family's range) */
            if (err)
                say(err, "symbatch: unknown option '%s' (see symbatch --help)", s);
            return SB_EINPUT;
        } else if (!a->verb) {
            a->verb = s;
        } else if (!a->file) {
            a->file = s;
        } else if (a->nextra < 2) {
            a->extra[a->nextra++] = s;
        } else {
            if (err)
                say(err, "symbatch: unexpected argument '%s'", s);
            return SB_EINPUT;
        }
    }
    if (!a->verb) {
        if (err)
            fputs(usage_text, err);
        return SB_EINPUT;
    }
    return 0;
}

/* Loads and checks a job the way `run` does before any work: the job file, the output path and
 * the memory budget.  Rank 0 prints every problem. */
static int load_checked(const cli_args *a, const sb_ctx *ctx, sb_job *job, sb_mem_estimate *est,
                        bool force, FILE *err)
{
    sb_diag diag;
    sb_diag_init(&diag);
    int rc = sb_job_load(job, a->file, ctx, &diag);
    if (!rc)
        rc = sb_job_check_budget(job, ctx, est, &diag);
    if (!rc) {
        const char *out = a->opts.output_override ? a->opts.output_override : job->output;
        rc = sb_job_check_output(job, out, force, ctx, &diag);
    }
    if (rc && ctx->rank == 0) {
        fputs(sb_diag_text(&diag), err);
        if (diag.count == 0)
            say(err, "symbatch: %s: %s", a->file, sb_strerror(rc));
    }
    sb_diag_free(&diag);
    return rc;
}

static void print_estimate(const sb_mem_estimate *est, uint64_t budget, int ranks, FILE *out)
{
    char per[32], total[32], have[32];
    sb_fmt_bytes(per, sizeof per, (double)est->bytes_per_rank);
    sb_fmt_bytes(total, sizeof total, (double)est->bytes_total);
    sb_fmt_bytes(have, sizeof have, (double)budget);
    fprintf(out, "# mode: %s%s%s\n", est->mode, est->note[0] ? " -- " : "", est->note);
    fprintf(out, "# memory estimate: %s per rank, %s over %d ranks%s\n", per, total, ranks,
            est->enforce ? "" : " (an upper bound)");
    fprintf(out, "#   %s\n", est->detail);
    fprintf(out, "# memory budget: %s per rank\n", have);
}

/* Rank 0, validate: what `run` would find at the output path and beside it.  The job itself is
 * valid, so these are a note and a warning, not a refusal. */
static void note_existing(const cli_args *a, const sb_job *job, FILE *err)
{
    const char *output = a->opts.output_override ? a->opts.output_override : job->output;
    char ckpt[4200];
    struct stat st;
    if (stat(output, &st) == 0 && !a->opts.force)
        say(err, "symbatch: note: output '%s' exists: run will refuse it without --force", output);
    else if (stat(output, &st) == 0)
        say(err, "symbatch: note: output '%s' exists: run --force will replace it", output);
    if (sb_ckpt_path(ckpt, sizeof ckpt, output) == 0 && stat(ckpt, &st) == 0 && !a->opts.force &&
        !a->opts.resume)
        say(err,
            "symbatch: warning: checkpoint '%s' exists: run will refuse to start without "
            "--resume (continue from it) or --force (start over)",
            ckpt);
}

static int cmd_validate(const cli_args *a, const sb_ctx *ctx, FILE *out, FILE *err)
{
    sb_job job;
    sb_mem_estimate est;
    /* An existing output is a note here, not an error: the job is valid (the other output
     * checks, and the job file as its own output, still refuse). */
    int rc = load_checked(a, ctx, &job, &est, true, err);
    if (rc)
        return rc;
    uint64_t budget = sb_job_budget(&job, ctx);
    if (ctx->rank == 0) {
        note_existing(a, &job, err);
        fprintf(out, "# %s: valid %s job\n", a->file, job.kind->name);
        sb_job_print(&job, out);
        if (job.kind->describe)
            job.kind->describe(&job, out);
        print_estimate(&est, budget, ctx->size, out);
    }
    sb_job_free(&job);
    return 0;
}

static int cmd_run(const cli_args *a, const sb_ctx *ctx, FILE *out, FILE *err)
{
    sb_job job;
    sb_mem_estimate est;
    int rc = load_checked(a, ctx, &job, &est, a->opts.force, err);
    if (rc)
        return rc;
    sb_run_opts opts = a->opts;
    opts.progress = err;
    opts.summary = out;
    opts.estimate = &est;
    rc = sb_job_run(&job, ctx, &opts);
    if (rc && ctx->rank == 0)
        say(err, "symbatch: %s: %s", a->file, sb_strerror(rc));
    sb_job_free(&job);
    return rc;
}

static int cmd_inspect(const cli_args *a, const sb_ctx *ctx, FILE *out, FILE *err)
{
    if (ctx->rank != 0)
        return 0;
    sb_diag diag;
    sb_diag_init(&diag);
    int rc = sb_job_inspect(a->file, out, &diag);
    if (rc)
        fputs(diag.count ? sb_diag_text(&diag) : "symbatch: inspect failed\n", err);
    sb_diag_free(&diag);
    return rc;
}

/* Sample n for the family table: small but inside the family's range. */
static int sample_n(const sb_family *f)
{
    int n = f->min_n > 6 ? f->min_n : 6;
    return n > f->max_n ? f->max_n : n;
}

static void list_families(FILE *out)
{
    fprintf(out, "%-24s %-34s %-9s %s\n", "family", "parameters", "gens(n=6)", "inverse-closed");
    for (const sb_family *const *f = sb_families(); *f; f++) {
        sb_genset gs;
        sb_diag d;
        sb_diag_init(&d);
        int n = sample_n(*f);
        if (sb_genset_family(&gs, (*f)->name, n, -1, &d) == 0) {
            char gens[16];
            snprintf(gens, sizeof gens, n == 6 ? "%d" : "%d (n=%d)", gs.ngens, n);
            fprintf(out, "%-24s %-34s %-9s %s\n", (*f)->name, (*f)->params, gens,
                    gs.inverse_closed ? "yes" : "no (directed growth)");
            sb_genset_free(&gs);
        } else {
            fprintf(out, "%-24s %-34s %-9s %s\n", (*f)->name, (*f)->params, "-", "-");
        }
        sb_diag_free(&d);
    }
    fprintf(
        out,
        "\nexplicit generators: growth.generators.explicit: [[1,2,0],[0,2,1]]\n"
        "GAP notation: growth.generators.cycles: [\"(1,2,3)\", \"(1,2)\"] or gap_file: FILE.gap\n"
        "action: new[i] = old[p[i]]; show one family: symbatch generators FAMILY N [K];\n"
        "show a GAP file's generators: symbatch generators FILE.gap\n");
}

/* A parameter of `generators`: 0 and the value for a whole decimal number from 0 to INT_MAX, 1
 * for what is no number, 2 for a number out of that range (strtol into an int would wrap
 * 4294967306 to 10, and a negative K would mean "the default"). */
static int parse_param(const char *text, int *value)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0')
        return 1;
    if (errno == ERANGE || v < 0 || v > INT_MAX)
        return 2;
    *value = (int)v;
    return 0;
}

static int show_family(const cli_args *a, FILE *out, FILE *err)
{
    int n = 0, k = -1;
    int bad_n = parse_param(a->extra[0], &n);
    int bad_k = a->nextra > 1 ? parse_param(a->extra[1], &k) : 0;
    if (bad_n == 1 || bad_k == 1) {
        say(err, "symbatch: generators: N and K must be integers");
        return SB_EINPUT;
    }
    const sb_family *fam = sb_family_find(a->file);
    if (fam && bad_n) {
        say(err, "symbatch: generators: %s: N must be an integer from %d to %d (got '%s')",
            fam->name, fam->min_n, fam->max_n, a->extra[0]);
        return SB_EINPUT;
    }
    if (fam && bad_k) {
        say(err, "symbatch: generators: %s: K must be an integer with %s (got '%s')", fam->name,
            fam->params, a->extra[1]);
        return SB_EINPUT;
    }
    sb_genset gs;
    sb_diag d;
    sb_diag_init(&d);
    int rc = sb_genset_family(&gs, a->file, n, k, &d);
    if (rc) {
        fprintf(err, "symbatch: generators: %s", sb_diag_text(&d));
        sb_diag_free(&d);
        return rc;
    }
    fprintf(out, "# %s n=%d k=%d: %d generators on states of %d elements, %s\n", gs.family, gs.n,
            gs.k, gs.ngens, gs.m, gs.inverse_closed ? "inverse-closed" : "not inverse-closed");
    char order[600];
    if (sb_group_order_string(gs.m, gs.ngens, gs.perm, order, sizeof order) == 0)
        fprintf(out, "# group order: %s\n", order);
    for (int g = 0; g < gs.ngens; g++) {
        fprintf(out, "%-12s [", gs.names[g]);
        for (int i = 0; i < gs.m; i++)
            fprintf(out, "%s%d", i ? "," : "", gs.perm[(size_t)g * gs.m + i]);
        fprintf(out, "]\n");
    }
    sb_genset_free(&gs);
    sb_diag_free(&d);
    return 0;
}

static void print_gap_set(const char *path, const sb_genset *gs, FILE *out)
{
    fprintf(out, "# %s: %d generators on %d points, %s\n", path, gs->ngens, gs->m,
            gs->inverse_closed ? "inverse-closed" : "not inverse-closed (directed growth)");
    fprintf(out, "# name, GAP cycles (1-based), row p (0-based: new[i] = old[p[i]])\n");
    for (int g = 0; g < gs->ngens; g++) {
        const uint8_t *p = gs->perm + (size_t)g * (size_t)gs->m;
        char cycles[1024];
        sb_gap_format(p, gs->m, cycles, sizeof cycles);
        fprintf(out, "%-12s %-24s [", gs->names[g], cycles);
        for (int i = 0; i < gs->m; i++)
            fprintf(out, "%s%d", i ? "," : "", p[i]);
        fprintf(out, "]\n");
    }
}

/* `generators FILE.gap`: the generators a GAP file defines, as a job would use them. */
static int show_gap_file(const char *path, FILE *out, FILE *err)
{
    sb_gap_set set;
    sb_gap_error e = {0};
    int m = 0;
    int rc = sb_gap_read(path, &set, &e);
    if (rc == 0)
        rc = sb_gap_degree(&set, 0, &m, &e);
    if (rc == SB_EINPUT && e.line > 0)
        say(err, "symbatch: generators: %s:%d:%d: %s", path, e.line, e.column, e.message);
    else if (rc == SB_EINPUT)
        say(err,
            "symbatch: generators: %s (no family of that name either; see symbatch "
            "generators)",
            e.message);
    sb_genset gs;
    sb_diag d;
    sb_diag_init(&d);
    if (rc == 0 && (rc = sb_gap_genset(&gs, &set, m, &d)) != 0)
        fprintf(err, "symbatch: generators: %s", sb_diag_text(&d));
    if (rc == 0) {
        print_gap_set(path, &gs, out);
        sb_genset_free(&gs);
    }
    sb_diag_free(&d);
    sb_gap_set_free(&set);
    return rc;
}

static int cmd_generators(const cli_args *a, const sb_ctx *ctx, FILE *out, FILE *err)
{
    if (ctx->rank != 0)
        return 0;
    if (!a->file) {
        list_families(out);
        return 0;
    }
    if (a->nextra < 1 && !sb_family_find(a->file))
        return show_gap_file(a->file, out, err);
    if (a->nextra < 1) {
        fprintf(err, "symbatch: usage: symbatch generators FAMILY N [K] | FILE.gap\n");
        return SB_EINPUT;
    }
    return show_family(a, out, err);
}

typedef int (*cli_cmd)(const cli_args *a, const sb_ctx *ctx, FILE *out, FILE *err);

static const struct {
    const char *verb;
    cli_cmd cmd;
    const char *takes; /* what the one file is, for "run takes one job file" */
} cli_verbs[] = {
    {"run", cmd_run, "job file"},
    {"validate", cmd_validate, "job file"},
    {"inspect", cmd_inspect, "result file"},
    {"generators", cmd_generators, NULL},
};

/* The verb is checked first, so that `symbatch frobnicate x.yaml` says that frobnicate is no
 * command rather than anything about x.yaml; a second file is refused, never ignored. */
static int dispatch(const cli_args *a, const sb_ctx *ctx, FILE *out, FILE *err)
{
    FILE *to = ctx->rank == 0 ? err : NULL;
    for (size_t i = 0; i < sizeof cli_verbs / sizeof cli_verbs[0]; i++) {
        if (strcmp(a->verb, cli_verbs[i].verb) != 0)
            continue;
        if (!cli_verbs[i].takes)
            return cli_verbs[i].cmd(a, ctx, out, err);
        if (!a->file) {
            say(to, "symbatch: %s needs a file (see symbatch --help)", a->verb);
            return SB_EINPUT;
        }
        if (a->nextra > 0) {
            say(to, "symbatch: %s takes one %s, got '%s' and '%s'%s", a->verb, cli_verbs[i].takes,
                a->file, a->extra[0], a->nextra > 1 ? " and more" : "");
            return SB_EINPUT;
        }
        return cli_verbs[i].cmd(a, ctx, out, err);
    }
    say(to,
        "symbatch: unknown command '%s'; commands: run, validate, inspect, generators "
        "(see symbatch --help)",
        a->verb);
    return SB_EINPUT;
}

int sb_cli_main(int argc, char **argv, MPI_Comm comm, FILE *out, FILE *err)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    cli_args a;
    if (parse_args(argc, argv, &a, rank == 0 ? err : NULL) != 0)
        return 2;
    if (strcmp(a.verb, "help") == 0) {
        if (rank == 0)
            fputs(usage_text, out);
        return 0;
    }
    if (strcmp(a.verb, "version") == 0) {
        if (rank == 0)
            fprintf(out, "symbatch %s (git %s)\nblas: %s\n", sb_version(), sb_git_commit(),
                    sb_blas_core() ? sb_blas_core() : "not OpenBLAS");
        return 0;
    }
    sb_ctx ctx;
    int init = sb_ctx_init(&ctx, comm);
    if (init == SB_EINPUT) {
        int size = 0;
        MPI_Comm_size(comm, &size);
        if (rank == 0)
            fprintf(err, "symbatch: %s (a test-only setting) must be an integer from 1 to %d\n",
                    SB_TEST_NODES_ENV, size);
        return sb_exit_code(init);
    }
    if (init != 0) {
        if (rank == 0)
            fprintf(err, "symbatch: cannot set up MPI communicators\n");
        return 1;
    }
    ctx.err = err;
    int rc = dispatch(&a, &ctx, out, err);
    sb_ctx_free(&ctx);
    return sb_exit_code(rc);
}
